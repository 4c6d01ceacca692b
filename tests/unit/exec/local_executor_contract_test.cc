// The executor contract, run against LocalExecutor.

#include <signal.h>

#include "core/file.h"
#include "exec/local/local_executor.h"
#include "exec/local/proc.h"
#include "exec/local/run_dir.h"
#include "executor_contract.h"
#include "testing/temp_dir.h"

namespace wharf::exec::testing {
namespace {

class LocalHarness final : public ExecutorHarness {
 public:
  std::unique_ptr<Executor> MakeExecutor() override {
    LocalExecutorOptions options;
    options.cgroup_parent = "wharf-test";
    options.kill_grace = std::chrono::milliseconds(2000);
    Result<std::unique_ptr<LocalExecutor>> executor = LocalExecutor::Create(options);
    EXPECT_TRUE(executor.ok()) << executor.status().ToString();
    return executor.ok() ? std::move(executor).value() : nullptr;
  }

  const std::filesystem::path& scratch() const override { return dir_.path(); }

  bool KillSupervisor(const std::string& handle) override {
    Result<std::string> text = ReadFile(std::filesystem::path(handle) / local::kShimPidFile);
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

INSTANTIATE_TEST_SUITE_P(Local, ExecutorContractTest,
                         ::testing::Values(ContractParam{"Local", [] { return std::make_unique<LocalHarness>(); }}),
                         [](const ::testing::TestParamInfo<ContractParam>& param_info) { return param_info.param.name; });

}  // namespace
}  // namespace wharf::exec::testing
