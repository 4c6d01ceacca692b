#pragma once
// Runs a Slurm command (sbatch, scontrol, scancel) as argv, never through a
// shell, and collects what it printed. Free functions; thread-safe.

#include <map>
#include <string>
#include <vector>

#include "core/status.h"

namespace wharf::exec::slurm {

struct CommandResult {
  int exit_code = -1;  // 128 + signal when a signal ended it
  std::string out, err;
};

// Runs argv[0] (searched in PATH) with this process's environment plus
// `extra_env`, and waits for it. An error only when it could not be started.
Result<CommandResult> RunCommand(const std::vector<std::string>& argv,
                                 const std::map<std::string, std::string>& extra_env);

// The KEY=VALUE fields of one `scontrol show job -o` line ("JobState" ->
// "RUNNING"). A value runs to the next " KEY=" (values such as Command may
// hold spaces).
std::map<std::string, std::string> ParseScontrolLine(const std::string& line);

}  // namespace wharf::exec::slurm
