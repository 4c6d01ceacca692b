#include "executor_contract.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <fstream>
#include <iterator>
#include <set>
#include <thread>

namespace wharf::exec::testing {

using std::chrono::milliseconds;

std::vector<std::string> SplitLines(std::string_view text) {
  std::vector<std::string> lines;
  std::size_t begin = 0;
  for (std::size_t end; (end = text.find('\n', begin)) != std::string_view::npos; begin = end + 1) {
    lines.emplace_back(text.substr(begin, end - begin));
  }
  return lines;
}

bool ProcessGone(int pid) {
  if (::kill(pid, 0) != 0) return errno == ESRCH;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const auto close = text.rfind(')');
  return close != std::string::npos && close + 2 < text.size() && text[close + 2] == 'Z';
}

namespace {

std::string Lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

// Waits for every pid in `pids` to be gone.
bool AllGone(const std::vector<int>& pids) {
  return wharf::testing::WaitUntil([&] { return std::all_of(pids.begin(), pids.end(), ProcessGone); });
}

std::vector<int> ToPids(const std::vector<std::string>& lines) {
  std::vector<int> pids;
  for (const auto& line : lines) pids.push_back(std::stoi(line));
  return pids;
}

milliseconds Between(std::int64_t from_us, std::int64_t to_us) { return milliseconds((to_us - from_us) / 1000); }

std::int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

void ExecutorContractTest::SetUp() {
  harness_ = GetParam().make();
  if (harness_ == nullptr && GetParam().unavailable) GTEST_SKIP() << GetParam().unavailable();
  ASSERT_NE(harness_, nullptr);
  executor_ = harness_->MakeExecutor();
  ASSERT_NE(executor_, nullptr);
}

TaskSpec ExecutorContractTest::Spec(std::vector<std::string> argv) {
  static std::atomic<int> counter{0};
  TaskSpec spec;
  spec.id = "t" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
  spec.argv = std::move(argv);
  spec.run_dir = harness_->scratch() / spec.id;
  return spec;
}

std::string ExecutorContractTest::SubmitOrDie(const TaskSpec& spec) {
  Result<std::string> handle = executor_->Submit(spec);
  EXPECT_TRUE(handle.ok()) << handle.status().ToString();
  return handle.ok() ? *handle : std::string();
}

TaskStatus ExecutorContractTest::WaitForEnd(Executor& executor, const std::string& handle) {
  const Result<TaskStatus> status = wharf::testing::WaitFor(
      [&] { return executor.Poll(handle); },
      [](const Result<TaskStatus>& s) { return !s.ok() || IsFinal(s->outcome); });
  if (!status.ok()) {
    ADD_FAILURE() << "Poll(" << handle << "): " << status.status().ToString();
    return TaskStatus{};
  }
  if (!IsFinal(status->outcome)) {
    ADD_FAILURE() << "task " << handle << " still running after " << wharf::testing::kPatience.count()
                  << " ms: " << status->reason << "\nstdout: " << Log(handle, LogStream::kStdout)
                  << "\nstderr: " << Log(handle, LogStream::kStderr);
  }
  return *status;
}

std::vector<std::string> ExecutorContractTest::WaitForLines(const std::string& handle, std::size_t lines) {
  const std::vector<std::string> got = wharf::testing::WaitFor(
      [&] { return SplitLines(Log(handle, LogStream::kStdout)); },
      [&](const std::vector<std::string>& seen) { return seen.size() >= lines; });
  EXPECT_GE(got.size(), lines) << "stderr: " << Log(handle, LogStream::kStderr);
  return got;
}

std::string ExecutorContractTest::Log(const std::string& handle, LogStream stream) {
  Result<std::string> text = executor_->ReadLog(handle, stream, 0, 1 << 20);
  EXPECT_TRUE(text.ok()) << text.status().ToString();
  return text.ok() ? *text : std::string();
}

TEST_P(ExecutorContractTest, SucceedsAndCapturesStdoutAndStderrSeparately) {
  const std::string handle = SubmitOrDie(Spec({"/bin/sh", "-c", "echo out; echo err >&2"}));
  const TaskStatus status = WaitForEnd(handle);
  EXPECT_EQ(status.outcome, TaskOutcome::kSucceeded) << status.reason;
  EXPECT_EQ(status.exit_code, 0);
  EXPECT_FALSE(status.signal.has_value());
  EXPECT_GT(status.started_us, 0);
  EXPECT_GE(status.finished_us, status.started_us);
  EXPECT_EQ(Log(handle, LogStream::kStdout), "out\n");
  EXPECT_EQ(Log(handle, LogStream::kStderr), "err\n");
}

TEST_P(ExecutorContractTest, NonZeroExitIsFailedWithTheCode) {
  const TaskStatus status = WaitForEnd(SubmitOrDie(Spec({"/bin/sh", "-c", "exit 3"})));
  EXPECT_EQ(status.outcome, TaskOutcome::kFailed);
  EXPECT_EQ(status.exit_code, 3);
  EXPECT_NE(status.reason.find("exit code 3"), std::string::npos) << status.reason;
}

TEST_P(ExecutorContractTest, ShellMetacharactersArePassedLiterally) {
  const std::vector<std::string> args = {"; rm -rf /tmp/x", "$(id)", "*", "'single'", "\"double\"", "`uname`",
                                         "a  b", "| cat", "&& true", "> out.txt", "$HOME"};
  std::vector<std::string> argv = {"/bin/echo"};
  argv.insert(argv.end(), args.begin(), args.end());
  const TaskSpec spec = Spec(argv);
  const std::string handle = SubmitOrDie(spec);
  EXPECT_EQ(WaitForEnd(handle).outcome, TaskOutcome::kSucceeded);
  std::string expected;
  for (const auto& arg : args) expected += (expected.empty() ? "" : " ") + arg;
  EXPECT_EQ(Log(handle, LogStream::kStdout), expected + "\n");
  EXPECT_FALSE(std::filesystem::exists(spec.run_dir / "out.txt"));
}

TEST_P(ExecutorContractTest, EnvironmentIsExactlyTheGivenOne) {
  TaskSpec spec = Spec({"/usr/bin/env"});
  spec.env = {{"A", "1"}, {"B", "two words"}, {"C", "$HOME;x"}};
  const std::string handle = SubmitOrDie(spec);
  EXPECT_EQ(WaitForEnd(handle).outcome, TaskOutcome::kSucceeded);
  std::vector<std::string> lines = SplitLines(Log(handle, LogStream::kStdout));
  std::sort(lines.begin(), lines.end());
  EXPECT_EQ(lines, (std::vector<std::string>{"A=1", "B=two words", "C=$HOME;x"}));
}

TEST_P(ExecutorContractTest, SecretVariablesAreReadFromTheirFilesAndTheSecretsDirIsRemovedAfterwards) {
  const std::filesystem::path secrets = harness_->scratch() / "secrets";
  std::filesystem::create_directories(secrets / "env");
  std::ofstream(secrets / "env" / "TOKEN") << "s3cr3t value";
  std::ofstream(secrets / "key.json") << "{}";
  TaskSpec spec = Spec({"/usr/bin/env"});
  spec.env = {{"A", "1"}};
  spec.env_files = {{"TOKEN", secrets / "env" / "TOKEN"}};
  spec.secrets_dir = secrets;
  const std::string handle = SubmitOrDie(spec);
  EXPECT_EQ(WaitForEnd(handle).outcome, TaskOutcome::kSucceeded);
  std::vector<std::string> lines = SplitLines(Log(handle, LogStream::kStdout));
  std::sort(lines.begin(), lines.end());
  EXPECT_EQ(lines, (std::vector<std::string>{"A=1", "TOKEN=s3cr3t value"}));
  EXPECT_FALSE(std::filesystem::exists(secrets));
  std::ifstream written(spec.run_dir / "spec.json");
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(written), {}).find("s3cr3t"), std::string::npos);
}

TEST_P(ExecutorContractTest, SearchesTheTasksOwnPath) {
  TaskSpec spec = Spec({"echo", "found"});
  spec.env = {{"PATH", "/nonexistent:/bin"}};
  const std::string handle = SubmitOrDie(spec);
  EXPECT_EQ(WaitForEnd(handle).outcome, TaskOutcome::kSucceeded);
  EXPECT_EQ(Log(handle, LogStream::kStdout), "found\n");
}

TEST_P(ExecutorContractTest, WorkDirIsHonoured) {
  const std::filesystem::path work_dir = harness_->scratch() / "work dir";
  std::filesystem::create_directories(work_dir);
  TaskSpec spec = Spec({"/bin/pwd"});
  spec.work_dir = work_dir;
  const std::string handle = SubmitOrDie(spec);
  EXPECT_EQ(WaitForEnd(handle).outcome, TaskOutcome::kSucceeded);
  EXPECT_EQ(Log(handle, LogStream::kStdout), std::filesystem::canonical(work_dir).string() + "\n");
}

TEST_P(ExecutorContractTest, ReadLogHonoursOffsetAndLength) {
  const std::string handle = SubmitOrDie(Spec({"/usr/bin/printf", "abcdef"}));
  EXPECT_EQ(WaitForEnd(handle).outcome, TaskOutcome::kSucceeded);
  EXPECT_EQ(*executor_->ReadLog(handle, LogStream::kStdout, 2, 3), "cde");
  EXPECT_EQ(*executor_->ReadLog(handle, LogStream::kStdout, 4, 100), "ef");
  EXPECT_EQ(*executor_->ReadLog(handle, LogStream::kStdout, 6, 100), "");
  EXPECT_EQ(*executor_->ReadLog(handle, LogStream::kStdout, 1000, 100), "");
  EXPECT_EQ(*executor_->ReadLog(handle, LogStream::kStderr, 0, 100), "");
}

TEST_P(ExecutorContractTest, TimeoutEndsTheTaskAsTimedOut) {
  TaskSpec spec = Spec({"/bin/sleep", "100"});
  spec.timeout = milliseconds(300);
  const TaskStatus status = WaitForEnd(SubmitOrDie(spec));
  EXPECT_EQ(status.outcome, TaskOutcome::kTimedOut);
  EXPECT_NE(status.reason.find("timed out"), std::string::npos) << status.reason;
  const milliseconds ran = Between(status.started_us, status.finished_us);
  EXPECT_GE(ran, milliseconds(300));
  EXPECT_LT(ran, milliseconds(300) + harness_->slack());
}

TEST_P(ExecutorContractTest, CancelEndsTheWholeProcessGroup) {
  // Two background grandchildren, then the shell itself: their pids on stdout.
  const std::string handle =
      SubmitOrDie(Spec({"/bin/sh", "-c", "sleep 100 & echo $!; sleep 100 & echo $!; echo $$; wait"}));
  const std::vector<int> pids = ToPids(WaitForLines(handle, 3));
  ASSERT_EQ(pids.size(), 3u);
  for (int pid : pids) EXPECT_FALSE(ProcessGone(pid)) << pid;
  ASSERT_TRUE(executor_->Cancel(handle, milliseconds(2000)).ok());
  const TaskStatus status = WaitForEnd(handle);
  EXPECT_EQ(status.outcome, TaskOutcome::kCancelled);
  EXPECT_NE(status.reason.find("cancelled"), std::string::npos) << status.reason;
  EXPECT_TRUE(AllGone(pids));
  // Nothing is left in the process group either (the shell led it).
  EXPECT_TRUE(::kill(-pids[2], 0) != 0 && errno == ESRCH);
}

TEST_P(ExecutorContractTest, CancelKillsACommandThatIgnoresSigterm) {
  const std::string handle =
      SubmitOrDie(Spec({"/bin/sh", "-c", "trap '' TERM; echo $$; while :; do sleep 0.05; done"}));
  const std::vector<int> pids = ToPids(WaitForLines(handle, 1));
  ASSERT_EQ(pids.size(), 1u);
  const std::int64_t cancelled_us = NowUs();
  ASSERT_TRUE(executor_->Cancel(handle, milliseconds(300)).ok());
  const TaskStatus status = WaitForEnd(handle);
  EXPECT_EQ(status.outcome, TaskOutcome::kCancelled);
  EXPECT_EQ(status.signal, SIGKILL) << status.reason;
  const milliseconds took = Between(cancelled_us, status.finished_us);
  EXPECT_GE(took, milliseconds(250));  // the grace, less clock granularity
  EXPECT_LT(took, milliseconds(300) + harness_->slack());
  EXPECT_TRUE(AllGone(pids));
}

TEST_P(ExecutorContractTest, CancellingAFinishedTaskChangesNothing) {
  const std::string handle = SubmitOrDie(Spec({"/bin/true"}));
  EXPECT_EQ(WaitForEnd(handle).outcome, TaskOutcome::kSucceeded);
  EXPECT_TRUE(executor_->Cancel(handle, milliseconds(100)).ok());
  EXPECT_EQ(WaitForEnd(handle).outcome, TaskOutcome::kSucceeded);
}

TEST_P(ExecutorContractTest, ANewExecutorSeesTheSameFinalStatus) {
  const std::string handle = SubmitOrDie(Spec({"/bin/sh", "-c", "exit 7"}));
  const TaskStatus before = WaitForEnd(handle);
  executor_.reset();  // the server restarts
  std::unique_ptr<Executor> restarted = harness_->MakeExecutor();
  const TaskStatus after = WaitForEnd(*restarted, handle);
  EXPECT_EQ(after.outcome, before.outcome);
  EXPECT_EQ(after.exit_code, 7);
  EXPECT_EQ(after.reason, before.reason);
  EXPECT_EQ(after.started_us, before.started_us);
  EXPECT_EQ(after.finished_us, before.finished_us);
}

TEST_P(ExecutorContractTest, ANewExecutorCanCancelATaskStartedByAnOldOne) {
  const std::string handle = SubmitOrDie(Spec({"/bin/sh", "-c", "echo $$; sleep 100"}));
  const std::vector<int> pids = ToPids(WaitForLines(handle, 1));
  executor_.reset();
  std::unique_ptr<Executor> restarted = harness_->MakeExecutor();
  Result<TaskStatus> running = restarted->Poll(handle);
  ASSERT_TRUE(running.ok()) << running.status().ToString();
  EXPECT_EQ(running->outcome, TaskOutcome::kRunning);
  ASSERT_TRUE(restarted->Cancel(handle, milliseconds(1000)).ok());
  EXPECT_EQ(WaitForEnd(*restarted, handle).outcome, TaskOutcome::kCancelled);
  EXPECT_TRUE(AllGone(pids));
}

TEST_P(ExecutorContractTest, AKilledSupervisorIsReportedLost) {
  const std::string handle = SubmitOrDie(Spec({"/bin/sh", "-c", "echo $$; sleep 100"}));
  const std::vector<int> pids = ToPids(WaitForLines(handle, 1));
  if (!harness_->KillSupervisor(handle)) GTEST_SKIP() << "this executor has no supervisor to kill";
  const TaskStatus status = WaitForEnd(handle);
  EXPECT_EQ(status.outcome, TaskOutcome::kLost);
  EXPECT_NE(status.reason.find("supervisor died"), std::string::npos) << status.reason;
  EXPECT_GT(status.finished_us, 0);
  // The orphaned command does not run on unsupervised.
  EXPECT_TRUE(AllGone(pids));
  // And the verdict is stable.
  EXPECT_EQ(WaitForEnd(handle).reason, status.reason);
}

TEST_P(ExecutorContractTest, AMissingExecutableFailsWithAClearReason) {
  TaskSpec spec = Spec({"wharf-no-such-command"});
  spec.env = {{"PATH", "/usr/bin:/bin"}};
  const std::string handle = SubmitOrDie(spec);
  const TaskStatus status = WaitForEnd(handle);
  EXPECT_EQ(status.outcome, TaskOutcome::kFailed);
  EXPECT_EQ(status.exit_code, 127);
  const std::string said = Lower(status.reason + "\n" + Log(handle, LogStream::kStderr));
  EXPECT_NE(said.find("no such file"), std::string::npos) << said;
  EXPECT_NE(said.find("wharf-no-such-command"), std::string::npos) << said;
}

TEST_P(ExecutorContractTest, ManyShortTasksSubmittedAtOnceAllFinish) {
  constexpr int kThreads = 5;
  constexpr int kPerThread = 10;
  std::vector<TaskSpec> specs;
  for (int i = 0; i < kThreads * kPerThread; ++i) specs.push_back(Spec({"/bin/echo", std::to_string(i)}));
  std::vector<std::string> handles(specs.size());
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = t * kPerThread; i < (t + 1) * kPerThread; ++i) {
        Result<std::string> handle = executor_->Submit(specs[i]);
        if (handle.ok()) handles[i] = *handle;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (std::size_t i = 0; i < handles.size(); ++i) {
    ASSERT_FALSE(handles[i].empty()) << "submit " << i << " failed";
    const TaskStatus status = WaitForEnd(handles[i]);
    EXPECT_EQ(status.outcome, TaskOutcome::kSucceeded) << i << ": " << status.reason;
    EXPECT_EQ(Log(handles[i], LogStream::kStdout), std::to_string(i) + "\n");
  }
}

TEST_P(ExecutorContractTest, SubmitAllRunsEveryTaskWithItsOwnOutcomeAndLogs) {
  std::vector<TaskSpec> specs;
  for (int i = 0; i < 4; ++i) specs.push_back(Spec({"/bin/sh", "-c", "echo task " + std::to_string(i) + "; exit " + (i == 2 ? "3" : "0")}));
  Result<std::vector<std::string>> handles = executor_->SubmitAll(specs);
  ASSERT_TRUE(handles.ok()) << handles.status().ToString();
  ASSERT_EQ(handles->size(), 4u);
  for (std::size_t i = 0; i < 4; ++i) {
    const TaskStatus status = WaitForEnd((*handles)[i]);
    EXPECT_EQ(status.outcome, i == 2 ? TaskOutcome::kFailed : TaskOutcome::kSucceeded) << i << ": " << status.reason;
    if (i == 2) {
      EXPECT_EQ(status.exit_code, 3);
    }
    EXPECT_EQ(Log((*handles)[i], LogStream::kStdout), "task " + std::to_string(i) + "\n");
  }
}

TEST_P(ExecutorContractTest, CancellingOneOfASubmitAllLeavesTheOthersRunning) {
  std::vector<TaskSpec> specs;
  for (int i = 0; i < 3; ++i) specs.push_back(Spec({"/bin/sh", "-c", "echo up; sleep 2; echo done"}));
  Result<std::vector<std::string>> handles = executor_->SubmitAll(specs);
  ASSERT_TRUE(handles.ok()) << handles.status().ToString();
  WaitForLines((*handles)[1], 1);
  ASSERT_TRUE(executor_->Cancel((*handles)[1], milliseconds(500)).ok());
  EXPECT_EQ(WaitForEnd((*handles)[1]).outcome, TaskOutcome::kCancelled);
  for (std::size_t i : {0u, 2u}) {
    const TaskStatus status = WaitForEnd((*handles)[i]);
    EXPECT_EQ(status.outcome, TaskOutcome::kSucceeded) << i << ": " << status.reason;
    EXPECT_EQ(Log((*handles)[i], LogStream::kStdout), "up\ndone\n");
  }
}

TEST_P(ExecutorContractTest, SubmitAllWithABadSpecIsRefused) {
  std::vector<TaskSpec> specs = {Spec({"/bin/sh", "-c", "sleep 30"}), Spec({})};
  const auto handles = executor_->SubmitAll(specs);
  EXPECT_EQ(handles.status().code(), StatusCode::kInvalidArgument);
}

TEST_P(ExecutorContractTest, RejectsABadSpec) {
  TaskSpec spec = Spec({});
  EXPECT_EQ(executor_->Submit(spec).status().code(), StatusCode::kInvalidArgument);
  spec = Spec({"/bin/true"});
  spec.id = "no spaces";
  EXPECT_EQ(executor_->Submit(spec).status().code(), StatusCode::kInvalidArgument);
}

TEST_P(ExecutorContractTest, AnUnknownHandleIsAnError) {
  EXPECT_FALSE(executor_->Poll((harness_->scratch() / "no-task-here").string()).ok());
  EXPECT_FALSE(executor_->Poll("").ok());
}

}  // namespace wharf::exec::testing
