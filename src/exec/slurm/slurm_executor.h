#pragma once
// Runs tasks as Slurm batch jobs. Each job runs the same supervisor as the
// local executor (supervisor.h), in the foreground, in the task's run_dir
// on a filesystem the nodes share: it starts the command with exactly its
// environment, enforces the timeout, honours cancel requests and writes
// status.json. The executor submits with sbatch, asks scontrol where a job
// stands while the supervisor has not written its status, and records the
// outcome itself when Slurm ended the job first (cancelled while pending, a
// node failure, Slurm's time limit): there is no accounting database to ask
// later. A handle is "slurm:JOBID:RUN_DIR" ("slurm:JOBID_I:RUN_DIR" for
// element I of a job array), valid across server restarts.
//
// Resources map to sbatch: cpus → --cpus-per-task (rounded up), memory →
// --mem (also enforced by the supervisor), timeout → --time (with room for
// the supervisor's own kill).
// Thread-safe: the object holds only settings fixed at creation.

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "exec/executor.h"

namespace wharf::exec {

// Settings of a SlurmExecutor, fixed when it is created. A plain value.
struct SlurmExecutorOptions {
  std::filesystem::path slurm_conf;  // the cluster's slurm.conf; empty: Slurm's default ($SLURM_CONF)
  std::string partition;             // empty: the cluster's default partition
  // The binary that runs the supervisor (it must call MaybeRunShim first);
  // the nodes must see it at the same path.
  std::filesystem::path shim_executable = "/proc/self/exe";
  // After a timeout, the time between SIGTERM and SIGKILL.
  std::chrono::milliseconds kill_grace{5000};
};

class SlurmExecutor final : public Executor {
 public:
  // Unavailable when Slurm's commands are missing or its controller does
  // not answer (`scontrol ping`), naming what failed.
  static Result<std::unique_ptr<SlurmExecutor>> Create(SlurmExecutorOptions options = {});

  Result<std::string> Submit(const TaskSpec& spec) override;
  // Tasks whose sbatch flags agree (resources, timeout) become one job
  // array, element I running task I; others are submitted one by one.
  Result<std::vector<std::string>> SubmitAll(const std::vector<TaskSpec>& specs) override;
  Result<TaskStatus> Poll(const std::string& handle) override;
  Status Cancel(const std::string& handle, std::chrono::milliseconds grace) override;
  Result<std::string> ReadLog(const std::string& handle, LogStream stream, std::uint64_t offset,
                              std::size_t max_bytes) override;

 private:
  explicit SlurmExecutor(SlurmExecutorOptions options) : options_(std::move(options)) {}

  // `args` run with SLURM_CONF set; Unavailable with its stderr when it fails.
  Result<std::string> Slurm(std::vector<std::string> args) const;
  // Validates `spec` and claims its run_dir: spec.json (AlreadyExists if
  // taken), sandbox.json and the batch script. The normalized run_dir.
  Result<std::filesystem::path> Claim(const TaskSpec& spec) const;
  // Gives claimed run_dirs back after a failed submission.
  static void Unclaim(const std::vector<std::filesystem::path>& run_dirs);
  // The sbatch flags of a task's resources and timeout.
  std::vector<std::string> ResourceFlags(const TaskSpec& spec) const;
  // Runs sbatch; the job id. On failure the `claimed` run_dirs are given back.
  Result<std::string> Sbatch(std::vector<std::string> args, const std::vector<std::filesystem::path>& claimed) const;

  const SlurmExecutorOptions options_;
};

}  // namespace wharf::exec
