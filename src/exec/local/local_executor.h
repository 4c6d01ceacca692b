#pragma once
// Runs tasks as processes on this machine, each under its own supervisor
// process (see supervisor.h), which outlives the server: a handle is the
// task's absolute run_dir, and everything about the task lives there, so a
// new LocalExecutor (after a restart) picks up where the old one stopped.
//
// Limits: cgroups v1 or v2 where the machine offers them (detected once, in
// Create), else setrlimit(RLIMIT_AS) for memory and no cpu or pid limits.
// Thread-safe: the object holds only settings fixed at creation.

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

#include "core/status.h"
#include "exec/executor.h"
#include "exec/local/cgroup.h"

namespace wharf::exec {

// Settings of a LocalExecutor, fixed when it is created. A plain value.
struct LocalExecutorOptions {
  // The binary that runs the supervisor; it must call MaybeRunShim first.
  std::filesystem::path shim_executable = "/proc/self/exe";
  std::filesystem::path cgroup_root = "/sys/fs/cgroup";
  std::string cgroup_parent = "wharf";  // groups are <controller>/<parent>/<task id>
  bool use_cgroups = true;              // false: setrlimit only
  // After a timeout, the time between SIGTERM and SIGKILL.
  std::chrono::milliseconds kill_grace{5000};
};

class LocalExecutor final : public Executor {
 public:
  // InvalidArgument for a bad cgroup_parent or kill_grace.
  static Result<std::unique_ptr<LocalExecutor>> Create(LocalExecutorOptions options = {});

  Result<std::string> Submit(const TaskSpec& spec) override;
  // A task whose supervisor died is recorded as kLost, and what is left of
  // it is killed: it would otherwise run unsupervised and unlimited.
  Result<TaskStatus> Poll(const std::string& handle) override;
  Status Cancel(const std::string& handle, std::chrono::milliseconds grace) override;
  Result<std::string> ReadLog(const std::string& handle, LogStream stream, std::uint64_t offset,
                              std::size_t max_bytes) override;

  // The cgroup controllers this executor uses: what DetectCgroups found and
  // PrepareCgroupParent could use (kNone if use_cgroups is false).
  const local::CgroupLayout& cgroups() const { return cgroups_; }

 private:
  LocalExecutor(LocalExecutorOptions options, local::CgroupLayout cgroups)
      : options_(std::move(options)), cgroups_(std::move(cgroups)) {}

  // Starts the supervisor for the task in `run_dir` and waits until it has
  // written shim.pid.
  Status SpawnShim(const std::filesystem::path& run_dir) const;

  const LocalExecutorOptions options_;
  const local::CgroupLayout cgroups_;
};

// The NVIDIA GPUs of this host (/dev/nvidia0, /dev/nvidia1, ...).
std::uint32_t HostGpus();

}  // namespace wharf::exec
