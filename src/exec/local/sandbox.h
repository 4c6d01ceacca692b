#pragma once
// How the supervisor confines one task, decided by the executor that
// submitted it and stored beside the spec (sandbox.json), so the supervisor
// and a later executor act on the same decision. A plain value.

#include <chrono>
#include <string>
#include <string_view>

#include "core/status.h"
#include "exec/local/cgroup.h"

namespace wharf::exec::local {

struct Sandbox {
  CgroupLayout cgroups;               // kNone: setrlimit only
  std::string cgroup_parent = "wharf";  // the task's group is <controller>/<parent>/<id>
  std::chrono::milliseconds kill_grace{5000};  // after a timeout, from SIGTERM to SIGKILL
};

std::string SandboxToJson(const Sandbox& sandbox);
// DataLoss if `json` is not a Sandbox written by SandboxToJson.
Result<Sandbox> SandboxFromJson(std::string_view json);

}  // namespace wharf::exec::local
