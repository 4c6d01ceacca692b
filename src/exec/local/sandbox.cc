#include "exec/local/sandbox.h"

#include <nlohmann/json.hpp>

namespace wharf::exec::local {

std::string SandboxToJson(const Sandbox& sandbox) {
  const nlohmann::json out = {
      {"cgroup_version", CgroupVersionName(sandbox.cgroups.version)},
      {"cgroup_memory", sandbox.cgroups.memory.string()},
      {"cgroup_pids", sandbox.cgroups.pids.string()},
      {"cgroup_cpu", sandbox.cgroups.cpu.string()},
      {"cgroup_parent", sandbox.cgroup_parent},
      {"kill_grace_ms", sandbox.kill_grace.count()},
  };
  return out.dump(2);
}

Result<Sandbox> SandboxFromJson(std::string_view text) {
  Sandbox sandbox;
  std::string version;
  try {
    const auto in = nlohmann::json::parse(text);
    version = in.at("cgroup_version").get<std::string>();
    sandbox.cgroups.memory = in.at("cgroup_memory").get<std::string>();
    sandbox.cgroups.pids = in.at("cgroup_pids").get<std::string>();
    sandbox.cgroups.cpu = in.at("cgroup_cpu").get<std::string>();
    sandbox.cgroup_parent = in.at("cgroup_parent").get<std::string>();
    sandbox.kill_grace = std::chrono::milliseconds(in.at("kill_grace_ms").get<std::int64_t>());
  } catch (const nlohmann::json::exception& e) {
    return DataLoss(std::string("bad sandbox JSON: ") + e.what());
  }
  Result<CgroupVersion> parsed = ParseCgroupVersion(version);
  if (!parsed.ok()) return DataLoss("bad sandbox JSON: " + parsed.status().message());
  sandbox.cgroups.version = *parsed;
  return sandbox;
}

}  // namespace wharf::exec::local
