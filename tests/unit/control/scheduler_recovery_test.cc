// The scheduler taking over what an earlier server left RUNNING.
#include "control/scheduler.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "scheduler_fixture.h"

namespace wharf::control {
namespace {

using std::chrono::milliseconds;
using store::TaskRecord;
using store::TaskState;
using ::testing::HasSubstr;
using ::testing::StartsWith;

TEST_F(SchedulerTest, AdoptsARunningTaskLeftByAnEarlierServer) {
  TaskRecord adopted = MakeTask({{"command", {"x"}}, {"resources", {{"cpus", 1}}}});
  adopted.state = TaskState::kRunning;
  adopted.attempt = 1;
  adopted.handle = "h-left-behind";
  executor_.Set("h-left-behind", exec::TaskOutcome::kRunning);
  Store({adopted});
  const std::string waiting = Create({{"command", {"y"}}, {"resources", {{"cpus", 1}}}})[0];

  StartScheduler(/*capacity_cpus=*/1);
  ASSERT_TRUE(WaitUntil([&] { return executor_.polled("h-left-behind"); })) << "the adopted task was never polled";
  LetTheLoopRun();
  // The adopted task holds its cpus: the pending one waits.
  EXPECT_EQ(executor_.submitted(), 0u);
  EXPECT_EQ(Get(adopted.id).state, TaskState::kRunning);
  EXPECT_EQ(Get(waiting).state, TaskState::kPending);

  executor_.Succeed("h-left-behind");
  EXPECT_EQ(WaitForState(adopted.id, TaskState::kSucceeded).exit_code, 0);
  WaitForRunning(waiting);
}

TEST_F(SchedulerTest, FailsARunningTaskThatNeverGotAHandle) {
  TaskRecord task = MakeTask(kEcho);
  task.state = TaskState::kRunning;
  task.attempt = 1;
  Store({task});
  StartScheduler();
  const TaskRecord failed = WaitForState(task.id, TaskState::kFailed);
  EXPECT_THAT(failed.reason, HasSubstr("lost"));
  EXPECT_GT(failed.finished_us, 0);
  EXPECT_EQ(executor_.submitted(), 0u);
}

TEST_F(SchedulerTest, RetriesARunningTaskThatNeverGotAHandleWhenAttemptsRemain) {
  TaskRecord task = MakeTask({{"command", {"x"}}, {"retries", 1}, {"retry_backoff", "1h"}});
  task.state = TaskState::kRunning;
  task.attempt = 1;
  Store({task});
  StartScheduler();
  const TaskRecord waiting = WaitForState(task.id, TaskState::kPending);
  EXPECT_THAT(waiting.reason, HasSubstr("lost"));
  EXPECT_THAT(waiting.reason, StartsWith("attempt 1 of 2 failed"));
  EXPECT_TRUE(waiting.next_attempt_us.has_value());
}

TEST_F(SchedulerTest, FailsAnAdoptedTaskTheExecutorNoLongerKnows) {
  TaskRecord task = MakeTask(kEcho);
  task.state = TaskState::kRunning;
  task.attempt = 1;
  task.handle = "h-vanished";
  Store({task});
  StartScheduler();
  const TaskRecord failed = WaitForState(task.id, TaskState::kFailed);
  EXPECT_THAT(failed.reason, StartsWith("lost: "));
  EXPECT_TRUE(executor_.polled("h-vanished"));
}

// Between claiming a retry and storing the new handle, the record must not
// name the previous attempt's process: a server that crashed there would
// adopt that finished process and record its outcome for the new attempt,
// instead of failing it as lost.
TEST_F(SchedulerTest, ARetryBeingStartedDoesNotKeepThePreviousAttemptsHandle) {
  TaskRecord task = MakeTask({{"command", {"x"}}, {"retries", 1}});
  task.attempt = 1;
  task.handle = HandleOf(task.id, 1);
  task.reason = "attempt 1 of 2 failed: exit code 1; retrying in 1 s";
  task.exit_code = 1;
  Store({task});
  executor_.HoldSubmits(true);
  StartScheduler();
  const TaskRecord starting = WaitForTask(task.id, [](const TaskRecord& t) { return t.attempt == 2; });
  EXPECT_EQ(starting.state, TaskState::kRunning);
  EXPECT_EQ(starting.handle, "");
  executor_.HoldSubmits(false);
  WaitForRunning(task.id, 2);
}

}  // namespace
}  // namespace wharf::control
