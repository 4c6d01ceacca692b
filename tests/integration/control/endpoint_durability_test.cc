// An endpoint with durable capture, managed by `wharf server` on SQLite and
// on PostgreSQL: a replica killed with -9 under load is replaced by the
// reconciler, and every request a replica acknowledged is in the capture
// store afterwards (the requests cut off with the killed replica were never
// acknowledged, so they may be missing).

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "store/capture_store.h"
#include "store/location.h"
#include "testing/http_client.h"
#include "testing/leftover_tasks.h"
#include "testing/postgres_server.h"
#include "testing/process.h"
#include "testing/server_process.h"
#include "testing/temp_dir.h"
#include "testing/wait.h"

namespace wharf::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

// How often a wait asks the server's API again: each look is a request.
constexpr std::chrono::milliseconds kLookEvery = 100ms;

std::string Trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  return s;
}

std::string InferBody(const std::string& id) {
  return R"({"id":")" + id +
         R"(","inputs":[{"name":"x","shape":[1,11],"datatype":"FP32","data":[7.4,0.7,0,1.9,0.076,11,34,0.9978,3.51,0.56,9.4]}]})";
}

// Stops and joins the client threads when the test ends, an ASSERT included.
struct Clients {
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  void Join() {
    stop = true;
    for (auto& t : threads) {
      if (t.joinable()) t.join();
    }
  }
  ~Clients() { Join(); }
};

// The parameter is the store's backend: "sqlite" (the server's default file) or "postgresql".
class EndpointDurabilityTest : public ::testing::TestWithParam<std::string> {
 protected:
  ~EndpointDurabilityTest() override { StopServerAndItsTasks(server_, home_.path()); }
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
    const ProcessResult trained =
        RunWharf({"train", "--train", (WineDir() / "TrainingDataset.csv").string(), "--estimator", "logistic",
                  "--out", work_.path().string()});
    ASSERT_EQ(trained.exit_code, 0) << trained.err;
    const ProcessResult registered =
        RunWharf({"model", "register", "wine", (work_.path() / "Modelfile").string(), "--store", store_});
    ASSERT_EQ(registered.exit_code, 0) << registered.err;
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

  // Polls the endpoint until `done(status)` holds; returns the last status.
  template <typename F>
  json WaitForEndpoint(F done) {
    const json status = WaitFor([&] { return json::parse(Call("GET", "/api/endpoints/wine").body, nullptr, false); },
                                done, kPatience, kLookEvery);
    if (!done(status)) ADD_FAILURE() << "endpoint never reached the awaited state: " << status.dump();
    return status;
  }

  static bool TwoReady(const json& status) {
    int ready = 0;
    for (const auto& r : status.value("replicas", json::array())) ready += r["ready"] == true ? 1 : 0;
    return ready == 2 && status["replicas"].size() == 2;
  }

  // The entry of `metrics` for the replica that served the most requests; null if none served one.
  static json Busiest(const json& metrics) {
    json busiest;
    long most = 0;
    for (const auto& r : metrics.value("per_replica", json::array())) {
      if (r.value("requests", 0L) > most) {
        busiest = r;
        most = r["requests"];
      }
    }
    return busiest;
  }

  std::set<std::string> StoredIds() {
    std::set<std::string> ids;
    auto store = store::OpenCaptureStore(store::CaptureLocation(store_));
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    if (!store.ok()) return ids;
    const Status read = (*store)->ForEach({.endpoint = "wine", .limit = 0}, [&](const store::CaptureRecord& r) {
      ids.insert(r.id);
      return Status::Ok();
    });
    EXPECT_TRUE(read.ok()) << read.ToString();
    return ids;
  }

  TempDir home_, work_;
  std::string store_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<HttpClient> http_;
  std::string token_;
  // The endpoint's port, shared by its replicas: one per test process (ctest runs tests in parallel).
  int port_ = 20000 + static_cast<int>(::getpid() % 20000);
};

TEST_P(EndpointDurabilityTest, KillNineUnderLoadLosesNoAcknowledgedCaptureAndTheReplicaIsReplaced) {
  const json spec = {{"name", "wine"},
                     {"port", port_},
                     {"variants", {{{"name", "a"}, {"model", "wine@1"}}}},
                     {"capture", {{"mode", "durable"}}},
                     {"replicas", {{"min", 2}, {"cpus", 0.5}}}};
  const HttpResult applied = Call("POST", "/api/endpoints", spec.dump());
  ASSERT_EQ(applied.status, 201) << applied.body;
  ASSERT_TRUE(TwoReady(WaitForEndpoint(TwoReady)));

  std::mutex mu;
  std::set<std::string> acknowledged;
  std::map<int, int> refused;  // status (0: connection cut) → count
  std::string refusal;
  Clients clients;  // after what the clients use: joined before it goes
  for (int t = 0; t < 3; ++t) {
    clients.threads.emplace_back([&, t] {
      HttpClient client(static_cast<std::uint16_t>(port_));
      for (int i = 0; !clients.stop; ++i) {
        const std::string id = "c" + std::to_string(t) + "-" + std::to_string(i);
        const HttpResult r = client.Post("/v2/models/wine/infer", InferBody(id));
        std::lock_guard lock(mu);
        if (r.status / 100 == 2) {
          EXPECT_NE(r.body.find(id), std::string::npos) << "the answer carries the request's id: " << r.body;
          acknowledged.insert(id);
        } else {
          ++refused[r.status];
          if (refusal.empty()) refusal = std::to_string(r.status) + " " + r.body;
        }
      }
    });
  }
  std::this_thread::sleep_for(1s);

  // The victim is the busiest replica, so requests are in flight on it when it dies.
  const json metrics =
      WaitFor([&] { return json::parse(Call("GET", "/api/endpoints/wine/metrics").body, nullptr, false); },
              [](const json& m) { return !Busiest(m).is_null(); }, kPatience, kLookEvery);
  const json busiest = Busiest(metrics);
  ASSERT_FALSE(busiest.is_null()) << "no replica reports requests: " << metrics.dump();
  const std::string victim = busiest["task_id"];
  const json announce = json::parse(ReadFile(home_.path() / "artifacts" / "tasks" / victim / "replica.json"));
  ASSERT_EQ(::kill(announce["pid"].get<int>(), SIGKILL), 0);
  const json after = WaitForEndpoint([&](const json& status) {
    if (status["restarts"] != 1 || !TwoReady(status)) return false;
    for (const auto& r : status["replicas"]) {
      if (r["task_id"] == victim) return false;
    }
    return true;
  });
  std::this_thread::sleep_for(500ms);  // the replacement takes its share of the load
  // However slow the machine, enough acknowledged requests to prove something.
  WaitUntil([&] {
    std::lock_guard lock(mu);
    return acknowledged.size() > 100u;
  });
  clients.Join();

  EXPECT_EQ(after["restarts"], 1) << after.dump();
  int failed = 0;
  for (const auto& [status, count] : refused) failed += count;
  EXPECT_GT(acknowledged.size(), 100u);
  EXPECT_GT(acknowledged.size(), 10u * failed) << "most requests succeed; first refusal: " << refusal;

  const std::set<std::string> stored = StoredIds();
  int lost = 0;
  for (const auto& id : acknowledged) {
    if (!stored.count(id)) {
      if (++lost <= 5) ADD_FAILURE() << id << " was acknowledged but not stored";
    }
  }
  EXPECT_EQ(lost, 0) << "of " << acknowledged.size() << " acknowledged";
  RecordProperty("acknowledged", static_cast<int>(acknowledged.size()));
  RecordProperty("refused", failed);
}

INSTANTIATE_TEST_SUITE_P(Backends, EndpointDurabilityTest, ::testing::Values("sqlite", "postgresql"),
                         [](const ::testing::TestParamInfo<std::string>& param) { return param.param; });

}  // namespace
}  // namespace wharf::testing
