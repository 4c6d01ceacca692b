// What a web console reads of an endpoint's traffic, through the REST API:
// its captures (filtered, one by id, exported as CSV and JSON lines) and
// their drift. A real `wharf server` runs the endpoint (variants blue and
// green, shadow dark, durable capture) and its replica captures real
// requests; each answer is compared with what the CLI says of the same
// store (`wharf capture export`, `wharf drift --json`).

#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "control_server_fixture.h"
#include "core/clock.h"
#include "testing/unused_port.h"
#include "testing/wait.h"

namespace wharf::testing {
namespace {

using namespace std::chrono_literals;

constexpr int kBatch = 20;  // requests in each of the two batches, a-0.. and b-0..
// How often a wait asks the server's API again: each look is a request.
constexpr std::chrono::milliseconds kLookEvery = 100ms;

// Every 8th row of the wine training set, without its label.
std::vector<std::vector<double>> WineRows() {
  std::ifstream in(WineDir() / "TrainingDataset.csv");
  std::vector<std::vector<double>> rows;
  std::string line;
  for (int i = 0; std::getline(in, line); ++i) {
    if (i == 0 || (i - 1) % 8 != 0) continue;
    std::vector<double> row;
    std::stringstream cells(line);
    for (std::string cell; std::getline(cells, cell, ';');) row.push_back(std::stod(cell));
    row.pop_back();
    rows.push_back(row);
  }
  return rows;
}

class EndpointCapturesTest : public ControlServerTest {
 protected:
  void SetUp() override {
    // `wharf model register` keeps its copies under $WHARF_HOME/models: this test's home.
    ::setenv("WHARF_HOME", home_.path().c_str(), 1);
    const ProcessResult trained = RunWharf({"train", "--train", (WineDir() / "TrainingDataset.csv").string(),
                                           "--estimator", "logistic", "--out", (work_.path() / "wine").string()});
    ASSERT_EQ(trained.exit_code, 0) << trained.err;
    for (int version = 1; version <= 3; ++version) {  // each variant serves its own version
      const ProcessResult registered =
          RunWharf({"model", "register", "wine", (work_.path() / "wine" / "Modelfile").string(), "--store", Db()});
      ASSERT_EQ(registered.exit_code, 0) << registered.err;
    }
    ASSERT_NO_FATAL_FAILURE(Start());
    const json spec = {{"name", "wine"},
                       {"port", port_},
                       {"variants", {{{"name", "blue"}, {"model", "wine@1"}}, {{"name", "green"}, {"model", "wine@2"}}}},
                       {"shadow", {{"name", "dark"}, {"model", "wine@3"}}},
                       {"capture", {{"mode", "durable"}}},
                       {"replicas", {{"min", 1}, {"cpus", 0.5}}}};
    CallJson("POST", "/api/endpoints", spec, 201);
    ASSERT_NO_FATAL_FAILURE(WaitReady());

    const auto rows = WineRows();
    HttpClient client(static_cast<std::uint16_t>(port_));
    Send(client, "a-", rows, 0);
    // FormatTimeUtc keeps milliseconds: the gaps keep each batch on its side.
    std::this_thread::sleep_for(5ms);
    between_ = FormatTimeUtc(NowMicros());
    std::this_thread::sleep_for(5ms);
    Send(client, "b-", rows, kBatch);
    // A shadow call is captured after its request is answered.
    const std::size_t shadowed = wharf::testing::WaitFor(
        [&] { return Captures("variant=dark&limit=1000").size(); },
        [](std::size_t captured) { return captured >= 2u * kBatch; }, kPatience, 50ms);
    EXPECT_GE(shadowed, 2u * kBatch) << "shadow calls captured";
  }

  // Replicas are tasks, which outlive the server: delete the endpoint first.
  void TearDown() override {
    if (server_ && server_->started()) {
      Call("DELETE", "/api/endpoints/wine");
      const auto none_live = [](const json& live) { return !live.contains("tasks") || live["tasks"].empty(); };
      const json live = wharf::testing::WaitFor(
          [&] { return json::parse(Call("GET", "/api/tasks?state=PENDING,RUNNING&limit=0").body, nullptr, false); },
          none_live, kPatience, kLookEvery);
      EXPECT_TRUE(none_live(live)) << "replicas still live after the endpoint was deleted: " << live.dump();
    }
    ControlServerTest::TearDown();
  }

  std::string Db() const { return (home_.path() / "wharf.db").string(); }

  void WaitReady() {
    const auto ready = [](const json& status) { return status.value("ready_replicas", 0) >= 1; };
    const json status = wharf::testing::WaitFor(
        [&] { return json::parse(Call("GET", "/api/endpoints/wine").body, nullptr, false); }, ready, kPatience,
        kLookEvery);
    ASSERT_TRUE(ready(status)) << "no replica ready: " << status.dump();
  }

  void Send(HttpClient& client, const std::string& prefix, const std::vector<std::vector<double>>& rows, int first) {
    for (int i = 0; i < kBatch; ++i) {
      const auto& row = rows[first + i];
      const json body = {{"id", prefix + std::to_string(i)},
                         {"inputs", {{{"name", "x"}, {"shape", {1, row.size()}}, {"datatype", "FP64"}, {"data", row}}}}};
      const HttpResult r = client.Post("/v2/models/wine/infer", body.dump());
      ASSERT_EQ(r.status, 200) << r.body;
    }
  }

  // GET .../captures?query: the "captures" array.
  json Captures(const std::string& query) {
    const HttpResult r = Call("GET", "/api/endpoints/wine/captures?" + query);
    EXPECT_EQ(r.status, 200) << query << ": " << r.body;
    const json body = json::parse(r.body, nullptr, false);
    return body.contains("captures") ? body["captures"] : json::array();
  }

  // `wharf capture export` or `wharf drift` on the server's store.
  ProcessResult Cli(std::vector<std::string> args) {
    args.insert(args.end(), {"--store", Db()});
    ProcessResult r = RunWharf(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r;
  }

  TempDir work_;
  const int port_ = UnusedPort();
  std::string between_;  // a time between the two batches
};

TEST_F(EndpointCapturesTest, FiltersFetchesAndExportsWhatTheReplicaCaptured) {
  const json all = Captures("limit=1000");
  ASSERT_EQ(all.size(), 4u * kBatch);  // each request and its shadow call
  for (std::size_t i = 1; i < all.size(); ++i) EXPECT_GE(all[i - 1]["time_us"], all[i]["time_us"]) << "newest first";
  const json newest = Captures("limit=3");
  ASSERT_EQ(newest.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(newest[i], all[i]);

  // Variants: the traffic split between blue and green, the shadow saw all of it.
  const json blue = Captures("variant=blue&limit=1000"), green = Captures("variant=green&limit=1000");
  EXPECT_GT(blue.size(), 0u);
  EXPECT_GT(green.size(), 0u);
  EXPECT_EQ(blue.size() + green.size(), 2u * kBatch);
  for (const auto& c : blue) EXPECT_EQ(c["variant"], "blue");
  for (const auto& c : green) EXPECT_EQ(c["variant"], "green");
  const json dark = Captures("variant=dark&limit=1000");
  EXPECT_EQ(dark.size(), 2u * kBatch);
  for (const auto& c : dark) EXPECT_EQ(c["shadow"], true);
  const json primary = Captures("shadow=false&limit=1000");
  EXPECT_EQ(primary.size(), 2u * kBatch);
  for (const auto& c : primary) EXPECT_EQ(c["shadow"], false);

  // Time: since is at or after, until strictly before.
  const json before = Captures("shadow=false&until=" + between_), after = Captures("shadow=false&since=" + between_);
  ASSERT_EQ(before.size(), static_cast<std::size_t>(kBatch));
  ASSERT_EQ(after.size(), static_cast<std::size_t>(kBatch));
  for (const auto& c : before) EXPECT_EQ(c["id"].get<std::string>().substr(0, 2), "a-");
  for (const auto& c : after) EXPECT_EQ(c["id"].get<std::string>().substr(0, 2), "b-");

  // One by id: the request (not its shadow call), its body embedded as JSON.
  json one = CallJson("GET", "/api/endpoints/wine/captures/a-3", nullptr, 200);
  EXPECT_EQ(one["id"], "a-3");
  EXPECT_EQ(one["shadow"], false);
  EXPECT_EQ(one["endpoint"], "wine");
  EXPECT_EQ(one["status"], 200);
  EXPECT_EQ(one["inputs"]["inputs"][0]["data"].size(), 11u) << one.dump();
  EXPECT_TRUE(one["outputs"].is_object()) << one.dump();
  EXPECT_TRUE(one["time"].get<std::string>().ends_with("Z"));
  EXPECT_EQ(Captures("id=a-3").size(), 2u);
  EXPECT_EQ(Call("GET", "/api/endpoints/wine/captures/nope").status, 404);

  // Exports are what `wharf capture export` writes of the same captures.
  HttpResult csv = Call("GET", "/api/endpoints/wine/captures?format=csv");
  EXPECT_EQ(csv.status, 200);
  EXPECT_EQ(csv.headers.at("content-type"), "text/csv; charset=utf-8");
  EXPECT_EQ(csv.body, Cli({"capture", "export", "--endpoint", "wine", "--format", "csv"}).out);
  const HttpResult jsonl = Call("GET", "/api/endpoints/wine/captures?format=jsonl&variant=green&until=" + between_);
  EXPECT_EQ(jsonl.status, 200);
  EXPECT_EQ(jsonl.headers.at("content-type"), "application/x-ndjson");
  EXPECT_EQ(jsonl.body, Cli({"capture", "export", "--endpoint", "wine", "--format", "jsonl", "--variant", "green",
                             "--until", between_})
                            .out);
  EXPECT_EQ(std::count(jsonl.body.begin(), jsonl.body.end(), '\n'),
            std::count_if(green.begin(), green.end(), [](const json& c) { return c["id"].get<std::string>()[0] == 'a'; }));
  const HttpResult two = Call("GET", "/api/endpoints/wine/captures?format=csv&limit=2");
  EXPECT_EQ(std::count(two.body.begin(), two.body.end(), '\n'), 3) << two.body;  // a header and the newest two

  // Bad parameters name themselves; an unknown endpoint is 404; no token, 401.
  for (const auto& [query, named] : std::vector<std::pair<std::string, std::string>>{
           {"limit=0", "limit"}, {"limit=10001", "limit"}, {"limit=x", "limit"}, {"shadow=maybe", "shadow"},
           {"format=xml", "format"}, {"since=yesterday", "since 'yesterday'"}, {"until=2026-13-01", "until"},
           {"since=1m&until=2m", "is not before"}, {"varient=blue", "varient"}}) {
    const HttpResult r = Call("GET", "/api/endpoints/wine/captures?" + query);
    EXPECT_EQ(r.status, 400) << query << ": " << r.body;
    EXPECT_NE(r.body.find(named), std::string::npos) << query << ": " << r.body;
  }
  EXPECT_EQ(Call("GET", "/api/endpoints/nope/captures").status, 404);
  EXPECT_EQ(Call("GET", "/api/endpoints/nope/captures/a-3").status, 404);
  EXPECT_EQ(http_->Request("GET", "/api/endpoints/wine/captures").status, 401);
  EXPECT_EQ(http_->Request("GET", "/api/endpoints/wine/captures/a-3").status, 401);
  EXPECT_EQ(http_->Request("GET", "/api/endpoints/wine/drift").status, 401);
}

TEST_F(EndpointCapturesTest, DriftIsWhatWharfDriftReportsOfTheSameRange) {
  const json all = CallJson("GET", "/api/endpoints/wine/drift", nullptr, 200);
  EXPECT_EQ(all, json::parse(Cli({"drift", "--endpoint", "wine", "--json"}).out));
  EXPECT_EQ(all["revision"], 1);
  EXPECT_EQ(all["captures"], 2 * kBatch) << "primary calls only";
  EXPECT_EQ(all["unparsed"], 0);
  EXPECT_EQ(all["features"].size(), 11u);

  const json green = CallJson("GET", "/api/endpoints/wine/drift?variant=green&revision=1&since=" + between_, nullptr, 200);
  EXPECT_EQ(green, json::parse(Cli({"drift", "--endpoint", "wine", "--json", "--variant", "green", "--revision", "1",
                                    "--since", between_})
                                   .out));
  EXPECT_EQ(green["variant"], "green");
  EXPECT_EQ(green["training"]["variant"], "green");
  EXPECT_EQ(green["captures"], Captures("variant=green&since=" + between_).size());

  for (const auto& [query, named] : std::vector<std::pair<std::string, std::string>>{
           {"revision=x", "revision"}, {"revision=0", "revision"}, {"since=yesterday", "since 'yesterday'"},
           {"since=1m&until=2m", "is not before"}, {"limit=3", "limit"}}) {
    const HttpResult r = Call("GET", "/api/endpoints/wine/drift?" + query);
    EXPECT_EQ(r.status, 400) << query << ": " << r.body;
    EXPECT_NE(r.body.find(named), std::string::npos) << query << ": " << r.body;
  }
  HttpResult r = Call("GET", "/api/endpoints/wine/drift?revision=7");
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(r.body.find("has no revision 7"), std::string::npos) << r.body;
  r = Call("GET", "/api/endpoints/wine/drift?variant=red");
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(r.body.find("its variants: blue, green"), std::string::npos) << r.body;
  EXPECT_EQ(Call("GET", "/api/endpoints/nope/drift").status, 404);
}

}  // namespace
}  // namespace wharf::testing
