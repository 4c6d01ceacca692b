#include "exec/task_spec.h"

#include <cmath>

namespace wharf::exec {
namespace {

bool IsIdChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

bool IsVariableName(const std::string& name) {
  return !name.empty() && name.find('=') == std::string::npos && name.find('\0') == std::string::npos;
}

}  // namespace

Status ValidateTaskSpec(const TaskSpec& spec) {
  if (spec.id.empty()) return InvalidArgument("task id is empty");
  for (char c : spec.id) {
    if (!IsIdChar(c)) {
      return InvalidArgument("task id '" + spec.id + "' has a character outside [A-Za-z0-9._-]");
    }
  }
  // "." and ".." would name the cgroup parent or its parent.
  if (spec.id == "." || spec.id == "..") return InvalidArgument("task id '" + spec.id + "' is reserved");
  if (spec.argv.empty()) return InvalidArgument("task '" + spec.id + "' has an empty argv");
  if (spec.argv[0].empty()) return InvalidArgument("task '" + spec.id + "' has an empty argv[0]");
  if (!spec.run_dir.is_absolute()) {
    return InvalidArgument("task '" + spec.id + "': run_dir '" + spec.run_dir.string() + "' is not absolute");
  }
  const double cpus = spec.resources.cpus;
  if (!std::isfinite(cpus) || cpus <= 0) {
    return InvalidArgument("task '" + spec.id + "': cpus must be > 0, got " + std::to_string(cpus));
  }
  if (spec.resources.ranks == 0) return InvalidArgument("task '" + spec.id + "': ranks must be >= 1");
  if (spec.resources.memory_bytes && *spec.resources.memory_bytes == 0) {
    return InvalidArgument("task '" + spec.id + "': memory_bytes must be > 0");
  }
  if (spec.resources.max_pids && *spec.resources.max_pids == 0) {
    return InvalidArgument("task '" + spec.id + "': max_pids must be > 0");
  }
  if (spec.timeout && spec.timeout->count() <= 0) {
    return InvalidArgument("task '" + spec.id + "': timeout must be > 0 ms");
  }
  for (const auto& [name, value] : spec.env) {
    if (!IsVariableName(name) || value.find('\0') != std::string::npos) {
      return InvalidArgument("task '" + spec.id + "': bad environment variable name '" + name + "'");
    }
  }
  for (const auto& [name, file] : spec.env_files) {
    if (!IsVariableName(name)) {
      return InvalidArgument("task '" + spec.id + "': bad environment variable name '" + name + "'");
    }
    if (!file.is_absolute()) {
      return InvalidArgument("task '" + spec.id + "': the file of variable " + name + " is not an absolute path");
    }
  }
  if (!spec.secrets_dir.empty() && !spec.secrets_dir.is_absolute()) {
    return InvalidArgument("task '" + spec.id + "': secrets_dir '" + spec.secrets_dir.string() + "' is not absolute");
  }
  for (const auto& arg : spec.argv) {
    if (arg.find('\0') != std::string::npos) {
      return InvalidArgument("task '" + spec.id + "': an argv element contains a NUL byte");
    }
  }
  return Status::Ok();
}

}  // namespace wharf::exec
