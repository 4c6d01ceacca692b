#pragma once
// The behaviour every Executor must have, written once: an executor's test
// instantiates ExecutorContractTest with a factory for its harness.
//
//   INSTANTIATE_TEST_SUITE_P(Local, ExecutorContractTest,
//                            ::testing::Values(ContractParam{"Local", &MakeLocalHarness}));

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "exec/executor.h"
#include "testing/wait.h"

namespace wharf::exec::testing {

// What the contract suite needs from the executor under test.
class ExecutorHarness {
 public:
  virtual ~ExecutorHarness() = default;

  // A new executor object over the same state. The suite makes a second one
  // to play a restarted server.
  virtual std::unique_ptr<Executor> MakeExecutor() = 0;
  // A directory for run_dirs and work_dirs, removed after the test. The
  // commands must be able to see it.
  virtual const std::filesystem::path& scratch() const = 0;
  // Kills what supervises the task, as a crash would. false if the executor
  // has no such thing; the test is then skipped.
  virtual bool KillSupervisor(const std::string& handle) = 0;
  // How much later than asked a timeout or a kill may take effect: far less
  // than what the tests' commands would run without one, and room enough
  // for a busy machine.
  virtual std::chrono::milliseconds slack() const { return std::chrono::seconds(30); }
};

struct ContractParam {
  std::string name;
  std::function<std::unique_ptr<ExecutorHarness>()> make;  // null: the executor cannot run here
  std::function<std::string()> unavailable = nullptr;      // then why, and the tests skip
};
// So test listings show "GetParam() = Local" rather than the bytes.
inline void PrintTo(const ContractParam& param, std::ostream* out) { *out << param.name; }

class ExecutorContractTest : public ::testing::TestWithParam<ContractParam> {
 protected:
  void SetUp() override;

  // A spec running `argv` with an empty environment, in a fresh run_dir.
  TaskSpec Spec(std::vector<std::string> argv);
  // Submits `spec`, failing the test if that fails.
  std::string SubmitOrDie(const TaskSpec& spec);
  // Polls until the task is final, or fails with what it saw after testing::kPatience.
  TaskStatus WaitForEnd(Executor& executor, const std::string& handle);
  TaskStatus WaitForEnd(const std::string& handle) { return WaitForEnd(*executor_, handle); }
  // Polls stdout until it has `lines` complete lines; returns them.
  std::vector<std::string> WaitForLines(const std::string& handle, std::size_t lines);
  std::string Log(const std::string& handle, LogStream stream);

  std::unique_ptr<ExecutorHarness> harness_;
  std::unique_ptr<Executor> executor_;
};

// "a\nb\n" -> {"a", "b"}.
std::vector<std::string> SplitLines(std::string_view text);
// True once no process `pid` exists (zombies count as gone).
bool ProcessGone(int pid);

}  // namespace wharf::exec::testing
