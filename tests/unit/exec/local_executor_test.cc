// LocalExecutor behaviour beyond the shared contract: resource limits, the
// files of a run_dir, errors.

#include "exec/local/local_executor.h"

#include <atomic>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "exec/local/run_dir.h"
#include "exec/shim.h"
#include "testing/temp_dir.h"
#include "testing/wait.h"

namespace wharf::exec {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

constexpr std::uint64_t kMiB = 1024 * 1024;

class LocalExecutorTest : public ::testing::Test {
 protected:
  std::unique_ptr<LocalExecutor> Make(bool use_cgroups = true) {
    LocalExecutorOptions options;
    options.cgroup_parent = "wharf-test";
    options.use_cgroups = use_cgroups;
    options.kill_grace = milliseconds(1000);
    Result<std::unique_ptr<LocalExecutor>> executor = LocalExecutor::Create(options);
    EXPECT_TRUE(executor.ok()) << executor.status().ToString();
    return std::move(executor).value();
  }

  TaskSpec Spec(std::vector<std::string> argv) {
    static std::atomic<int> counter{0};
    TaskSpec spec;
    spec.id = "l" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
    spec.argv = std::move(argv);
    spec.run_dir = dir_.path() / spec.id;
    return spec;
  }

  static TaskStatus WaitForEnd(Executor& executor, const std::string& handle) {
    const Result<TaskStatus> status = wharf::testing::WaitFor(
        [&] { return executor.Poll(handle); },
        [](const Result<TaskStatus>& s) { return !s.ok() || IsFinal(s->outcome); });
    EXPECT_TRUE(status.ok()) << status.status().ToString();
    if (!status.ok()) return TaskStatus{};
    EXPECT_TRUE(IsFinal(status->outcome)) << "still " << TaskOutcomeName(status->outcome) << ": " << status->reason;
    return *status;
  }

  static std::string ReadText(const fs::path& path) {
    std::ifstream in(path);
    std::string text;
    std::getline(in, text);
    return text;
  }

  wharf::testing::TempDir dir_;
};

// Allocates and touches 300 MiB: tail keeps the whole newline-free input.
const std::vector<std::string> kMemoryHog = {"/bin/sh", "-c", "head -c 300M /dev/zero | tail"};

TEST_F(LocalExecutorTest, AnOverLimitTaskIsKilledAsOutOfMemory) {
  auto executor = Make();
  if (!executor->cgroups().has_memory()) {
    GTEST_SKIP() << "no writable memory cgroup controller (found cgroup "
                 << local::CgroupVersionName(executor->cgroups().version) << "): cannot enforce a memory limit";
  }
  TaskSpec spec = Spec(kMemoryHog);
  spec.env = {{"PATH", "/usr/bin:/bin"}};
  spec.resources.memory_bytes = 64 * kMiB;
  const TaskStatus status = WaitForEnd(*executor, *executor->Submit(spec));
  EXPECT_EQ(status.outcome, TaskOutcome::kOutOfMemory) << status.reason;
  EXPECT_EQ(status.reason, "out of memory (limit 64 MiB)");
}

TEST_F(LocalExecutorTest, WithoutCgroupsTheMemoryLimitIsAnAddressSpaceLimit) {
  auto executor = Make(/*use_cgroups=*/false);
  EXPECT_EQ(executor->cgroups().version, local::CgroupVersion::kNone);
  TaskSpec spec = Spec(kMemoryHog);
  spec.env = {{"PATH", "/usr/bin:/bin"}};
  spec.resources.memory_bytes = 64 * kMiB;
  const std::string handle = *executor->Submit(spec);
  const TaskStatus status = WaitForEnd(*executor, handle);
  // The allocation fails inside tail, which reports it and exits non-zero.
  EXPECT_EQ(status.outcome, TaskOutcome::kFailed) << status.reason;
  EXPECT_NE(ReadText(fs::path(handle) / local::kStderrFile).find("memory exhausted"), std::string::npos);
}

TEST_F(LocalExecutorTest, CgroupLimitsAreWrittenAndRemovedAfterwards) {
  auto executor = Make();
  const local::CgroupLayout& layout = executor->cgroups();
  if (layout.version != local::CgroupVersion::kV1 || !layout.has_memory() || layout.pids.empty() ||
      layout.cpu.empty()) {
    GTEST_SKIP() << "needs writable cgroup v1 memory, pids and cpu controllers";
  }
  TaskSpec spec = Spec({"/bin/sh", "-c", "echo started; sleep 100"});
  spec.resources = Resources{0.5, 128 * kMiB, 16};
  const std::string handle = *executor->Submit(spec);
  EXPECT_TRUE(wharf::testing::WaitUntil([&] { return !ReadText(fs::path(handle) / local::kStdoutFile).empty(); }))
      << "the task never printed 'started'";
  const fs::path group = fs::path("wharf-test") / spec.id;
  EXPECT_EQ(ReadText(layout.memory / group / "memory.limit_in_bytes"), std::to_string(128 * kMiB));
  EXPECT_EQ(ReadText(layout.pids / group / "pids.max"), "16");
  const std::string period = ReadText(layout.cpu / group / "cpu.cfs_period_us");
  EXPECT_EQ(ReadText(layout.cpu / group / "cpu.cfs_quota_us"), std::to_string(std::stoll(period) / 2));
  ASSERT_TRUE(executor->Cancel(handle, milliseconds(1000)).ok());
  EXPECT_EQ(WaitForEnd(*executor, handle).outcome, TaskOutcome::kCancelled);
  EXPECT_FALSE(fs::exists(layout.memory / group));
  EXPECT_FALSE(fs::exists(layout.pids / group));
  EXPECT_FALSE(fs::exists(layout.cpu / group));
}

TEST_F(LocalExecutorTest, ThePidLimitStopsAForkBomb) {
  auto executor = Make();
  if (executor->cgroups().pids.empty()) GTEST_SKIP() << "no writable pids cgroup controller";
  TaskSpec spec = Spec({"/bin/sh", "-c", "for i in 1 2 3 4 5 6 7 8 9 10; do sleep 5 & done; wait"});
  spec.resources.max_pids = 4;
  const std::string handle = *executor->Submit(spec);
  const TaskStatus status = WaitForEnd(*executor, handle);
  EXPECT_EQ(status.outcome, TaskOutcome::kFailed) << status.reason;
  EXPECT_NE(ReadText(fs::path(handle) / local::kStderrFile).find("Cannot fork"), std::string::npos);
}

TEST_F(LocalExecutorTest, TheRunDirHoldsSpecPidsLogsAndStatus) {
  auto executor = Make();
  const std::string handle = *executor->Submit(Spec({"/bin/true"}));
  EXPECT_EQ(WaitForEnd(*executor, handle).outcome, TaskOutcome::kSucceeded);
  for (std::string_view file : {local::kSpecFile, local::kSandboxFile, local::kShimPidFile, local::kTaskPidFile,
                                local::kStdoutFile, local::kStderrFile, local::kStatusFile}) {
    EXPECT_TRUE(fs::exists(fs::path(handle) / file)) << file;
  }
  EXPECT_FALSE(fs::exists(fs::path(handle) / local::kCancelFile));
}

TEST_F(LocalExecutorTest, TheHandleIsTheNormalisedRunDir) {
  auto executor = Make();
  TaskSpec spec = Spec({"/bin/true"});
  const fs::path expected = spec.run_dir;
  spec.run_dir = spec.run_dir.string() + "/./";
  EXPECT_EQ(*executor->Submit(spec), expected.string());
}

TEST_F(LocalExecutorTest, ARunDirHoldsOneTask) {
  auto executor = Make();
  const TaskSpec spec = Spec({"/bin/true"});
  ASSERT_TRUE(executor->Submit(spec).ok());
  EXPECT_EQ(executor->Submit(spec).status().code(), StatusCode::kAlreadyExists);
}

TEST_F(LocalExecutorTest, HandlesThatNameNoTaskAreRejected) {
  auto executor = Make();
  EXPECT_EQ(executor->Poll("relative/dir").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(executor->Poll(dir_.path().string()).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(executor->Cancel(dir_.path().string(), milliseconds(10)).code(), StatusCode::kNotFound);
  EXPECT_EQ(executor->ReadLog(dir_.path().string(), LogStream::kStdout, 0, 10).status().code(),
            StatusCode::kNotFound);
}

TEST_F(LocalExecutorTest, ASubmitThatDiedBeforeItsSupervisorStartedIsLostAfterAWhile) {
  auto executor = Make();
  const TaskSpec spec = Spec({"/bin/true"});
  fs::create_directories(spec.run_dir);
  std::ofstream(spec.run_dir / local::kSpecFile) << "{}";
  EXPECT_EQ(executor->Poll(spec.run_dir.string())->outcome, TaskOutcome::kRunning);
  fs::last_write_time(spec.run_dir / local::kSpecFile, fs::file_time_type::clock::now() - std::chrono::minutes(5));
  const Result<TaskStatus> status = executor->Poll(spec.run_dir.string());
  ASSERT_TRUE(status.ok()) << status.status().ToString();
  EXPECT_EQ(status->outcome, TaskOutcome::kLost);
  EXPECT_NE(status->reason.find("never started"), std::string::npos) << status->reason;
}

TEST_F(LocalExecutorTest, TheWharfBinaryCanHostTheSupervisor) {
  if (!fs::exists(WHARF_BINARY)) GTEST_SKIP() << WHARF_BINARY << " is not built";
  LocalExecutorOptions options;
  options.shim_executable = WHARF_BINARY;
  options.cgroup_parent = "wharf-test";
  auto executor = std::move(LocalExecutor::Create(options)).value();
  const Result<std::string> handle = executor->Submit(Spec({"/bin/echo", "hosted"}));
  ASSERT_TRUE(handle.ok()) << handle.status().ToString();
  EXPECT_EQ(WaitForEnd(*executor, *handle).outcome, TaskOutcome::kSucceeded);
  EXPECT_EQ(*executor->ReadLog(*handle, LogStream::kStdout, 0, 100), "hosted\n");
}

TEST_F(LocalExecutorTest, AnUnstartableSupervisorFailsSubmit) {
  LocalExecutorOptions options;
  options.shim_executable = "/bin/false";
  auto executor = std::move(LocalExecutor::Create(options)).value();
  Result<std::string> handle = executor->Submit(Spec({"/bin/true"}));
  EXPECT_EQ(handle.status().code(), StatusCode::kInternal);
  EXPECT_NE(handle.status().message().find("did not start"), std::string::npos) << handle.status().message();
}

TEST_F(LocalExecutorTest, RejectsABadCgroupParent) {
  LocalExecutorOptions options;
  options.cgroup_parent = "../escape";
  EXPECT_EQ(LocalExecutor::Create(options).status().code(), StatusCode::kInvalidArgument);
}

TEST(MaybeRunShimTest, IgnoresOrdinaryCommandLines) {
  char program[] = "wharf";
  char train[] = "train";
  char* argv[] = {program, train, nullptr};
  EXPECT_FALSE(MaybeRunShim(2, argv).has_value());
  EXPECT_FALSE(MaybeRunShim(1, argv).has_value());
}

TEST(MaybeRunShimTest, RejectsAShimCallWithoutAnAbsoluteRunDir) {
  char program[] = "wharf";
  std::string marker(kShimArgument);
  char relative[] = "relative";
  char* argv[] = {program, marker.data(), relative, nullptr};
  EXPECT_EQ(MaybeRunShim(3, argv), 2);
  EXPECT_EQ(MaybeRunShim(2, argv), 2);
}

}  // namespace
}  // namespace wharf::exec
