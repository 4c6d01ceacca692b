// Endpoints managed by `wharf server`: apply makes revisions, replicas run as
// tasks under the reconciler, a new revision and a rollback reach the
// replicas while clients keep sending requests (none may fail), and a
// replica killed with -9 is replaced.

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "testing/http_client.h"
#include "testing/process.h"
#include "testing/server_process.h"
#include "testing/temp_dir.h"

namespace wharf::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;

constexpr char kRow[] =
    R"({"inputs":[{"name":"x","shape":[1,11],"datatype":"FP32","data":[7.4,0.7,0,1.9,0.076,11,34,0.9978,3.51,0.56,9.4]}]})";

std::string Trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  return s;
}

class EndpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Two model versions in the server's registry: logistic (1) and xgboost (2, alias production).
    for (const auto& [estimator, out] : {std::pair{"logistic", "m1"}, std::pair{"xgboost", "m2"}}) {
      const ProcessResult trained =
          RunWharf({"train", "--train", (WineDir() / "TrainingDataset.csv").string(), "--validation",
                    (WineDir() / "ValidationDataset.csv").string(), "--estimator", estimator, "--out",
                    (work_.path() / out).string()});
      ASSERT_EQ(trained.exit_code, 0) << trained.err;
    }
    const std::string db = (home_.path() / "wharf.db").string();
    ASSERT_EQ(RunWharf({"model", "register", "wine", (work_.path() / "m1" / "Modelfile").string(), "--store", db})
                  .exit_code,
              0);
    ASSERT_EQ(RunWharf({"model", "register", "wine", (work_.path() / "m2" / "Modelfile").string(), "--store", db,
                        "--alias", "production"})
                  .exit_code,
              0);
    server_ = std::make_unique<ServerProcess>(
        std::vector<std::string>{"server", "--home", home_.path().string(), "--port", "0", "--cpus", "2"});
    ASSERT_TRUE(server_->started()) << server_->output();
    token_ = Trim(ReadFile(home_.path() / "server.token"));
    http_ = std::make_unique<HttpClient>(server_->port());
  }

  void TearDown() override {
    if (server_ && server_->started()) Call("DELETE", "/api/endpoints/wine");
    // Replicas are tasks: wait until the reconciler has stopped them.
    for (int i = 0; i < 100 && server_ && server_->started(); ++i) {
      const json live = json::parse(Call("GET", "/api/tasks?state=PENDING,RUNNING&limit=0").body, nullptr, false);
      if (!live.contains("tasks") || live["tasks"].empty()) break;
      std::this_thread::sleep_for(100ms);
    }
  }

  HttpResult Call(const std::string& method, const std::string& path, const std::string& body = "") {
    return http_->Request(method, path, body, {{"Authorization", "Bearer " + token_}});
  }

  json Spec(const std::string& variant, const std::string& model) const {
    return {{"name", "wine"},
            {"port", port_},
            {"variants", {{{"name", variant}, {"model", model}}}},
            {"capture", {{"mode", "async"}}},
            {"replicas", {{"min", 2}, {"cpus", 0.5}}}};
  }

  // Polls the endpoint until `min_ready` replicas serve `revision`; returns its status.
  json WaitServing(int revision, int min_ready, std::chrono::seconds timeout = 60s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    json status;
    while (std::chrono::steady_clock::now() < deadline) {
      status = json::parse(Call("GET", "/api/endpoints/wine").body, nullptr, false);
      int ready = 0;
      for (const auto& r : status.value("replicas", json::array())) {
        ready += r["ready"] == true && r["revision"] == revision ? 1 : 0;
      }
      if (ready >= min_ready && status["replicas"].size() == static_cast<std::size_t>(min_ready)) return status;
      std::this_thread::sleep_for(100ms);
    }
    ADD_FAILURE() << "revision " << revision << " not served by " << min_ready << " replicas: " << status.dump();
    return status;
  }

  TempDir home_, work_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<HttpClient> http_;
  std::string token_;
  // The endpoint's port, shared by its replicas: one per test process (ctest runs tests in parallel).
  int port_ = 20000 + static_cast<int>(::getpid() % 20000);
};

TEST_F(EndpointTest, ApplyAndRollbackUnderLoadAnswerEveryRequestAndAKilledReplicaIsReplaced) {
  HttpResult applied = Call("POST", "/api/endpoints", Spec("blue", "wine@1").dump());
  ASSERT_EQ(applied.status, 201) << applied.body;
  EXPECT_EQ(json::parse(applied.body)["revision"], 1);
  EXPECT_EQ(Call("POST", "/api/endpoints", Spec("blue", "wine@1").dump()).status, 200) << "unchanged: no new revision";
  WaitServing(1, 2);

  // Clients keep sending while revisions change under them.
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0}, failed{0};
  std::vector<std::string> failures;
  std::mutex failures_mu;
  std::vector<std::thread> clients;
  for (int c = 0; c < 4; ++c) {
    clients.emplace_back([&] {
      HttpClient client(static_cast<std::uint16_t>(port_));
      while (!stop.load()) {
        const HttpResult r = client.Post("/v2/models/wine/infer", kRow);
        if (r.status == 200) {
          ++ok;
        } else {
          ++failed;
          std::lock_guard lock(failures_mu);
          failures.push_back(std::to_string(r.status) + " " + r.body);
        }
      }
    });
  }
  std::this_thread::sleep_for(500ms);
  applied = Call("POST", "/api/endpoints", Spec("green", "wine@production").dump());
  ASSERT_EQ(applied.status, 201) << applied.body;
  EXPECT_EQ(json::parse(applied.body)["resolved"]["models"]["green"], "wine@2");
  WaitServing(2, 2);
  std::this_thread::sleep_for(300ms);
  const HttpResult rolled = Call("POST", "/api/endpoints/wine/rollback");
  ASSERT_EQ(rolled.status, 201) << rolled.body;
  EXPECT_EQ(json::parse(rolled.body)["reason"], "rollback to 1");
  WaitServing(3, 2);
  std::this_thread::sleep_for(300ms);
  stop = true;
  for (auto& t : clients) t.join();
  EXPECT_GT(ok.load(), 100);
  EXPECT_EQ(failed.load(), 0) << (failures.empty() ? "" : failures.front());

  // The served version is the rolled-back one.
  HttpClient client(static_cast<std::uint16_t>(port_));
  EXPECT_EQ(json::parse(client.Post("/v2/models/wine/infer", kRow).body)["model_version"], "1");

  // kill -9 one replica: the reconciler starts another.
  const json before = WaitServing(3, 2);
  const std::string victim = before["replicas"][0]["task_id"];
  const json announce = json::parse(ReadFile(home_.path() / "artifacts" / "tasks" / victim / "replica.json"));
  ASSERT_EQ(::kill(announce["pid"].get<int>(), SIGKILL), 0);
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  json after;
  while (std::chrono::steady_clock::now() < deadline) {
    after = WaitServing(3, 2);
    if (after["restarts"] == 1 && after["replicas"][0]["task_id"] != victim) break;
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(after["restarts"], 1) << after.dump();
  for (const auto& r : after["replicas"]) EXPECT_NE(r["task_id"], victim);

  // Metrics aggregate every replica; events tell what happened.
  const json metrics = json::parse(Call("GET", "/api/endpoints/wine/metrics").body);
  EXPECT_EQ(metrics["replicas"], 2);
  const json events = json::parse(Call("GET", "/api/endpoints/wine/events").body);
  std::string messages;
  for (const auto& e : events["events"]) messages += e["message"].get<std::string>() + "\n";
  EXPECT_NE(messages.find("rollback to 1"), std::string::npos) << messages;
  EXPECT_NE(messages.find("died"), std::string::npos) << messages;
  EXPECT_NE(Call("GET", "/metrics").body.find("wharf_endpoint_replica_restarts_total{endpoint=\"wine\"} 1"),
            std::string::npos);
}

TEST_F(EndpointTest, BadSpecsAndUnknownEndpointsAreRefusedNamingTheField) {
  json spec = Spec("blue", "wine@9");
  HttpResult r = Call("POST", "/api/endpoints", spec.dump());
  EXPECT_EQ(r.status, 404) << r.body;
  EXPECT_NE(r.body.find("wine@9"), std::string::npos) << r.body;
  spec = Spec("blue", "wine@1");
  spec["replicas"]["max"] = 1;
  spec["replicas"]["min"] = 3;
  r = Call("POST", "/api/endpoints", spec.dump());
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("replicas.max"), std::string::npos) << r.body;
  EXPECT_EQ(Call("GET", "/api/endpoints/nope").status, 404);
  EXPECT_EQ(Call("POST", "/api/endpoints/nope/rollback").status, 404);
}

}  // namespace
}  // namespace wharf::testing
