// The executor contract, run against SlurmExecutor on a real Slurm cluster
// (scripts/slurm-up, three nodes) that this process starts once and stops
// at exit. Also: what only Slurm does (a job cancelled while pending, a node
// taken down under a running task).

#include <signal.h>
#include <unistd.h>

#include <memory>

#include "core/file.h"
#include "exec/local/proc.h"
#include "exec/local/run_dir.h"
#include "exec/slurm/command.h"
#include "exec/slurm/slurm_executor.h"
#include "executor_contract.h"
#include "testing/process.h"
#include "testing/slurm_cluster.h"
#include "testing/temp_dir.h"
#include "testing/wait.h"

namespace wharf::exec::testing {
namespace {

// The cluster every Slurm test of this process shares, or why there is none.
struct SharedCluster {
  std::unique_ptr<wharf::testing::SlurmCluster> cluster;
  std::string unavailable;
};

SharedCluster& Cluster() {
  static SharedCluster shared = [] {
    SharedCluster s;
    auto started = wharf::testing::SlurmCluster::Start(3);
    if (started.ok()) {
      s.cluster = std::move(started).value();
    } else {
      s.unavailable = started.status().message();
    }
    return s;
  }();
  return shared;
}

class SlurmHarness final : public ExecutorHarness {
 public:
  std::unique_ptr<Executor> MakeExecutor() override {
    if (!Cluster().cluster) return nullptr;
    SlurmExecutorOptions options;
    options.slurm_conf = Cluster().cluster->conf();
    options.kill_grace = std::chrono::milliseconds(2000);
    Result<std::unique_ptr<SlurmExecutor>> executor = SlurmExecutor::Create(options);
    EXPECT_TRUE(executor.ok()) << executor.status().ToString();
    return executor.ok() ? std::move(executor).value() : nullptr;
  }

  const std::filesystem::path& scratch() const override { return dir_.path(); }

  bool KillSupervisor(const std::string& handle) override {
    const std::filesystem::path run_dir = handle.substr(handle.find(':', 6) + 1);
    // A job starts a little after Submit (longer when Slurm's nodes are busy).
    const Result<std::string> text = wharf::testing::WaitFor([&] { return ReadFile(run_dir / local::kShimPidFile); },
                                                             [](const Result<std::string>& t) { return t.ok(); });
    EXPECT_TRUE(text.ok()) << text.status().ToString();
    if (!text.ok()) return true;
    Result<local::ProcessIdentity> shim = local::ParseIdentity(*text);
    EXPECT_TRUE(shim.ok()) << shim.status().ToString();
    if (shim.ok()) {
      EXPECT_TRUE(local::SignalProcess(*shim, SIGKILL).ok());
    }
    return true;
  }

 private:
  wharf::testing::TempDir dir_;
};

std::unique_ptr<ExecutorHarness> MakeSlurmHarness() {
  if (!Cluster().cluster) return nullptr;
  return std::make_unique<SlurmHarness>();
}

INSTANTIATE_TEST_SUITE_P(Slurm, ExecutorContractTest, ::testing::Values(ContractParam{"Slurm", &MakeSlurmHarness, [] { return Cluster().unavailable; }}),
                         [](const ::testing::TestParamInfo<ContractParam>& param_info) { return param_info.param.name; });

}  // namespace
}  // namespace wharf::exec::testing

namespace wharf::exec::testing {
namespace {

// What only the Slurm executor does with a batch: one job array.
TEST(SlurmArrayTest, AlikeTasksBecomeOneJobArrayAndOthersSeparateJobs) {
  if (!Cluster().cluster) GTEST_SKIP() << Cluster().unavailable;
  SlurmHarness harness;
  std::unique_ptr<Executor> executor = harness.MakeExecutor();
  ASSERT_NE(executor, nullptr);
  auto spec = [&](const std::string& id, double cpus) {
    TaskSpec s;
    s.id = id + "-" + std::to_string(::getpid());
    s.argv = {"/bin/echo", id};
    s.run_dir = harness.scratch() / s.id;
    s.resources.cpus = cpus;
    return s;
  };
  Result<std::vector<std::string>> alike = executor->SubmitAll({spec("a0", 1), spec("a1", 1), spec("a2", 1)});
  ASSERT_TRUE(alike.ok()) << alike.status().ToString();
  const std::string job = (*alike)[0].substr(6, (*alike)[0].find('_') - 6);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ((*alike)[i].rfind("slurm:" + job + "_" + std::to_string(i) + ":", 0), 0u) << (*alike)[i];
  }
  ::setenv("SLURM_CONF", Cluster().cluster->conf().c_str(), 1);  // for the scontrol below
  const std::string shown = wharf::testing::RunProcess({"scontrol", "-o", "show", "job", job + "_1"}).out;
  EXPECT_NE(shown.find("ArrayJobId=" + job), std::string::npos) << shown;

  Result<std::vector<std::string>> mixed = executor->SubmitAll({spec("m0", 1), spec("m1", 2)});
  ASSERT_TRUE(mixed.ok()) << mixed.status().ToString();
  EXPECT_EQ((*mixed)[0].find('_'), std::string::npos) << (*mixed)[0];

  std::vector<std::string> all = *alike;
  all.insert(all.end(), mixed->begin(), mixed->end());
  for (const auto& handle : all) {
    const Result<TaskStatus> status = wharf::testing::WaitFor(
        [&] { return executor->Poll(handle); },
        [](const Result<TaskStatus>& s) { return !s.ok() || IsFinal(s->outcome); });
    ASSERT_TRUE(status.ok()) << status.status().ToString();
    EXPECT_EQ(status->outcome, TaskOutcome::kSucceeded) << handle << ": " << status->reason;
  }
  EXPECT_EQ(*executor->ReadLog((*alike)[2], LogStream::kStdout, 0, 100), "a2\n");
}

}  // namespace
}  // namespace wharf::exec::testing
