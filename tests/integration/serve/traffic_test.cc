// Weighted A/B routing, sticky keys and shadow traffic.

#include <gtest/gtest.h>

#include <csignal>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "serve/serve_fixture.h"
#include "store/capture_store.h"
#include "store/location.h"
#include "testing/http_client.h"
#include "testing/server_process.h"

namespace wharf {
namespace {

using nlohmann::json;
using testing::HttpClient;
using testing::ServeModels;
using testing::ServerProcess;
using testing::TempDir;

std::string Config(const std::string& capture, bool shadow, const std::string& sticky = "") {
  std::string yaml = "endpoints:\n  - name: wine\n    variants:\n"
                     "      - {name: blue, model: " + ServeModels::Wine().string() + ", version: \"1\", weight: 70}\n"
                     "      - {name: green, model: " + ServeModels::WineXgb().string() + ", version: \"2\", weight: 30}\n";
  if (shadow) yaml += "    shadow: {name: next, model: " + ServeModels::WineXgb().string() + ", version: \"3\"}\n";
  if (!sticky.empty()) yaml += "    sticky_header: " + sticky + "\n";
  yaml += "    capture: {mode: " + capture + "}\n";
  return yaml;
}

std::unique_ptr<ServerProcess> Serve(const TempDir& dir, const std::string& yaml) {
  const auto config = dir.Write("endpoint.yaml", yaml);
  return std::make_unique<ServerProcess>(std::vector<std::string>{
      "serve", "--config", config.string(), "--port", "0", "--threads", "2", "--db", (dir.path() / "wharf.db").string()});
}

TEST(TrafficTest, SplitsTrafficByWeightWithinThreePercent) {
  TempDir dir;
  auto server = Serve(dir, Config("off", false));
  ASSERT_TRUE(server->started()) << server->output();
  HttpClient client(server->port());
  std::map<std::string, int> versions;
  constexpr int kRequests = 10000;
  for (int i = 0; i < kRequests; ++i) {
    auto r = client.Post("/v2/models/wine/infer", testing::WineInferBody());
    ASSERT_EQ(r.status, 200) << r.body;
    ++versions[json::parse(r.body)["model_version"].get<std::string>()];
  }
  EXPECT_NEAR(versions["1"] / double(kRequests), 0.70, 0.03);
  EXPECT_NEAR(versions["2"] / double(kRequests), 0.30, 0.03);
}

TEST(TrafficTest, AStickyKeyAlwaysGetsTheSameVariant) {
  TempDir dir;
  auto server = Serve(dir, Config("off", false, "X-User-Id"));
  ASSERT_TRUE(server->started()) << server->output();
  HttpClient client(server->port());
  std::map<std::string, int> variety;
  for (int user = 0; user < 200; ++user) {
    std::set<std::string> seen;
    for (int i = 0; i < 10; ++i) {
      auto r = client.Post("/v2/models/wine/infer", testing::WineInferBody(),
                           {{"X-User-Id", "user-" + std::to_string(user)}});
      ASSERT_EQ(r.status, 200);
      seen.insert(json::parse(r.body)["model_version"].get<std::string>());
    }
    ASSERT_EQ(seen.size(), 1u) << "user " << user;
    ++variety[*seen.begin()];
  }
  EXPECT_GT(variety["1"], 100);  // keys still follow the 70/30 weights overall
  EXPECT_GT(variety["2"], 30);
}

TEST(TrafficTest, ShadowAnswersAreCapturedButNeverReturned) {
  TempDir dir;
  auto server = Serve(dir, Config("durable", true));
  ASSERT_TRUE(server->started()) << server->output();
  HttpClient client(server->port());
  std::map<std::string, std::string> answers;
  for (int i = 0; i < 200; ++i) {
    const std::string id = std::to_string(i) + "s";
    auto r = client.Post("/v2/models/wine/infer", testing::WineInferBody(id));
    ASSERT_EQ(r.status, 200);
    const auto version = json::parse(r.body)["model_version"].get<std::string>();
    EXPECT_NE(version, "3") << "the shadow answered";
    answers[id] = r.body;
  }
  ASSERT_EQ(server->Stop(SIGTERM), 0) << server->output();  // flushes the shadow captures

  auto store = store::OpenCaptureStore(store::CaptureLocation((dir.path() / "wharf.db").string()));
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto rows = (*store)->Query({.endpoint = "wine", .limit = 0});
  ASSERT_TRUE(rows.ok());
  int shadows = 0, primaries = 0;
  for (const auto& row : *rows) {
    if (row.shadow) {
      ++shadows;
      EXPECT_EQ(row.variant, "next");
      EXPECT_EQ(row.model_version, "3");
    } else {
      ++primaries;
      EXPECT_EQ(row.outputs, answers[row.id]) << "capture differs from what was returned";
    }
  }
  EXPECT_EQ(primaries, 200);
  EXPECT_EQ(shadows, 200);
}

}  // namespace
}  // namespace wharf
