#include "testing/leftover_tasks.h"

#include <signal.h>

#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <system_error>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "exec/local/proc.h"
#include "exec/local/run_dir.h"
#include "testing/wait.h"

namespace wharf::testing {
namespace {

namespace fs = std::filesystem;
using exec::local::ProcessIdentity;

std::optional<ProcessIdentity> Running(const fs::path& pid_file) {
  std::ifstream in(pid_file);
  std::stringstream text;
  text << in.rdbuf();
  auto identity = exec::local::ParseIdentity(text.str());
  if (!in || !identity.ok() || !exec::local::IsRunning(*identity)) return std::nullopt;
  return *identity;
}

}  // namespace

int KillTasksLeftUnder(const fs::path& runs_dir) {
  int killed = 0;
  std::error_code ec;
  // A run directory per attempt: runs/TASK/ATTEMPT.
  for (const auto& entry : fs::recursive_directory_iterator(runs_dir, ec)) {
    if (!entry.is_directory(ec)) continue;
    // The command leads its own process group: what it started goes with it.
    if (const auto task = Running(entry.path() / exec::local::kTaskPidFile)) {
      if (::kill(-task->pid, SIGKILL) == 0) ++killed;
    }
    if (const auto shim = Running(entry.path() / exec::local::kShimPidFile)) {
      if (exec::local::SignalProcess(*shim, SIGKILL).ok()) ++killed;
    }
  }
  return killed;
}

void ExpectNoTaskLiveSoon(HttpClient& http, const std::string& token, const std::string& after) {
  const auto none_live = [](const nlohmann::json& live) { return !live.contains("tasks") || live["tasks"].empty(); };
  const nlohmann::json live = WaitFor(
      [&] {
        const HttpResult listed = http.Request("GET", "/api/tasks?state=PENDING,RUNNING&limit=0", "",
                                               {{"Authorization", "Bearer " + token}});
        return nlohmann::json::parse(listed.body, nullptr, false);
      },
      none_live, kPatience, std::chrono::milliseconds(100));
  EXPECT_TRUE(none_live(live)) << "tasks still live " << after << ": " << live.dump();
}

void StopServerAndItsTasks(std::unique_ptr<ServerProcess>& server, const fs::path& home) {
  // Stopped, not killed: a supervisor it is starting has written shim.pid by the time it exits.
  if (server) server->Terminate(kPatience);
  server.reset();
  int killed = 0;
  // Killed processes take a moment to go: until a look finds none left.
  WaitUntil([&] {
    const int now = KillTasksLeftUnder(home / "runs");
    killed += now;
    return now == 0;
  });
  if (killed > 0) {
    std::cerr << "note: killed " << killed << " task process(es) left running under " << home.string() << "\n";
  }
}

}  // namespace wharf::testing
