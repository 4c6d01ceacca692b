#pragma once
// The task supervisor ("shim"): one per task, in its own session, outliving
// the server that started it. It starts the command, enforces the timeout,
// honours cancel requests, and writes the final status.json. When the command
// exits, whatever it left running (background children, daemons that left
// its process group) is killed and reaped first, so a finished task leaves
// no process behind. See run_dir.h for the files it reads and writes.

#include <signal.h>

#include <filesystem>
#include <map>
#include <string>

namespace wharf::exec::local {

// The signals the supervisor handles synchronously (sigtimedwait); they must
// be blocked before RunSupervisor is called, and before it is forked.
sigset_t SupervisorSignals();

// Runs the task described in `run_dir` to the end. Expects to be a session
// leader and a child subreaper, with shim.pid already written and
// SupervisorSignals() blocked. Returns the supervisor's exit code: 0 once
// status.json is written, whatever the task's outcome. `batch_env` holds
// what a batch system told this job about its allocation (Slurm's SLURM_*
// variables): a task of several ranks gets it on top of its declared
// environment, so that its srun starts the ranks in the job's allocation.
int RunSupervisor(const std::filesystem::path& run_dir, const std::map<std::string, std::string>& batch_env = {});

}  // namespace wharf::exec::local
