// Faults injected into the control plane while it runs tasks: kill -9 of the
// server and of task supervisors (with their commands) at random points,
// several rounds on one home. A killed supervisor, or a server killed between
// claiming a task and recording its process, makes the attempt "lost"; with
// retries every task still succeeds. Afterwards no task is stuck PENDING or
// RUNNING and the metadata store passes SQLite's integrity check.

#include <signal.h>

#include <chrono>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "control_server_fixture.h"
#include "store/sqlite_database.h"

namespace wharf::testing {
namespace {

class ControlFaultTest : public ControlServerTest {
 protected:
  // The pid written to runs/ID/1/FILE, or -1 if it is not there (yet).
  pid_t PidOf(const std::string& id, const char* file) {
    const std::string text = Trim(ReadFile(home_.path() / "runs" / id / "1" / file));
    return text.empty() ? -1 : std::stoi(text);
  }
};

TEST_F(ControlFaultTest, KillNineOfServerAndSupervisorsAtRandomPointsLeavesNoTaskStuck) {
  const unsigned seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 random(seed);
  std::vector<std::string> ids;
  std::set<std::string> victims;
  constexpr int kRounds = 3;
  for (int round = 0; round < kRounds; ++round) {
    const json spec = {{"command", {"sleep", "0.3"}}, {"retries", 3}, {"retry_backoff", "100ms"}};
    for (const auto& task : Run("sleepy-" + std::to_string(round), spec, 6)) {
      ids.push_back(task["id"]);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution(100, 900)(random)));
    // Kill one running task's supervisor and command, when one has both pids written.
    const json running = CallJson("GET", "/api/tasks?state=RUNNING&limit=0", nullptr, 200);
    for (const auto& task : running["tasks"]) {
      const std::string id = task["id"];
      const pid_t shim = PidOf(id, "shim.pid"), command = PidOf(id, "task.pid");
      if (shim <= 0 || command <= 0) continue;
      ::kill(command, SIGKILL);
      ::kill(shim, SIGKILL);
      victims.insert(id);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution(0, 300)(random)));
    server_->Stop(SIGKILL);
    Start();
  }

  for (const auto& id : ids) {
    const json task = WaitFinal(id);
    EXPECT_EQ(task["state"], "SUCCEEDED") << (victims.contains(id) ? "(its supervisor was killed) " : "")
                                          << task.dump();
  }
  server_->Stop(SIGTERM);
  auto db = store::SqliteDatabase::Open(home_.path() / "wharf.db");
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  auto check = (*db)->Prepare("PRAGMA integrity_check");
  ASSERT_TRUE(check.ok());
  ASSERT_TRUE(check->Step().ok());
  EXPECT_EQ(check->ColumnText(0), "ok");
}

}  // namespace
}  // namespace wharf::testing
