#pragma once
// Linux control groups for local tasks: which kind this machine offers
// (detected once per executor) and one task's group(s), which the supervisor
// creates before starting the command and removes after it.
//
// v1 (one mount per controller, e.g. /sys/fs/cgroup/memory): a task gets
// <controller>/<parent>/<id> for each of memory (only with a memory limit),
// pids and cpu. v2 (one unified tree): a task gets <root>/<parent>/<id>.
// Without either, the supervisor falls back to setrlimit(RLIMIT_AS).
// CgroupLayout is a plain value; a TaskCgroup is used by one thread.

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "exec/task_spec.h"

namespace wharf::exec::local {

enum class CgroupVersion { kNone, kV1, kV2 };

// "none", "v1", "v2".
std::string_view CgroupVersionName(CgroupVersion version);
Result<CgroupVersion> ParseCgroupVersion(std::string_view name);

// The controllers wharf may use. An empty path means "not available".
struct CgroupLayout {
  CgroupVersion version = CgroupVersion::kNone;
  // v1: each controller's own mount. v2: the unified root, in each of the
  // three whose controller it offers.
  std::filesystem::path memory;
  std::filesystem::path pids;
  std::filesystem::path cpu;

  bool has_memory() const { return !memory.empty(); }
};

// Looks under `root` (normally /sys/fs/cgroup) for writable v1 controllers,
// then for a v2 tree offering memory, pids or cpu. Never fails: the worst is
// kNone.
CgroupLayout DetectCgroups(const std::filesystem::path& root = "/sys/fs/cgroup");

// Creates the parent group (<controller>/<parent>) in each controller of
// `detected` and, for v2, delegates the controllers to it. Returns the layout
// of the controllers that this process can really use (kNone if none): an
// unprivileged user, for one, gets kNone and the setrlimit fallback.
CgroupLayout PrepareCgroupParent(const CgroupLayout& detected, std::string_view parent);

// One task's cgroups. Movable, not copyable.
class TaskCgroup {
 public:
  TaskCgroup() = default;

  // Creates the groups for task `id` under `parent` in each controller of
  // `layout` and writes the limits of `resources`. A group left by an earlier
  // task with the same id is removed first if it is empty; FailedPrecondition
  // if it still has processes. On failure, nothing is left behind.
  static Result<TaskCgroup> Create(const CgroupLayout& layout, std::string_view parent, std::string_view id,
                                   const Resources& resources);
  // Names the groups that Create made for `id`, without touching them (to
  // clean up after a supervisor that died).
  static TaskCgroup Existing(const CgroupLayout& layout, std::string_view parent, std::string_view id);

  // The cgroup.procs files a process writes its pid into to join.
  const std::vector<std::string>& procs_files() const { return procs_files_; }
  bool empty() const { return dirs_.empty(); }
  bool limits_memory() const { return !memory_dir_.empty(); }

  // Whether the kernel killed a process of this group for exceeding its
  // memory limit. `killed_by_sigkill` is the fallback evidence on kernels
  // without an oom_kill counter (only the failure count is known there).
  bool OomKilled(bool killed_by_sigkill) const;
  // Sends `signal` to every process in the groups; returns how many it found.
  int SignalAll(int signal) const;
  // Removes the groups, retrying for up to `patience_ms` while the last
  // processes leave. IoError naming the group that could not be removed.
  Status Remove(int patience_ms = 1000);

 private:
  static TaskCgroup Name(const CgroupLayout& layout, std::string_view parent, std::string_view id);

  CgroupVersion version_ = CgroupVersion::kNone;
  std::vector<std::filesystem::path> dirs_;  // one per controller (v1) or one (v2)
  std::vector<std::string> procs_files_;
  std::filesystem::path memory_dir_;  // the group that enforces the memory limit, if any
};

// "64 MiB", "1.5 GiB", "1000 bytes": for reasons people read.
std::string FormatBytes(std::uint64_t bytes);

}  // namespace wharf::exec::local
