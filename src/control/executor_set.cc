#include "control/executor_set.h"

#include <algorithm>

#include <fmt/format.h>

namespace wharf::control {

Result<std::string> ExecutorSet::Submit(const exec::TaskSpec& spec) {
  const std::string& name = spec.executor.empty() ? default_ : spec.executor;
  auto it = executors_.find(name);
  if (it == executors_.end()) {
    return FailedPrecondition(fmt::format("executor: this server has no '{}' executor (it runs tasks on '{}'; "
                                          "start it with --executor slurm or --slurm-conf to offer Slurm)",
                                          name, default_));
  }
  return it->second->Submit(spec);
}

Result<std::vector<std::string>> ExecutorSet::SubmitAll(const std::vector<exec::TaskSpec>& specs) {
  auto name = [this](const exec::TaskSpec& spec) { return spec.executor.empty() ? default_ : spec.executor; };
  const bool one_executor = !specs.empty() && std::all_of(specs.begin(), specs.end(), [&](const exec::TaskSpec& s) {
    return name(s) == name(specs.front());
  });
  auto it = one_executor ? executors_.find(name(specs.front())) : executors_.end();
  if (it == executors_.end()) return Executor::SubmitAll(specs);  // each Submit routes, or says what is missing
  return it->second->SubmitAll(specs);
}

Result<exec::Executor*> ExecutorSet::ForHandle(const std::string& handle) {
  const std::string name = handle.starts_with("slurm:") ? "slurm" : "local";
  auto it = executors_.find(name);
  if (it == executors_.end()) {
    return FailedPrecondition(fmt::format("task handle '{}' is a {} task, and this server has no {} executor",
                                          handle, name, name));
  }
  return it->second.get();
}

Result<exec::TaskStatus> ExecutorSet::Poll(const std::string& handle) {
  WHARF_ASSIGN_OR_RETURN(exec::Executor * executor, ForHandle(handle));
  return executor->Poll(handle);
}

Status ExecutorSet::Cancel(const std::string& handle, std::chrono::milliseconds grace) {
  WHARF_ASSIGN_OR_RETURN(exec::Executor * executor, ForHandle(handle));
  return executor->Cancel(handle, grace);
}

Result<std::string> ExecutorSet::ReadLog(const std::string& handle, exec::LogStream stream, std::uint64_t offset,
                                         std::size_t max_bytes) {
  WHARF_ASSIGN_OR_RETURN(exec::Executor * executor, ForHandle(handle));
  return executor->ReadLog(handle, stream, offset, max_bytes);
}

}  // namespace wharf::control
