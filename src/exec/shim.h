#pragma once
// The hidden entry point through which the local executor starts a task's
// supervisor: it re-runs the current executable as
//   <exe> __wharf-task-shim <run_dir>
// so every binary that may submit local tasks (wharf, test binaries) must
// call MaybeRunShim first thing in main:
//
//   int main(int argc, char** argv) {
//     if (auto code = wharf::exec::MaybeRunShim(argc, argv)) return *code;
//     ...
//   }

#include <optional>
#include <string_view>

namespace wharf::exec {

inline constexpr std::string_view kShimArgument = "__wharf-task-shim";
// The same supervisor in the foreground, for a batch system (Slurm) whose
// job it is: `<exe> __wharf-task-supervise <run_dir>` returns when the task
// is over.
inline constexpr std::string_view kSuperviseArgument = "__wharf-task-supervise";

// nullopt unless argv[1] is kShimArgument; otherwise starts the supervisor
// and returns the exit code main should return (in the launching process,
// once the supervisor has started; in the supervisor, once the task is over).
std::optional<int> MaybeRunShim(int argc, char** argv);

}  // namespace wharf::exec
