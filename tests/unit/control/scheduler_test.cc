// The scheduler moving tasks through their lives: starting them within its
// capacity, recording how they end, retrying, stopping.
#include "control/scheduler.h"

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "scheduler_fixture.h"

namespace wharf::control {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using std::chrono::milliseconds;
using store::TaskRecord;
using store::TaskState;
using ::testing::ElementsAre;
using ::testing::Pair;
using ::testing::StartsWith;

TEST_F(SchedulerTest, StartsAPendingTaskAndRecordsItsAttemptAndHandle) {
  StartScheduler();
  const std::string id = Create(kEcho)[0];
  const TaskRecord task = WaitForRunning(id);
  EXPECT_FALSE(task.exit_code.has_value());
  // Once the executor reports the command started, so does the store.
  EXPECT_TRUE(WaitUntil([&] { return Get(id).started_us > 0; }));

  ASSERT_EQ(executor_.submitted(), 1u);
  const exec::TaskSpec spec = executor_.spec(0);
  EXPECT_EQ(spec.id, id + ".1");
  EXPECT_THAT(spec.argv, ElementsAre("echo", "hi"));
  EXPECT_EQ(spec.run_dir, dir_.path() / "runs" / id / "1");
  EXPECT_EQ(spec.resources.cpus, 1);
  EXPECT_TRUE(exec::ValidateTaskSpec(spec).ok()) << exec::ValidateTaskSpec(spec).ToString();
}

TEST_F(SchedulerTest, RecordsWhenTheCommandStartedNotWhenItWasClaimed) {
  executor_.QueueSubmits(true);
  StartScheduler();
  const std::string id = Create(kEcho)[0];
  WaitForRunning(id);
  ASSERT_TRUE(WaitUntil([&] { return executor_.polled(HandleOf(id, 1)); }));
  EXPECT_EQ(Get(id).started_us, 0) << "queued: running, not started";

  const std::int64_t before = NowUs();
  executor_.StartQueued(HandleOf(id, 1));
  ASSERT_TRUE(WaitUntil([&] { return Get(id).started_us != 0; }));
  EXPECT_GE(Get(id).started_us, before);
  executor_.Succeed(HandleOf(id, 1));
  const TaskRecord done = WaitForState(id, TaskState::kSucceeded);
  EXPECT_GE(done.started_us, before);
  EXPECT_GE(done.finished_us, done.started_us);
}

TEST_F(SchedulerTest, AnExecutorThatCannotTellForAWhileLosesNoTask) {
  StartScheduler();
  const std::string id = Create(kEcho)[0];
  WaitForRunning(id);
  executor_.SetUnavailable(true);
  const auto polls = executor_.polls();
  ASSERT_TRUE(WaitUntil([&] { return executor_.polls() >= polls + 5; }))
      << executor_.polls() - polls << " polls while the executor could not tell";
  EXPECT_EQ(Get(id).state, TaskState::kRunning);
  executor_.SetUnavailable(false);
  executor_.Succeed("h-" + id + ".1");
  WaitForState(id, TaskState::kSucceeded);
}

TEST_F(SchedulerTest, PicksUpTasksStoredBeforeStart) {
  const std::string id = Create(kEcho)[0];
  StartScheduler();
  WaitForRunning(id);
}

TEST_F(SchedulerTest, NeverRunsMoreDeclaredCpusThanItsCapacity) {
  StartScheduler(/*capacity_cpus=*/2);
  const std::vector<std::string> ids = Create({{"command", {"sleep", "1"}}, {"resources", {{"cpus", 1}}}}, 6);
  WaitForSubmissions(2);
  LetTheLoopRun();
  EXPECT_EQ(executor_.submitted(), 2u);
  EXPECT_EQ(CountInState(TaskState::kRunning), 2u);
  EXPECT_EQ(CountInState(TaskState::kPending), 4u);
  // Oldest first.
  WaitForRunning(ids[0]);
  WaitForRunning(ids[1]);

  executor_.Succeed(HandleOf(ids[0], 1));
  WaitForRunning(ids[2]);
  LetTheLoopRun();
  EXPECT_EQ(executor_.submitted(), 3u);

  for (std::size_t done = 1; done < ids.size(); ++done) {
    WaitForRunning(ids[done]);
    executor_.Succeed(HandleOf(ids[done], 1));
  }
  for (const auto& id : ids) WaitForState(id, TaskState::kSucceeded);
  ASSERT_EQ(executor_.submitted(), 6u);
  for (const auto& submission : executor_.submissions()) EXPECT_LE(submission.running_before, 1);
}

TEST_F(SchedulerTest, CountsFractionalCpus) {
  StartScheduler(/*capacity_cpus=*/1);
  const auto ids = Create({{"command", {"x"}}, {"resources", {{"cpus", 0.5}}}}, 3);
  WaitForSubmissions(2);
  LetTheLoopRun();
  EXPECT_EQ(executor_.submitted(), 2u);
  executor_.Succeed(HandleOf(ids[1], 1));
  WaitForRunning(ids[2]);
}

// A task too large to fit beside the running ones holds back the smaller
// ones behind it, so it is never starved; it then runs alone, even though it
// declares more than the whole capacity.
TEST_F(SchedulerTest, ALargeTaskHoldsBackTheTasksBehindIt) {
  StartScheduler(/*capacity_cpus=*/2);
  const std::string small = Create({{"command", {"a"}}, {"resources", {{"cpus", 1}}}})[0];
  WaitForRunning(small);
  const std::string large = Create({{"command", {"b"}}, {"resources", {{"cpus", 4}}}})[0];
  const std::string behind = Create({{"command", {"c"}}, {"resources", {{"cpus", 1}}}})[0];
  LetTheLoopRun();
  EXPECT_EQ(executor_.submitted(), 1u);
  EXPECT_EQ(Get(behind).state, TaskState::kPending);

  executor_.Succeed(HandleOf(small, 1));
  WaitForRunning(large);
  LetTheLoopRun();
  EXPECT_EQ(Get(behind).state, TaskState::kPending);

  executor_.Succeed(HandleOf(large, 1));
  WaitForRunning(behind);
}

TEST_F(SchedulerTest, RecordsSuccess) {
  StartScheduler();
  const std::string id = Create(kEcho)[0];
  WaitForRunning(id);
  executor_.Succeed(HandleOf(id, 1));
  const TaskRecord task = WaitForState(id, TaskState::kSucceeded);
  EXPECT_EQ(task.exit_code, 0);
  EXPECT_EQ(task.attempt, 1);
  EXPECT_GE(task.finished_us, task.started_us);
  EXPECT_EQ(task.reason, "");
}

TEST_F(SchedulerTest, FailsWithoutRetriesOnTheFirstFailure) {
  StartScheduler();
  const std::string id = Create(kEcho)[0];
  WaitForRunning(id);
  executor_.Fail(HandleOf(id, 1), 3);
  const TaskRecord task = WaitForState(id, TaskState::kFailed);
  EXPECT_EQ(task.exit_code, 3);
  EXPECT_EQ(task.reason, "exit code 3");
  RunASentinelTask();
  EXPECT_EQ(SubmissionsOf(id), 1u);
}

TEST_F(SchedulerTest, RetriesAFailureAfterItsBackoffThenFails) {
  StartScheduler();
  const std::string id = Create({{"command", {"false"}}, {"retries", 1}, {"retry_backoff", "1s"}})[0];
  WaitForRunning(id);
  executor_.Fail(HandleOf(id, 1), 3);

  const TaskRecord waiting = WaitForState(id, TaskState::kPending);
  EXPECT_EQ(waiting.attempt, 1);
  EXPECT_EQ(waiting.exit_code, 3);
  EXPECT_THAT(waiting.reason, StartsWith("attempt 1 of 2 failed: exit code 3; retrying in 1 s"));
  ASSERT_TRUE(waiting.next_attempt_us.has_value());

  const TaskRecord second = WaitForRunning(id, 2);
  EXPECT_FALSE(second.next_attempt_us.has_value());
  EXPECT_FALSE(second.exit_code.has_value());
  ASSERT_EQ(executor_.submitted(), 2u);
  EXPECT_GE(executor_.submissions()[1].at_us, *waiting.next_attempt_us);
  const exec::TaskSpec spec = executor_.spec(1);
  EXPECT_EQ(spec.id, id + ".2");
  EXPECT_EQ(spec.run_dir, dir_.path() / "runs" / id / "2");
  EXPECT_EQ(spec.env.at("WHARF_ATTEMPT"), "2");

  executor_.Fail(HandleOf(id, 2), 4);
  const TaskRecord failed = WaitForState(id, TaskState::kFailed);
  EXPECT_EQ(failed.attempt, 2);
  EXPECT_EQ(failed.exit_code, 4);
  EXPECT_EQ(failed.reason, "exit code 4 (after 2 attempts)");
  RunASentinelTask();
  EXPECT_EQ(SubmissionsOf(id), 2u);
}

TEST_F(SchedulerTest, RetriesTimeoutsAndOutOfMemory) {
  StartScheduler();
  const std::string id = Create({{"command", {"x"}}, {"retries", 2}, {"retry_backoff", "1ms"}})[0];
  WaitForRunning(id);
  executor_.Set(HandleOf(id, 1), exec::TaskOutcome::kTimedOut, std::nullopt, "timed out after 2 s", 9);
  WaitForRunning(id, 2);
  executor_.Set(HandleOf(id, 2), exec::TaskOutcome::kOutOfMemory, std::nullopt, "out of memory (limit 64 MiB)", 9);
  WaitForRunning(id, 3);
  executor_.Succeed(HandleOf(id, 3));
  EXPECT_EQ(WaitForState(id, TaskState::kSucceeded).attempt, 3);
}

// Each attempt starts with an empty output directory.
TEST_F(SchedulerTest, EmptiesTheOutputDirectoryBeforeARetry) {
  StartScheduler();
  const std::string id = Create({{"command", {"x"}}, {"retries", 1}, {"retry_backoff", "1ms"}})[0];
  WaitForRunning(id);
  const fs::path out = executor_.spec(0).env.at("WHARF_OUTPUT_DIR");
  std::ofstream(out / "partial.txt") << "half";
  executor_.Fail(HandleOf(id, 1), 1);
  WaitForRunning(id, 2);
  EXPECT_EQ(executor_.spec(1).env.at("WHARF_OUTPUT_DIR"), out.string());
  EXPECT_TRUE(fs::is_directory(out));
  EXPECT_TRUE(fs::is_empty(out));
}

TEST_F(SchedulerTest, StopCancelsARunningTask) {
  StartScheduler();
  const std::string id = Create(kEcho)[0];
  WaitForRunning(id);
  scheduler_->RequestStop(id, milliseconds(250));
  ASSERT_TRUE(WaitUntil([&] { return !executor_.cancels().empty(); })) << "no cancel reached the executor";
  EXPECT_THAT(executor_.cancels(), ElementsAre(Pair(HandleOf(id, 1), milliseconds(250))));
  // It stays RUNNING until the executor says it has ended.
  LetTheLoopRun(5);
  EXPECT_EQ(Get(id).state, TaskState::kRunning);

  executor_.Set(HandleOf(id, 1), exec::TaskOutcome::kCancelled, std::nullopt, "cancelled");
  const TaskRecord task = WaitForState(id, TaskState::kCancelled);
  EXPECT_EQ(task.reason, "stopped");
  EXPECT_GT(task.finished_us, 0);
}

// A task that dies of the stop's signal was stopped, not failed: it is not retried.
TEST_F(SchedulerTest, AStoppedTaskIsNotRetried) {
  StartScheduler();
  const std::string id = Create({{"command", {"x"}}, {"retries", 3}, {"retry_backoff", "1ms"}})[0];
  WaitForRunning(id);
  scheduler_->RequestStop(id, milliseconds(10));
  ASSERT_TRUE(WaitUntil([&] { return !executor_.cancels().empty(); })) << "no cancel reached the executor";
  executor_.Set(HandleOf(id, 1), exec::TaskOutcome::kFailed, std::nullopt, "killed by SIGTERM", 15);
  const TaskRecord task = WaitForState(id, TaskState::kCancelled);
  EXPECT_THAT(task.reason, StartsWith("stopped"));
  RunASentinelTask();
  EXPECT_EQ(SubmissionsOf(id), 1u);
}

TEST_F(SchedulerTest, StopHoldsForATaskWaitingForItsRetry) {
  StartScheduler();
  const std::string id = Create({{"command", {"x"}}, {"retries", 1}, {"retry_backoff", "1h"}})[0];
  WaitForRunning(id);
  executor_.Fail(HandleOf(id, 1), 1);
  WaitForState(id, TaskState::kPending);
  scheduler_->RequestStop(id, milliseconds(10));
  EXPECT_EQ(WaitForState(id, TaskState::kCancelled).reason, "stopped");
  EXPECT_TRUE(executor_.cancels().empty());
  EXPECT_EQ(executor_.submitted(), 1u);
}

TEST_F(SchedulerTest, StopOfAnUnknownTaskChangesNothing) {
  StartScheduler();
  const std::string id = Create(kEcho)[0];
  WaitForRunning(id);
  scheduler_->RequestStop("0000000000000-none", milliseconds(10));
  LetTheLoopRun(5);
  EXPECT_TRUE(executor_.cancels().empty());
  EXPECT_EQ(Get(id).state, TaskState::kRunning);
}

}  // namespace
}  // namespace wharf::control
