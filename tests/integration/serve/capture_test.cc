// Request capture: what is stored equals what was returned; durable mode
// never loses an acknowledged request, even to kill -9; the classic
// /run/ + /output/<id>/ pair.

#include <gtest/gtest.h>

#include <atomic>
#include <csignal>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "serve/serve_fixture.h"
#include "store/capture_store.h"
#include "store/location.h"
#include "testing/http_client.h"
#include "testing/server_process.h"
#include "testing/wait.h"

namespace wharf {
namespace {

using nlohmann::json;
using testing::HttpClient;
using testing::ServeModels;
using testing::ServerProcess;
using testing::TempDir;

std::unique_ptr<ServerProcess> ServeIris(const TempDir& dir, const std::string& capture, double sample = 100) {
  const auto config = dir.Write("iris.yaml", "endpoints:\n  - name: iris\n    variants:\n      - {name: v1, model: " +
                                                  ServeModels::Iris().string() + ", version: \"1\"}\n"
                                                  "    aliases: {pental_length: petal_length, pental_width: petal_width}\n"
                                                  "    capture: {mode: " + capture + ", sample_percent: " +
                                                  std::to_string(sample) + "}\n");
  return std::make_unique<ServerProcess>(std::vector<std::string>{
      "serve", "--config", config.string(), "--port", "0", "--threads", "2", "--db", (dir.path() / "wharf.db").string()});
}

std::vector<std::string> IrisRequests() {
  std::vector<std::string> bodies;
  for (int i = 0; i < 150; ++i) {
    std::ifstream in(testing::SourceDir() / "examples" / "iris" / "requests" / ("request_" + std::to_string(i) + ".json"));
    if (!in) break;
    bodies.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  return bodies;
}

TEST(CaptureTest, ClassicRunThenOutputReturnsTheStoredAnswer) {
  TempDir dir;
  auto server = ServeIris(dir, "async");
  ASSERT_TRUE(server->started()) << server->output();
  HttpClient client(server->port());
  const auto bodies = IrisRequests();
  ASSERT_EQ(bodies.size(), 150u);
  for (const auto& body : bodies) {
    auto run = client.Post("/run/", body);
    ASSERT_EQ(run.status, 200) << run.body;
    const auto answer = json::parse(run.body);
    const std::string output = answer["output"];
    EXPECT_TRUE(output == "setosa" || output == "versicolor" || output == "virginica") << output;
    const auto id = json::parse(body)["id"];
    EXPECT_EQ(answer["id"], id);
    auto stored = client.Get("/output/" + id.dump() + "/");
    ASSERT_EQ(stored.status, 200) << stored.body;
    EXPECT_EQ(json::parse(stored.body)["output"], answer["output"]);  // the class name, as the classic app stored it
    EXPECT_EQ(json::parse(stored.body)["model_version"], "1");
  }
}

TEST(CaptureTest, ClassicRunRequiresEveryModelColumn) {
  TempDir dir;
  auto server = ServeIris(dir, "async");
  ASSERT_TRUE(server->started()) << server->output();
  HttpClient client(server->port());
  auto r = client.Post("/run/", R"({"id": 1, "inputs": {"sepal_length": 5.1, "sepal_width": 3.5, "pental_length": 1.4}})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("petal_width"), std::string::npos) << r.body;
}

TEST(CaptureTest, OutputExplainsWhyNothingWasStored) {
  TempDir dir;
  auto off = ServeIris(dir, "off");
  ASSERT_TRUE(off->started()) << off->output();
  HttpClient client(off->port());
  ASSERT_EQ(client.Post("/run/", IrisRequests()[0]).status, 200);
  auto r = client.Get("/output/0/");
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(r.body.find("capture is off"), std::string::npos) << r.body;

  TempDir other;
  auto sampled = ServeIris(other, "async", 0);
  ASSERT_TRUE(sampled->started()) << sampled->output();
  HttpClient second(sampled->port());
  ASSERT_EQ(second.Post("/run/", IrisRequests()[0]).status, 200);
  auto s = second.Get("/output/0/");
  EXPECT_EQ(s.status, 404);
  EXPECT_NE(s.body.find("samples 0%"), std::string::npos) << s.body;
}

TEST(CaptureTest, DurableModeKeepsEveryAcknowledgedRequestThroughKillNine) {
  TempDir dir;
  const auto config = dir.Write("wine.yaml", "endpoints:\n  - name: wine\n    variants:\n      - {name: a, model: " +
                                                  ServeModels::Wine().string() + "}\n    capture: {mode: durable}\n");
  ServerProcess server({"serve", "--config", config.string(), "--port", "0", "--threads", "2", "--db",
                        (dir.path() / "wharf.db").string()});
  ASSERT_TRUE(server.started()) << server.output();

  std::mutex mu;
  std::set<std::string> acknowledged;
  std::atomic<bool> stop{false};
  std::vector<std::thread> clients;
  for (int t = 0; t < 4; ++t) {
    clients.emplace_back([&, t] {
      HttpClient client(server.port());
      for (int i = 0; !stop; ++i) {
        const std::string id = "t" + std::to_string(t) + "-" + std::to_string(i);
        auto r = client.Post("/v2/models/wine/infer", testing::WineInferBody(id));
        if (r.status == 200) {
          std::lock_guard lock(mu);
          acknowledged.insert(id);
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  // However slow the machine, enough acknowledged requests to prove something.
  testing::WaitUntil([&] {
    std::lock_guard lock(mu);
    return acknowledged.size() > 100u;
  });
  server.Stop(SIGKILL);
  stop = true;
  for (auto& c : clients) c.join();
  ASSERT_GT(acknowledged.size(), 100u);

  auto store = store::OpenCaptureStore(store::CaptureLocation((dir.path() / "wharf.db").string()));
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  std::set<std::string> stored;
  ASSERT_TRUE((*store)->ForEach({.endpoint = "wine", .limit = 0}, [&](const store::CaptureRecord& r) {
                          stored.insert(r.id);
                          return Status::Ok();
                        }).ok());
  for (const auto& id : acknowledged) ASSERT_TRUE(stored.count(id)) << id << " was acknowledged but not stored";
}

TEST(CaptureTest, SigtermFinishesInFlightRequestsAndFlushesAsyncCapture) {
  TempDir dir;
  const auto config = dir.Write("wine.yaml", "endpoints:\n  - name: wine\n    variants:\n      - {name: a, model: " +
                                                  ServeModels::Wine().string() + "}\n    capture: {mode: async}\n");
  ServerProcess server({"serve", "--config", config.string(), "--port", "0", "--threads", "2", "--db",
                        (dir.path() / "wharf.db").string()});
  ASSERT_TRUE(server.started()) << server.output();
  std::atomic<int> ok{0};
  std::atomic<bool> stop{false};
  std::thread client([&] {
    HttpClient c(server.port());
    while (!stop) {
      if (c.Post("/v2/models/wine/infer", testing::WineInferBody()).status == 200) ++ok;
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(server.Stop(SIGTERM), 0) << server.output();
  stop = true;
  client.join();
  auto store = store::OpenCaptureStore(store::CaptureLocation((dir.path() / "wharf.db").string()));
  ASSERT_TRUE(store.ok());
  auto rows = (*store)->Query({.endpoint = "wine", .limit = 0});
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(static_cast<int>(rows->size()), ok.load()) << "every answered request is captured once";
}

}  // namespace
}  // namespace wharf
