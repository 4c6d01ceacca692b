#pragma once
// The interface the control plane uses to run tasks: the local executor (a
// supervised process per task) and, later, a Slurm executor implement it.
//
// A handle returned by Submit is a plain string that stays valid across
// processes: a restarted server can Poll, Cancel and ReadLog a task that an
// earlier server submitted.
// Thread-safe: every method may be called from several threads at once.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "exec/task_spec.h"

namespace wharf::exec {

// Where a task stands. Every value but kRunning is final.
enum class TaskOutcome {
  kRunning,      // submitted and not finished (includes "starting")
  kSucceeded,    // exit code 0
  kFailed,       // non-zero exit code, killed by a signal, or could not start
  kCancelled,    // Cancel() ended it
  kTimedOut,     // ran past TaskSpec::timeout and was killed
  kOutOfMemory,  // killed for exceeding Resources::memory_bytes
  kLost,         // its supervisor died, so the real outcome is unknown
};

// "running", "succeeded", "failed", "cancelled", "timed_out", "out_of_memory", "lost".
std::string_view TaskOutcomeName(TaskOutcome outcome);
// The inverse of TaskOutcomeName; InvalidArgument listing the names otherwise.
Result<TaskOutcome> ParseTaskOutcome(std::string_view name);
inline bool IsFinal(TaskOutcome outcome) { return outcome != TaskOutcome::kRunning; }

// A task's state as last observed. A plain value.
struct TaskStatus {
  TaskOutcome outcome = TaskOutcome::kRunning;
  std::optional<int> exit_code;  // set when the command exited
  std::optional<int> signal;     // set when a signal ended it
  // For people: "exit code 3", "killed by SIGKILL", "out of memory (limit 64 MiB)",
  // "timed out after 2 s", "cancelled", "the supervisor died: ...".
  std::string reason;
  std::int64_t started_us = 0;   // wall clock, µs since the Unix epoch; 0 if not started
  std::int64_t finished_us = 0;  // 0 while running
};

// Which of a task's output files ReadLog reads.
enum class LogStream { kStdout, kStderr };

// Runs tasks somewhere and reports on them. See the file comment for threads.
class Executor {
 public:
  virtual ~Executor() = default;

  // Starts `spec` and returns a handle for the other methods. InvalidArgument
  // for a bad spec, AlreadyExists if its run_dir already holds a task.
  virtual Result<std::string> Submit(const TaskSpec& spec) = 0;

  // Starts several tasks together and returns their handles, in order. The
  // default submits each in turn and, if one is refused, cancels those
  // already started and returns the refusal. Executors with a batch form
  // override it (Slurm: one job array).
  virtual Result<std::vector<std::string>> SubmitAll(const std::vector<TaskSpec>& specs);

  // The task's current status. NotFound for a handle that names no task;
  // Unavailable when the executor cannot tell now (ask again later).
  virtual Result<TaskStatus> Poll(const std::string& handle) = 0;

  // Asks the task to stop: SIGTERM to its whole process group, SIGKILL after
  // `grace`. Returns once the request is delivered, without waiting; Poll
  // reports kCancelled when it has ended. Cancelling a task that has already
  // finished does nothing and returns OK.
  virtual Status Cancel(const std::string& handle, std::chrono::milliseconds grace) = 0;

  // Up to `max_bytes` of the task's stdout or stderr from byte `offset`; empty
  // at or past the end (also before the task has written anything).
  virtual Result<std::string> ReadLog(const std::string& handle, LogStream stream, std::uint64_t offset,
                                      std::size_t max_bytes) = 0;
};

}  // namespace wharf::exec
