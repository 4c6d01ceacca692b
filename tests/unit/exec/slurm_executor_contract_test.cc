// The executor contract, run against SlurmExecutor on a real Slurm cluster
// (scripts/slurm-up, three nodes) that this process starts once and stops
// at exit. Also: what only Slurm does (a job cancelled while pending, a node
// taken down under a running task).

#include <signal.h>

#include <memory>
#include <thread>

#include "core/file.h"
#include "exec/local/proc.h"
#include "exec/local/run_dir.h"
#include "exec/slurm/command.h"
#include "exec/slurm/slurm_executor.h"
#include "executor_contract.h"
#include "testing/slurm_cluster.h"
#include "testing/temp_dir.h"

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
    Result<std::string> text = ReadFile(run_dir / local::kShimPidFile);
    for (int i = 0; i < 100 && !text.ok(); ++i) {  // a job starts a little after Submit
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      text = ReadFile(run_dir / local::kShimPidFile);
    }
    EXPECT_TRUE(text.ok()) << text.status().ToString();
    if (!text.ok()) return true;
    Result<local::ProcessIdentity> shim = local::ParseIdentity(*text);
    EXPECT_TRUE(shim.ok()) << shim.status().ToString();
    if (shim.ok()) {
      EXPECT_TRUE(local::SignalProcess(*shim, SIGKILL).ok());
    }
    return true;
  }

  // Slurm schedules: a job starts up to a second or two after Submit.
  std::chrono::milliseconds slack() const override { return std::chrono::milliseconds(5000); }

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
