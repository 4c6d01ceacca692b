#pragma once
// The files of a local task's run_dir: how the executor, the supervisor
// ("shim") and a restarted server talk to each other through the filesystem.
//
//   spec.json     the TaskSpec (written by Submit)
//   sandbox.json  how to confine it: cgroups, kill grace (written by Submit)
//   shim.pid      "pid start_time" of the supervisor (written by it at start)
//   task.pid      "pid start_time started_us" of the command (by the supervisor)
//   cancel        a cancel request: the grace in ms (written by Cancel)
//   stdout.log, stderr.log   the command's output
//   shim.log      the supervisor's own diagnostics
//   status.json   the final TaskStatus (written last, atomically)
// Stateless functions: thread-safe.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "exec/executor.h"

namespace wharf::exec::local {

inline constexpr std::string_view kSpecFile = "spec.json";
inline constexpr std::string_view kSandboxFile = "sandbox.json";
inline constexpr std::string_view kShimPidFile = "shim.pid";
inline constexpr std::string_view kTaskPidFile = "task.pid";
inline constexpr std::string_view kCancelFile = "cancel";
inline constexpr std::string_view kStdoutFile = "stdout.log";
inline constexpr std::string_view kStderrFile = "stderr.log";
inline constexpr std::string_view kShimLogFile = "shim.log";
inline constexpr std::string_view kStatusFile = "status.json";

// Writes `contents` to a unique temporary file beside `path`, flushes it to
// disk and renames it over `path`, so readers see the old file or the new one.
// The file is its owner's alone (0600), as everything in a run directory.
Status WriteFileAtomically(const std::filesystem::path& path, std::string_view contents);

// Creates `path` with `contents`; AlreadyExists if it exists (a run_dir is
// claimed by creating its spec.json this way).
Status CreateExclusively(const std::filesystem::path& path, std::string_view contents);

// The final status if the supervisor (or an executor that recorded the
// outcome) has written status.json; nullopt otherwise.
Result<std::optional<TaskStatus>> ReadFinalStatus(const std::filesystem::path& run_dir);

// Up to `max_bytes` of the task's stdout.log or stderr.log from `offset`;
// empty before the task has written any; NotFound if `run_dir` holds no task.
Result<std::string> ReadTaskLog(const std::filesystem::path& run_dir, LogStream stream, std::uint64_t offset,
                                std::size_t max_bytes);


}  // namespace wharf::exec::local
