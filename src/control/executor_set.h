#pragma once
// The executors a server offers, as one Executor: a task runs on the one its
// definition names (TaskSpec::executor: "local" or "slurm"), else on the
// server's default; its handle says which one to ask afterwards (a Slurm
// handle starts with "slurm:", a local one is an absolute path).
// Thread-safe as its executors are.

#include <map>
#include <memory>
#include <string>

#include "exec/executor.h"

namespace wharf::control {

class ExecutorSet final : public exec::Executor {
 public:
  // `executors` by name ("local", "slurm"); `default_name` is one of them.
  ExecutorSet(std::map<std::string, std::unique_ptr<exec::Executor>> executors, std::string default_name)
      : executors_(std::move(executors)), default_(std::move(default_name)) {}

  // FailedPrecondition when the task names an executor this server lacks.
  Result<std::string> Submit(const exec::TaskSpec& spec) override;
  // Specs that all name one executor go to that executor's SubmitAll (on
  // Slurm, one job array); a mix is submitted one by one.
  Result<std::vector<std::string>> SubmitAll(const std::vector<exec::TaskSpec>& specs) override;
  Result<exec::TaskStatus> Poll(const std::string& handle) override;
  Status Cancel(const std::string& handle, std::chrono::milliseconds grace) override;
  Result<std::string> ReadLog(const std::string& handle, exec::LogStream stream, std::uint64_t offset,
                              std::size_t max_bytes) override;

 private:
  Result<exec::Executor*> ForHandle(const std::string& handle);

  std::map<std::string, std::unique_ptr<exec::Executor>> executors_;
  const std::string default_;
};

}  // namespace wharf::control
