// Endpoints managed by `wharf server`, on SQLite and on PostgreSQL: apply makes revisions, replicas run as
// tasks under the reconciler, a new revision and a rollback reach the
// replicas while clients keep sending requests (none may fail), a replica
// killed with -9 is replaced, and a canary rollout is promoted when healthy
// and rolled back when its model version is broken.

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <mutex>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "artifact/modelfile.h"
#include "testing/http_client.h"
#include "testing/leftover_tasks.h"
#include "testing/postgres_server.h"
#include "testing/process.h"
#include "testing/server_process.h"
#include "testing/temp_dir.h"
#include "testing/wait.h"

namespace wharf::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;

// How often a wait asks the server's API again: each look is a request.
constexpr std::chrono::milliseconds kLookEvery = 100ms;

constexpr char kRow[] =
    R"({"inputs":[{"name":"x","shape":[1,11],"datatype":"FP32","data":[7.4,0.7,0,1.9,0.076,11,34,0.9978,3.51,0.56,9.4]}]})";

std::string Trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  return s;
}

// Clients sending requests to an endpoint from a few threads until stopped,
// counting the answers by status.
class Load {
 public:
  Load(int port, int clients) {
    for (int c = 0; c < clients; ++c) {
      threads_.emplace_back([this, port] {
        HttpClient client(static_cast<std::uint16_t>(port));
        while (!stop_.load()) {
          const HttpResult r = client.Post("/v2/models/wine/infer", kRow);
          if (r.status == 200) {
            ++ok_;
            continue;
          }
          ++failed_;
          std::lock_guard lock(mu_);
          if (first_failure_.empty()) first_failure_ = std::to_string(r.status) + " " + r.body;
        }
      });
    }
  }
  ~Load() { Stop(); }
  void Stop() {
    stop_ = true;
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  }
  int ok() const { return ok_.load(); }
  int failed() const { return failed_.load(); }
  std::string first_failure() {
    std::lock_guard lock(mu_);
    return first_failure_;
  }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<int> ok_{0}, failed_{0};
  std::mutex mu_;
  std::string first_failure_;
  std::vector<std::thread> threads_;
};

// The parameter is the server's store: "sqlite" (its default file) or "postgresql".
class EndpointTest : public ::testing::TestWithParam<std::string> {
 protected:
  ~EndpointTest() override { StopServerAndItsTasks(server_, home_.path()); }
  void SetUp() override {
    // `wharf model register` keeps Modelfiles under $WHARF_HOME/models: this
    // test's home, not ~/.wharf, which every PostgreSQL test's version 1 would share.
    ::setenv("WHARF_HOME", home_.path().c_str(), 1);
    if (GetParam() == "postgresql") {
      Result<std::string> url = NewPostgresDatabase();
      if (!url.ok()) GTEST_SKIP() << "no PostgreSQL here: " << url.status().message();
      store_ = *url;
    } else {
      store_ = (home_.path() / "wharf.db").string();
    }
    // Two model versions in the server's registry: logistic (1) and xgboost (2, alias production).
    for (const auto& [estimator, out] : {std::pair{"logistic", "m1"}, std::pair{"xgboost", "m2"}}) {
      const ProcessResult trained =
          RunWharf({"train", "--train", (WineDir() / "TrainingDataset.csv").string(), "--validation",
                    (WineDir() / "ValidationDataset.csv").string(), "--estimator", estimator, "--out",
                    (work_.path() / out).string()});
      ASSERT_EQ(trained.exit_code, 0) << trained.err;
    }
    ASSERT_EQ(RunWharf({"model", "register", "wine", (work_.path() / "m1" / "Modelfile").string(), "--store", store_})
                  .exit_code,
              0);
    ASSERT_EQ(RunWharf({"model", "register", "wine", (work_.path() / "m2" / "Modelfile").string(), "--store", store_,
                        "--alias", "production"})
                  .exit_code,
              0);
    std::vector<std::string> args = {"server", "--home", home_.path().string(), "--port", "0", "--cpus", "2"};
    if (GetParam() == "postgresql") args.insert(args.end(), {"--store", store_});
    server_ = std::make_unique<ServerProcess>(args);
    ASSERT_TRUE(server_->started()) << server_->output();
    token_ = Trim(ReadFile(home_.path() / "server.token"));
    http_ = std::make_unique<HttpClient>(server_->port());
  }

  void TearDown() override {
    if (!server_ || !server_->started()) return;
    Call("DELETE", "/api/endpoints/wine");
    // Replicas are tasks: wait until the reconciler has stopped them.
    ExpectNoTaskLiveSoon(*http_, token_, "after the endpoint was deleted");
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

  // Events of the endpoint, oldest first.
  json Events() {
    json events = json::parse(Call("GET", "/api/endpoints/wine/events?limit=1000").body)["events"];
    std::reverse(events.begin(), events.end());
    return events;
  }

  // Polls the endpoint until its latest revision is `revision`; returns that revision.
  json WaitRevision(int revision) {
    const auto made = [revision](const json& latest) { return latest.value("revision", 0) == revision; };
    const json latest = WaitFor(
        [&] {
          return json::parse(Call("GET", "/api/endpoints/wine/revisions/" + std::to_string(revision)).body, nullptr,
                             false);
        },
        made, kPatience, kLookEvery);
    if (!made(latest)) {
      ADD_FAILURE() << "no revision " << revision << "; status: " << Call("GET", "/api/endpoints/wine").body;
    }
    return latest;
  }

  // True if exactly `min_ready` replicas are listed in `status`, all of them ready on `revision`.
  static bool Serves(const json& status, int revision, int min_ready) {
    const json replicas = status.value("replicas", json::array());
    int ready = 0;
    for (const auto& r : replicas) ready += r["ready"] == true && r["revision"] == revision ? 1 : 0;
    return ready >= min_ready && replicas.size() == static_cast<std::size_t>(min_ready);
  }

  // Polls the endpoint until `done(status)` holds; returns the last status, failing
  // the test with it if `done` never held.
  template <typename F>
  json WaitStatus(F done, const std::string& awaited) {
    const json status = WaitFor([&] { return json::parse(Call("GET", "/api/endpoints/wine").body, nullptr, false); },
                                done, kPatience, kLookEvery);
    if (!done(status)) ADD_FAILURE() << "waited in vain for " << awaited << ": " << status.dump();
    return status;
  }

  // Polls the endpoint until `min_ready` replicas serve `revision`; returns its status.
  json WaitServing(int revision, int min_ready) {
    return WaitStatus([&](const json& status) { return Serves(status, revision, min_ready); },
                      "revision " + std::to_string(revision) + " served by " + std::to_string(min_ready) + " replicas");
  }

  TempDir home_, work_;
  std::string store_;  // the registry and the server's store: a SQLite file or a postgresql:// URL
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<HttpClient> http_;
  std::string token_;
  // The endpoint's port, shared by its replicas: one per test process (ctest runs tests in parallel).
  int port_ = 20000 + static_cast<int>(::getpid() % 20000);
};

TEST_P(EndpointTest, ApplyAndRollbackUnderLoadAnswerEveryRequestAndAKilledReplicaIsReplaced) {
  HttpResult applied = Call("POST", "/api/endpoints", Spec("blue", "wine@1").dump());
  ASSERT_EQ(applied.status, 201) << applied.body;
  EXPECT_EQ(json::parse(applied.body)["revision"], 1);
  EXPECT_EQ(Call("POST", "/api/endpoints", Spec("blue", "wine@1").dump()).status, 200) << "unchanged: no new revision";
  WaitServing(1, 2);

  // Clients keep sending while revisions change under them.
  Load load(port_, 4);
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
  load.Stop();
  EXPECT_GT(load.ok(), 100);
  EXPECT_EQ(load.failed(), 0) << load.first_failure();

  // The served version is the rolled-back one.
  HttpClient client(static_cast<std::uint16_t>(port_));
  EXPECT_EQ(json::parse(client.Post("/v2/models/wine/infer", kRow).body)["model_version"], "1");

  // kill -9 one replica: the reconciler starts another.
  const json before = WaitServing(3, 2);
  const std::string victim = before["replicas"][0]["task_id"];
  const json announce = json::parse(ReadFile(home_.path() / "artifacts" / "tasks" / victim / "replica.json"));

  // Found by attacking a fresh build: replicas took the control plane's token
  // as their admin token. Each makes its own, which only its announcement tells.
  const std::string admin_token = announce.value("admin_token", "");
  EXPECT_EQ(admin_token.size(), 64u) << announce.dump();
  EXPECT_NE(admin_token, token_);
  HttpClient admin(static_cast<std::uint16_t>(std::stoi(announce["admin_url"].get<std::string>().substr(17))));
  EXPECT_EQ(admin.Post("/admin/config", "{}", {{"Authorization", "Bearer " + token_}}).status, 401);
  // ... and only they listen on its port: a second server there refuses to start.
  const std::string model = "wine=" + (work_.path() / "m1" / "Modelfile").string();
  ServerProcess intruder({"serve", "--model", model, "--port", std::to_string(port_), "--capture", "off"});
  EXPECT_FALSE(intruder.started()) << intruder.output();
  EXPECT_NE(intruder.output().find(":" + std::to_string(port_) + " is already served"), std::string::npos)
      << intruder.output();

  ASSERT_EQ(::kill(announce["pid"].get<int>(), SIGKILL), 0);
  json after = WaitStatus(
      [&](const json& status) {
        return Serves(status, 3, 2) && status.value("restarts", 0) == 1 &&
               status["replicas"][0].value("task_id", "") != victim;
      },
      "revision 3 served by 2 replicas, " + victim + " replaced");
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

// wrk, the HTTP load generator, with 16 connections for `seconds`, POSTing kRow.
ProcessResult Wrk(const fs::path& dir, int port, int seconds) {
  const fs::path script = dir / "post.lua";
  std::ofstream(script) << "wrk.method = \"POST\"\nwrk.headers[\"Content-Type\"] = \"application/json\"\nwrk.body = '"
                        << kRow << "'\n";
  return RunProcess({"wrk", "-t2", "-c16", "-d" + std::to_string(seconds) + "s", "-s", script.string(),
                     "http://127.0.0.1:" + std::to_string(port) + "/v2/models/wine/infer"});
}

TEST_P(EndpointTest, ApplyAndRollbackUnderWrkLoadAnswerEveryRequestWith2xx) {
  if (RunProcess({"wrk", "--version"}).exit_code == 127) GTEST_SKIP() << "wrk is not installed (scripts/install-deps has it)";
  ASSERT_EQ(Call("POST", "/api/endpoints", Spec("blue", "wine@1").dump()).status, 201);
  WaitServing(1, 2);
  ProcessResult wrk;
  std::thread load([&] { wrk = Wrk(work_.path(), port_, 8); });
  std::this_thread::sleep_for(1s);
  ASSERT_EQ(Call("POST", "/api/endpoints", Spec("green", "wine@2").dump()).status, 201);
  WaitServing(2, 2);
  std::this_thread::sleep_for(500ms);
  ASSERT_EQ(Call("POST", "/api/endpoints/wine/rollback").status, 201);
  WaitServing(3, 2);
  load.join();
  ASSERT_EQ(wrk.exit_code, 0) << wrk.err;
  // wrk reports these lines only when something failed.
  EXPECT_EQ(wrk.out.find("Non-2xx or 3xx responses"), std::string::npos) << wrk.out;
  EXPECT_EQ(wrk.out.find("Socket errors"), std::string::npos) << wrk.out;
  EXPECT_NE(wrk.out.find(" requests in "), std::string::npos) << wrk.out;
}

// A canary spec: `stable` on wine@1, `next` on `model` stepping through 25% and 50%.
json CanarySpec(const json& base, const std::string& model) {
  json spec = base;
  spec["variants"].push_back({{"name", "next"},
                              {"model", model},
                              {"canary",
                               {{"steps", {25, 50, 100}},
                                {"step_duration", "1s"},
                                {"min_requests", 30},
                                {"max_error_rate_increase", 0.01},
                                {"p99_floor_ms", 200}}}});  // a loaded 2-core CI box is no latency benchmark
  return spec;
}

TEST_P(EndpointTest, AHealthyCanaryStepsUpAndIsPromotedWithoutAFailedRequest) {
  ASSERT_EQ(Call("POST", "/api/endpoints", Spec("stable", "wine@1").dump()).status, 201);
  WaitServing(1, 2);
  Load load(port_, 4);
  const json spec = CanarySpec(Spec("stable", "wine@1"), "wine@2");
  HttpResult applied = Call("POST", "/api/endpoints", spec.dump());
  ASSERT_EQ(applied.status, 201) << applied.body;
  EXPECT_EQ(json::parse(applied.body)["reason"], "apply: canary next at 25% (step 1/2)");

  // While it runs, the status shows the step and the guard's reading.
  json status = WaitFor([&] { return json::parse(Call("GET", "/api/endpoints/wine").body); },
                        [](const json& s) { return s.contains("canary") && s["canary"].contains("status"); },
                        kPatience, kLookEvery);
  EXPECT_EQ(status["canary"]["variant"], "next") << status.dump();
  EXPECT_EQ(status["canary"]["from_revision"], 1) << status.dump();
  EXPECT_NE(Call("GET", "/metrics").body.find("wharf_endpoint_canary_percent{endpoint=\"wine\",variant=\"next\"} "),
            std::string::npos);

  EXPECT_EQ(WaitRevision(3)["reason"], "canary step 2/2: next at 50%");
  const json promoted = WaitRevision(4);
  EXPECT_EQ(promoted["reason"], "canary next promoted to 100%");
  ASSERT_EQ(promoted["spec"]["variants"].size(), 1u);
  EXPECT_EQ(promoted["spec"]["variants"][0]["model"], "wine@2");
  EXPECT_FALSE(promoted["spec"]["variants"][0].contains("canary"));
  EXPECT_EQ(promoted["resolved"]["models"], (json{{"next", "wine@2"}}));
  WaitServing(4, 2);
  std::this_thread::sleep_for(300ms);
  load.Stop();
  EXPECT_GT(load.ok(), 100);
  EXPECT_EQ(load.failed(), 0) << load.first_failure();
  HttpClient client(static_cast<std::uint16_t>(port_));
  EXPECT_EQ(json::parse(client.Post("/v2/models/wine/infer", kRow).body)["model_version"], "2");

  // Applying the same file again changes nothing: its rollout is done.
  EXPECT_EQ(Call("POST", "/api/endpoints", spec.dump()).status, 200);
  // Every decision is an event with its numbers.
  std::vector<std::string> decisions;
  for (const auto& e : Events()) {
    if (e["kind"] != "canary") continue;
    decisions.push_back(e["details"]["decision"]);
    EXPECT_GE(e["details"]["numbers"]["canary"]["requests"].get<int>(), 30) << e.dump();
    EXPECT_EQ(e["details"]["numbers"]["canary"]["errors"], 0) << e.dump();
  }
  EXPECT_EQ(decisions, (std::vector<std::string>{"advance", "promote"}));
}

TEST_P(EndpointTest, ACanaryOfABrokenModelVersionIsRolledBackWithItsNumbers) {
  // wine@3: xgboost whose header claims a seventh class; it loads, and every prediction fails.
  auto broken = artifact::ReadModelfile(work_.path() / "m2" / "Modelfile");
  ASSERT_TRUE(broken.ok()) << broken.status().ToString();
  broken->header["schema"]["classes"].push_back("9");
  const fs::path bad = work_.path() / "broken.Modelfile";
  ASSERT_TRUE(artifact::WriteModelfile(*broken, bad).ok());
  const ProcessResult registered =
      RunWharf({"model", "register", "wine", bad.string(), "--store", store_});
  ASSERT_EQ(registered.exit_code, 0) << registered.err;

  ASSERT_EQ(Call("POST", "/api/endpoints", Spec("stable", "wine@1").dump()).status, 201);
  WaitServing(1, 2);
  Load load(port_, 4);
  ASSERT_EQ(Call("POST", "/api/endpoints", CanarySpec(Spec("stable", "wine@1"), "wine@3").dump()).status, 201);
  const json back = WaitRevision(3);
  EXPECT_EQ(back["reason"], "canary next rolled back to 1: error rate too high");
  EXPECT_EQ(back["resolved"]["models"], (json{{"stable", "wine@1"}}));
  WaitServing(3, 2);
  // Once rolled back, every request succeeds again.
  const int failed_during_canary = load.failed();
  EXPECT_GT(failed_during_canary, 0) << "the broken canary served nothing";
  std::this_thread::sleep_for(500ms);
  load.Stop();
  EXPECT_EQ(load.failed(), failed_during_canary) << load.first_failure();

  json rollback;
  for (const auto& e : Events()) {
    if (e["kind"] == "canary") rollback = e;
  }
  ASSERT_FALSE(rollback.is_null());
  EXPECT_EQ(rollback["details"]["decision"], "rollback");
  EXPECT_EQ(rollback["details"]["numbers"]["canary"]["error_rate"], 1.0) << rollback.dump();
  EXPECT_EQ(rollback["details"]["numbers"]["baseline"]["errors"], 0) << rollback.dump();
  EXPECT_NE(rollback["message"].get<std::string>().find("error rate 1.0000 vs baseline 0.0000"), std::string::npos)
      << rollback["message"];
  // No rollout left to resume, and nothing more happens.
  std::this_thread::sleep_for(1s);
  const json status = json::parse(Call("GET", "/api/endpoints/wine").body);
  EXPECT_FALSE(status.contains("canary")) << status.dump();
  EXPECT_EQ(status["revision"]["revision"], 3);
}

TEST_P(EndpointTest, MovingAnAliasMakesARevisionButDoesNotUndoARollback) {
  ASSERT_EQ(Call("POST", "/api/endpoints", Spec("green", "wine@production").dump()).status, 201);
  WaitServing(1, 2);
  ASSERT_EQ(RunWharf({"model", "alias", "wine", "production", "1", "--store", store_}).exit_code, 0);
  const json moved = WaitRevision(2);
  EXPECT_EQ(moved["reason"], "alias moved: wine@production 2 → 1");
  EXPECT_EQ(moved["resolved"]["models"]["green"], "wine@1");
  WaitServing(2, 2);
  HttpClient client(static_cast<std::uint16_t>(port_));
  EXPECT_EQ(json::parse(client.Post("/v2/models/wine/infer", kRow).body)["model_version"], "1");

  // Rolled back to wine@2 while the alias names 1: it stays rolled back...
  const HttpResult rolled = Call("POST", "/api/endpoints/wine/rollback");
  ASSERT_EQ(rolled.status, 201) << rolled.body;
  EXPECT_EQ(json::parse(rolled.body)["resolved"]["models"]["green"], "wine@2");
  WaitServing(3, 2);
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(json::parse(Call("GET", "/api/endpoints/wine").body)["revision"]["revision"], 3);
  // ...until the alias moves again.
  ASSERT_EQ(RunWharf({"model", "alias", "wine", "production", "2", "--store", store_}).exit_code, 0);
  EXPECT_EQ(WaitRevision(4)["reason"], "alias moved: wine@production 1 → 2");

  // An endpoint told not to follow keeps its versions.
  json pinned = Spec("green", "wine@production");
  pinned["follow_aliases"] = false;
  ASSERT_EQ(Call("POST", "/api/endpoints", pinned.dump()).status, 201);
  WaitRevision(5);
  ASSERT_EQ(RunWharf({"model", "alias", "wine", "production", "1", "--store", store_}).exit_code, 0);
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(json::parse(Call("GET", "/api/endpoints/wine").body)["revision"]["revision"], 5);
}

TEST_P(EndpointTest, BadSpecsAndUnknownEndpointsAreRefusedNamingTheField) {
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

INSTANTIATE_TEST_SUITE_P(Backends, EndpointTest, ::testing::Values("sqlite", "postgresql"),
                         [](const ::testing::TestParamInfo<std::string>& param) { return param.param; });

}  // namespace
}  // namespace wharf::testing
