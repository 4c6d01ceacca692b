#pragma once
// Starts a task's command in a forked child of the supervisor: its own
// process group, its cgroups, its log files, its work_dir and exactly its
// environment, then execve. Everything is prepared before fork so that the
// child only makes system calls.
// Used by the single-threaded supervisor only.

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace wharf::exec::local {

// What the child does between fork and exec.
struct ChildPlan {
  std::vector<std::string> argv;
  std::map<std::string, std::string> env;  // the complete environment
  std::string work_dir;
  std::vector<std::string> cgroup_procs;    // cgroup.procs files to join
  std::optional<std::uint64_t> address_space_limit;  // RLIMIT_AS, when no memory cgroup
  int stdout_fd = -1;
  int stderr_fd = -1;
};

// A started child. `start_error` is set when it could not run the command
// ("cannot execute 'x': No such file or directory"); it then exits with 127
// (not found) or 126 (any other failure) and must still be waited for.
struct StartedChild {
  pid_t pid = -1;
  std::optional<std::string> start_error;
};

// Finds `name` in `path_list` (colon-separated; relative entries are taken
// from `work_dir`) as execvp would, but in the task's PATH rather than ours.
// A name containing '/' is returned as is. nullopt with errno-style `error`
// (ENOENT, EACCES) if nothing executable is found.
std::optional<std::string> FindExecutable(const std::string& name, const std::string& path_list,
                                          const std::string& work_dir, int* error);

// Forks and starts the child; returns once it has called execve (or failed
// to). Internal if fork itself fails.
Result<StartedChild> StartChild(const ChildPlan& plan);

}  // namespace wharf::exec::local
