#include "control/job_registry.h"

#include <fmt/format.h>

namespace wharf::control {

Status JobRegistry::Add(JobType job) {
  if (jobs_.contains(job.name)) return AlreadyExists(fmt::format("job '{}' is already registered", job.name));
  std::string name = job.name;
  jobs_.emplace(std::move(name), std::move(job));
  return Status::Ok();
}

const JobType* JobRegistry::Find(const std::string& name) const {
  auto it = jobs_.find(name);
  return it == jobs_.end() ? nullptr : &it->second;
}

Status JobRegistry::CheckParams(const JobType& job, const nlohmann::json& params) {
  if (!params.is_object()) return InvalidArgument("params: must be an object");
  for (const auto& p : job.params) {
    if (p.required && !params.contains(p.name)) {
      return InvalidArgument(fmt::format("params.{}: required by job '{}'", p.name, job.name));
    }
  }
  for (const auto& [key, value] : params.items()) {
    bool known = false;
    for (const auto& p : job.params) known = known || p.name == key;
    if (!known) {
      std::string names;
      for (const auto& p : job.params) names += (names.empty() ? "" : ", ") + p.name;
      return InvalidArgument(fmt::format("params.{}: job '{}' has no such parameter (it takes: {})", key, job.name, names));
    }
  }
  return Status::Ok();
}

}  // namespace wharf::control
