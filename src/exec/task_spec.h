#pragma once
// What a task is: a command, its complete environment, where it runs, and the
// resources it may use. Executors (local, Slurm) take a TaskSpec and run it.
// Plain values: copy freely; not synchronised.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace wharf::exec {

// The resources a task declares. Limits are enforced where the machine can
// (cgroups, else setrlimit); `cpus` is also what a SlotScheduler counts.
struct Resources {
  double cpus = 1;                            // per rank; may be fractional (0.5 = half a core)
  std::optional<std::uint64_t> memory_bytes;  // exceeding it kills the task (kOutOfMemory)
  std::optional<std::uint32_t> max_pids;      // processes and threads, all descendants together
  // Processes of one data-parallel program (MPI ranks) that the command
  // starts itself (`wharf train --ranks`): Slurm allocates them as the job's
  // tasks (--ntasks) for srun; locally they share this host.
  std::uint32_t ranks = 1;
  // GPUs the task needs (a `dl-train --device cuda`): Slurm allocates them
  // as generic resources (--gres=gpu:N); the local executor refuses a task
  // that needs more than the host has (its tasks share the host's GPUs).
  std::uint32_t gpus = 0;

  double total_cpus() const { return cpus * ranks; }
};

// One command to run. argv is executed directly, never through a shell.
struct TaskSpec {
  std::string id;                          // [A-Za-z0-9._-]+, unique among running tasks
  std::vector<std::string> argv;           // argv[0] is searched in env's PATH if it has no '/'
  std::map<std::string, std::string> env;  // the complete environment: nothing is inherited
  std::filesystem::path work_dir;          // empty: run_dir
  std::filesystem::path run_dir;           // absolute; the executor writes logs and status here
  Resources resources;
  std::optional<std::chrono::milliseconds> timeout;  // none: no limit
  std::string executor;  // which executor runs it, where several are offered (control's ExecutorSet); empty: the default
  // Secrets, kept out of this spec (which is written to run_dir): each
  // variable's value is read from its file just before the command starts,
  // and the file removed; `secrets_dir` (holding those files and the task's
  // secret files) is removed when the task has ended.
  std::map<std::string, std::filesystem::path> env_files;
  std::filesystem::path secrets_dir;
};

// OK if `spec` can be run: InvalidArgument naming the bad field otherwise (an
// empty or ill-formed id, an empty argv, a relative run_dir, cpus not > 0, a
// zero memory limit or timeout, a relative env_files path or secrets_dir).
Status ValidateTaskSpec(const TaskSpec& spec);

}  // namespace wharf::exec
