#pragma once
// What the tests of a real `wharf server` share: a fixture that starts one
// on a temporary home and drives its REST API with the server's token, and
// helpers to wait for tasks and read their logs.

#include <signal.h>
#include <sys/types.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "testing/http_client.h"
#include "testing/leftover_tasks.h"
#include "testing/process.h"
#include "testing/server_process.h"
#include "testing/temp_dir.h"
#include "testing/wait.h"

namespace wharf::testing {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;

inline std::string Trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  return s;
}

inline bool ProcessAlive(pid_t pid) { return ::kill(pid, 0) == 0; }

// Milliseconds since the epoch of an RFC 3339 "YYYY-MM-DDTHH:MM:SS.mmmZ".
inline std::int64_t Millis(const json& time) {
  std::tm tm{};
  const std::string text = time.get<std::string>();
  ::strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  return static_cast<std::int64_t>(::timegm(&tm)) * 1000 + std::stoi(text.substr(20, 3));
}

// The most intervals [started, finished) that overlap at one instant.
inline int MaxOverlap(const std::vector<json>& tasks) {
  std::vector<std::pair<std::int64_t, int>> events;
  for (const auto& t : tasks) {
    events.emplace_back(Millis(t["started_at"]), +1);
    events.emplace_back(Millis(t["finished_at"]), -1);
  }
  std::sort(events.begin(), events.end());  // at a tie, -1 sorts first: an end frees its slot
  int now = 0, most = 0;
  for (const auto& [at, delta] : events) most = std::max(most, now += delta);
  return most;
}

class ControlServerTest : public ::testing::Test {
 protected:
  ~ControlServerTest() override { StopServerAndItsTasks(server_, home_.path()); }
  void SetUp() override { Start(); }

  // A failed assertion can leave tasks running: stop them, so none outlives the test.
  void TearDown() override {
    if (!server_ || !server_->started() || ::kill(server_->pid(), 0) != 0) return;
    const HttpResult live = Call("GET", "/api/tasks?state=PENDING,RUNNING&limit=0");
    const json tasks = json::parse(live.body, nullptr, false);
    if (live.status != 200 || !tasks.contains("tasks")) return;
    for (const auto& t : tasks["tasks"]) {
      Call("POST", "/api/tasks/" + t["id"].get<std::string>() + "/stop", R"({"grace_ms": 0})");
    }
    for (const auto& t : tasks["tasks"]) WaitFinal(t["id"], 10s);
  }

  void Start(const std::string& cpus = "2", const std::vector<std::string>& more = {}) {
    std::vector<std::string> args = {"server", "--home", home_.path().string(), "--port", "0", "--cpus", cpus};
    args.insert(args.end(), more.begin(), more.end());
    server_ = std::make_unique<ServerProcess>(args);
    ASSERT_TRUE(server_->started()) << server_->output();
    token_ = Trim(ReadFile(home_.path() / "server.token"));
    ASSERT_EQ(token_.size(), 64u);
    http_ = std::make_unique<HttpClient>(server_->port());
  }

  HttpResult Call(const std::string& method, const std::string& path, const std::string& body = "") {
    return http_->Request(method, path, body, {{"Authorization", "Bearer " + token_}});
  }

  json CallJson(const std::string& method, const std::string& path, const json& body, int expect) {
    const HttpResult r = Call(method, path, body.is_null() ? "" : body.dump());
    EXPECT_EQ(r.status, expect) << method << " " << path << ": " << r.body;
    return json::parse(r.body, nullptr, false);
  }

  // Registers `spec` as `name` and runs it; returns the tasks.
  std::vector<json> Run(const std::string& name, json spec, int count = 1) {
    spec["name"] = name;
    // Supervisors enforce it even when a test dies with its server: no task outlives it for long.
    if (!spec.contains("timeout")) spec["timeout"] = "120s";
    CallJson("POST", "/api/taskdefs", spec, 201);
    const json run = CallJson("POST", "/api/runs", {{"taskdef", name}, {"count", count}}, 201);
    return run["tasks"].get<std::vector<json>>();
  }

  json Task(const std::string& id) { return CallJson("GET", "/api/tasks/" + id, nullptr, 200); }

  // Polls the task until `done` holds (or the deadline passes: the last state is returned).
  template <typename Predicate>
  json WaitFor(const std::string& id, Predicate done, std::chrono::milliseconds timeout = kPatience) {
    return wharf::testing::WaitFor([&] { return Task(id); }, done, timeout);
  }

  json WaitFinal(const std::string& id, std::chrono::milliseconds timeout = kPatience) {
    return WaitFor(
        id,
        [](const json& t) {
          const auto s = t.value("state", "");
          return s == "SUCCEEDED" || s == "FAILED" || s == "CANCELLED";
        },
        timeout);
  }

  // Watches the RUNNING tasks until `expected` run at once (or the deadline
  // passes); returns the most seen. RUNNING holds from the scheduler's claim
  // to the end, whenever the executor starts each command.
  std::size_t MostRunningAtOnce(std::size_t expected) {
    std::size_t most = 0;
    WaitUntil([&] {
      const json running = CallJson("GET", "/api/tasks?state=RUNNING&limit=0", nullptr, 200);
      most = std::max(most, running.value("tasks", json::array()).size());
      return most >= expected;
    });
    return most;
  }

  std::string Log(const std::string& id, const std::string& stream = "stdout") {
    return CallJson("GET", "/api/tasks/" + id + "/logs?stream=" + stream, nullptr, 200)["data"].get<std::string>();
  }

  TempDir home_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<HttpClient> http_;
  std::string token_;
};

}  // namespace wharf::testing
