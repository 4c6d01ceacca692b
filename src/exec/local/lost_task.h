#pragma once
// What the executor does when it finds a task whose supervisor has died
// without writing status.json: end what is left of the task (it would
// otherwise run unsupervised and unlimited) and record kLost, so every later
// Poll, from any process, sees the same final status.
// Stateless functions: thread-safe (concurrent calls for one task agree).

#include <cstdint>
#include <filesystem>
#include <optional>

#include "core/status.h"
#include "exec/executor.h"
#include "exec/local/proc.h"

namespace wharf::exec::local {

// Kills the task's remaining processes, writes status.json with kLost and
// returns the status that status.json now holds. `shim` is the dead
// supervisor; nullopt if it never started.
Result<TaskStatus> RecordLostTask(const std::filesystem::path& run_dir, const std::optional<ProcessIdentity>& shim);

// True if spec.json has waited long (a minute) for a supervisor that never
// wrote shim.pid: the Submit that wrote it died.
bool SubmitAbandoned(const std::filesystem::path& run_dir);

// When the command started (µs since the epoch, from task.pid); 0 if unknown.
std::int64_t TaskStartedMicros(const std::filesystem::path& run_dir);

}  // namespace wharf::exec::local
