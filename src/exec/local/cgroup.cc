#include "exec/local/cgroup.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "exec/local/run_dir.h"

namespace wharf::exec::local {
namespace {

namespace fs = std::filesystem;

constexpr std::uint64_t kDefaultCfsPeriodUs = 100'000;
constexpr std::uint64_t kMinCfsQuotaUs = 1'000;  // the kernel's lower bound

bool Writable(const fs::path& path) { return ::access(path.c_str(), W_OK) == 0; }
bool Exists(const fs::path& path) { return ::access(path.c_str(), F_OK) == 0; }

Status WriteValue(const fs::path& file, std::string_view value) {
  std::ofstream out(file);
  out << value;
  out.flush();
  if (!out) return IoError("cannot write '" + std::string(value) + "' to " + file.string());
  return Status::Ok();
}

std::optional<std::uint64_t> ReadNumber(const fs::path& file) {
  std::ifstream in(file);
  std::uint64_t value = 0;
  if (!(in >> value)) return std::nullopt;
  return value;
}

// The value of `key` in a flat "key value" file (memory.events, memory.oom_control).
std::optional<std::uint64_t> ReadKey(const fs::path& file, std::string_view key) {
  std::ifstream in(file);
  std::string name;
  std::uint64_t value = 0;
  while (in >> name >> value) {
    if (name == key) return value;
  }
  return std::nullopt;
}

// Makes <under>/<id>, replacing an empty group left by a dead task.
Status MakeGroup(const fs::path& under, const fs::path& dir) {
  if (::mkdir(under.c_str(), 0755) != 0 && errno != EEXIST) {
    return IoError("cannot create cgroup " + under.string() + ": " + std::strerror(errno));
  }
  if (::mkdir(dir.c_str(), 0755) == 0) return Status::Ok();
  if (errno != EEXIST) return IoError("cannot create cgroup " + dir.string() + ": " + std::strerror(errno));
  if (::rmdir(dir.c_str()) != 0) {
    return FailedPrecondition("cgroup " + dir.string() + " is still in use (" + std::strerror(errno) +
                              "): is another task with this id running?");
  }
  if (::mkdir(dir.c_str(), 0755) != 0) {
    return IoError("cannot create cgroup " + dir.string() + ": " + std::strerror(errno));
  }
  return Status::Ok();
}

std::uint64_t CfsQuota(double cpus, std::uint64_t period) {
  const double quota = std::llround(cpus * static_cast<double>(period));
  return std::max<std::uint64_t>(kMinCfsQuotaUs, static_cast<std::uint64_t>(quota));
}

// Applies the limits to the v1 groups at <controller>/`relative`.
Status LimitV1(const CgroupLayout& layout, const fs::path& relative, const Resources& resources) {
  if (resources.memory_bytes && layout.has_memory()) {
    const fs::path dir = layout.memory / relative;
    const std::string bytes = std::to_string(*resources.memory_bytes);
    WHARF_RETURN_IF_ERROR(WriteValue(dir / "memory.limit_in_bytes", bytes));
    // Without this, a machine with swap would page the task out rather than kill it.
    if (Exists(dir / "memory.memsw.limit_in_bytes")) (void)WriteValue(dir / "memory.memsw.limit_in_bytes", bytes);
  }
  if (resources.max_pids && !layout.pids.empty()) {
    WHARF_RETURN_IF_ERROR(WriteValue(layout.pids / relative / "pids.max", std::to_string(*resources.max_pids)));
  }
  if (!layout.cpu.empty()) {
    const fs::path dir = layout.cpu / relative;
    const std::uint64_t period = ReadNumber(dir / "cpu.cfs_period_us").value_or(kDefaultCfsPeriodUs);
    WHARF_RETURN_IF_ERROR(WriteValue(dir / "cpu.cfs_quota_us", std::to_string(CfsQuota(resources.total_cpus(), period))));
  }
  return Status::Ok();
}

// The v2 tree's root: every available controller's path names it.
fs::path UnifiedRoot(const CgroupLayout& layout) {
  return !layout.memory.empty() ? layout.memory : !layout.pids.empty() ? layout.pids : layout.cpu;
}

// Makes the v2 group `under` (a child of the root) and delegates `layout`'s
// controllers to its children. Returns the layout without the controllers
// that could not be enabled.
CgroupLayout EnableV2Controllers(CgroupLayout layout, const fs::path& under) {
  for (fs::path* controller : {&layout.memory, &layout.pids, &layout.cpu}) {
    if (controller->empty()) continue;
    const char* name = controller == &layout.memory ? "+memory" : controller == &layout.pids ? "+pids" : "+cpu";
    // The root's subtree_control first (harmless if already on), then ours.
    (void)WriteValue(*controller / "cgroup.subtree_control", name);
    if (::mkdir(under.c_str(), 0755) != 0 && errno != EEXIST) {
      controller->clear();
      continue;
    }
    if (!WriteValue(under / "cgroup.subtree_control", name).ok()) controller->clear();
  }
  if (layout.memory.empty() && layout.pids.empty() && layout.cpu.empty()) return CgroupLayout{};
  return layout;
}

Status LimitV2(const CgroupLayout& layout, const fs::path& dir, const Resources& resources) {
  if (resources.memory_bytes && layout.has_memory()) {
    WHARF_RETURN_IF_ERROR(WriteValue(dir / "memory.max", std::to_string(*resources.memory_bytes)));
    if (Exists(dir / "memory.swap.max")) (void)WriteValue(dir / "memory.swap.max", "0");
    // One OOM kill ends the whole task rather than leaving it half-alive.
    if (Exists(dir / "memory.oom.group")) (void)WriteValue(dir / "memory.oom.group", "1");
  }
  if (resources.max_pids && !layout.pids.empty()) {
    WHARF_RETURN_IF_ERROR(WriteValue(dir / "pids.max", std::to_string(*resources.max_pids)));
  }
  if (!layout.cpu.empty()) {
    const std::string quota = std::to_string(CfsQuota(resources.total_cpus(), kDefaultCfsPeriodUs));
    WHARF_RETURN_IF_ERROR(WriteValue(dir / "cpu.max", quota + " " + std::to_string(kDefaultCfsPeriodUs)));
  }
  return Status::Ok();
}

}  // namespace

std::string_view CgroupVersionName(CgroupVersion version) {
  switch (version) {
    case CgroupVersion::kNone: return "none";
    case CgroupVersion::kV1: return "v1";
    case CgroupVersion::kV2: return "v2";
  }
  return "none";
}

Result<CgroupVersion> ParseCgroupVersion(std::string_view name) {
  for (CgroupVersion v : {CgroupVersion::kNone, CgroupVersion::kV1, CgroupVersion::kV2}) {
    if (CgroupVersionName(v) == name) return v;
  }
  return InvalidArgument("unknown cgroup version '" + std::string(name) + "'; known: none, v1, v2");
}

CgroupLayout DetectCgroups(const fs::path& root) {
  CgroupLayout v1{CgroupVersion::kV1, {}, {}, {}};
  if (Exists(root / "memory" / "memory.limit_in_bytes") && Writable(root / "memory")) v1.memory = root / "memory";
  if (Exists(root / "pids" / "pids.max") || Exists(root / "pids" / "cgroup.procs")) {
    if (Writable(root / "pids")) v1.pids = root / "pids";
  }
  if (Exists(root / "cpu" / "cpu.cfs_quota_us") && Writable(root / "cpu")) v1.cpu = root / "cpu";
  if (!v1.memory.empty() || !v1.pids.empty() || !v1.cpu.empty()) return v1;

  // Pure v2 mounts the tree at `root`; the hybrid layout at root/unified.
  for (const fs::path& unified : {root, root / "unified"}) {
    std::ifstream in(unified / "cgroup.controllers");
    if (!in || !Writable(unified)) continue;
    CgroupLayout v2{CgroupVersion::kV2, {}, {}, {}};
    std::string controller;
    while (in >> controller) {
      if (controller == "memory") v2.memory = unified;
      if (controller == "pids") v2.pids = unified;
      if (controller == "cpu") v2.cpu = unified;
    }
    if (!v2.memory.empty() || !v2.pids.empty() || !v2.cpu.empty()) return v2;
  }
  return CgroupLayout{};
}

CgroupLayout PrepareCgroupParent(const CgroupLayout& detected, std::string_view parent) {
  if (detected.version == CgroupVersion::kV2) {
    return EnableV2Controllers(detected, UnifiedRoot(detected) / parent);
  }
  if (detected.version != CgroupVersion::kV1) return CgroupLayout{};
  CgroupLayout usable = detected;
  for (fs::path* controller : {&usable.memory, &usable.pids, &usable.cpu}) {
    if (controller->empty()) continue;
    const fs::path under = *controller / parent;
    if ((::mkdir(under.c_str(), 0755) != 0 && errno != EEXIST) || !Writable(under)) controller->clear();
  }
  if (usable.memory.empty() && usable.pids.empty() && usable.cpu.empty()) return CgroupLayout{};
  return usable;
}

TaskCgroup TaskCgroup::Name(const CgroupLayout& layout, std::string_view parent, std::string_view id) {
  TaskCgroup group;
  group.version_ = layout.version;
  const fs::path relative = fs::path(parent) / id;
  if (layout.version == CgroupVersion::kV1) {
    if (!layout.pids.empty()) group.dirs_.push_back(layout.pids / relative);
    if (!layout.cpu.empty()) group.dirs_.push_back(layout.cpu / relative);
    if (!layout.memory.empty()) {
      group.memory_dir_ = layout.memory / relative;
      group.dirs_.push_back(group.memory_dir_);
    }
  } else if (layout.version == CgroupVersion::kV2) {
    group.dirs_.push_back(UnifiedRoot(layout) / relative);
    if (!layout.memory.empty()) group.memory_dir_ = group.dirs_.back();
  }
  for (const auto& dir : group.dirs_) group.procs_files_.push_back((dir / "cgroup.procs").string());
  return group;
}

Result<TaskCgroup> TaskCgroup::Create(const CgroupLayout& layout, std::string_view parent, std::string_view id,
                                      const Resources& resources) {
  CgroupLayout used = layout;
  // v1: a memory group only to enforce a limit; without one the task stays
  // in its parent's memory accounting.
  if (layout.version == CgroupVersion::kV1 && !resources.memory_bytes) used.memory.clear();
  TaskCgroup group = Name(used, parent, id);
  if (!resources.memory_bytes) group.memory_dir_.clear();
  const fs::path relative = fs::path(parent) / id;
  Status made;
  if (used.version == CgroupVersion::kV2) {
    const fs::path under = group.dirs_.front().parent_path();
    // Again, in case the parent was removed since the executor prepared it.
    EnableV2Controllers(used, under);
    made = MakeGroup(under, group.dirs_.front());
    if (made.ok()) made = LimitV2(used, group.dirs_.front(), resources);
  } else {
    for (const auto& dir : group.dirs_) {
      made = MakeGroup(dir.parent_path(), dir);
      if (!made.ok()) break;
    }
    if (made.ok()) made = LimitV1(used, relative, resources);
  }
  if (!made.ok()) {
    (void)group.Remove(0);
    return made;
  }
  return group;
}

TaskCgroup TaskCgroup::Existing(const CgroupLayout& layout, std::string_view parent, std::string_view id) {
  TaskCgroup group = Name(layout, parent, id);
  std::vector<fs::path> present;
  for (const auto& dir : group.dirs_) {
    if (Exists(dir)) present.push_back(dir);
  }
  group.dirs_ = present;
  group.procs_files_.clear();
  for (const auto& dir : group.dirs_) group.procs_files_.push_back((dir / "cgroup.procs").string());
  if (!Exists(group.memory_dir_)) group.memory_dir_.clear();
  return group;
}

bool TaskCgroup::OomKilled(bool killed_by_sigkill) const {
  if (memory_dir_.empty()) return false;
  const fs::path events = version_ == CgroupVersion::kV2 ? memory_dir_ / "memory.events" : memory_dir_ / "memory.oom_control";
  if (auto kills = ReadKey(events, "oom_kill")) return *kills > 0;
  const fs::path failcnt = version_ == CgroupVersion::kV2 ? memory_dir_ / "memory.events" : memory_dir_ / "memory.failcnt";
  const auto failures = version_ == CgroupVersion::kV2 ? ReadKey(failcnt, "max") : ReadNumber(failcnt);
  return killed_by_sigkill && failures.value_or(0) > 0;
}

int TaskCgroup::SignalAll(int signal) const {
  std::set<pid_t> pids;
  for (const auto& file : procs_files_) {
    std::ifstream in(file);
    pid_t pid = 0;
    while (in >> pid) pids.insert(pid);
  }
  for (pid_t pid : pids) ::kill(pid, signal);
  return static_cast<int>(pids.size());
}

Status TaskCgroup::Remove(int patience_ms) {
  Status result;
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::milliseconds(patience_ms);
  for (auto it = dirs_.rbegin(); it != dirs_.rend(); ++it) {
    for (;;) {
      if (::rmdir(it->c_str()) == 0 || errno == ENOENT) break;
      if (errno != EBUSY || std::chrono::steady_clock::now() >= give_up) {
        result = IoError("cannot remove cgroup " + it->string() + ": " + std::strerror(errno));
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  dirs_.clear();
  procs_files_.clear();
  memory_dir_.clear();
  return result;
}

std::string FormatBytes(std::uint64_t bytes) {
  constexpr std::uint64_t kKiB = 1024;
  struct Unit {
    std::uint64_t size;
    const char* name;
  };
  for (const Unit unit : {Unit{kKiB * kKiB * kKiB, "GiB"}, Unit{kKiB * kKiB, "MiB"}, Unit{kKiB, "KiB"}}) {
    if (bytes < unit.size) continue;
    std::ostringstream out;
    if (bytes % unit.size == 0) {
      out << bytes / unit.size;
    } else {
      out.precision(1);
      out << std::fixed << static_cast<double>(bytes) / static_cast<double>(unit.size);
    }
    out << ' ' << unit.name;
    return out.str();
  }
  return std::to_string(bytes) + " bytes";
}

}  // namespace wharf::exec::local
