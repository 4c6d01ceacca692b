#pragma once
// Facts about processes read from /proc, and signals sent only to the process
// that was meant: a pid is paired with its start time so that a recycled pid
// is never mistaken for a process that has ended.
// Stateless functions: thread-safe.

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace wharf::exec::local {

// One line of /proc/<pid>/stat, the fields wharf needs.
struct ProcStat {
  pid_t pid = 0;
  pid_t ppid = 0;
  pid_t pgrp = 0;
  pid_t session = 0;
  char state = '?';             // 'Z' zombie, 'X' dead, else alive
  std::uint64_t start_time = 0;  // clock ticks after boot
};

// nullopt if the process does not exist (or /proc cannot be read).
std::optional<ProcStat> ReadProcStat(pid_t pid);
// Every process visible in /proc.
std::vector<ProcStat> ListProcesses();

// A process that can be named again later, from another process.
struct ProcessIdentity {
  pid_t pid = 0;
  std::uint64_t start_time = 0;
};

// The identity of a live process; nullopt if it does not exist.
std::optional<ProcessIdentity> IdentifyProcess(pid_t pid);
// True if that very process still exists and has not exited (zombies count as ended).
bool IsRunning(const ProcessIdentity& process);
// Sends `signal` to that very process (through a pidfd, so the check and the
// kill cannot race a recycled pid). NotFound if it has ended.
Status SignalProcess(const ProcessIdentity& process, int signal);

// "pid start_time", the form stored in pid files.
std::string FormatIdentity(const ProcessIdentity& process);
// The inverse of FormatIdentity (trailing fields are ignored); DataLoss if malformed.
Result<ProcessIdentity> ParseIdentity(std::string_view text);

// "SIGKILL" for 9; "signal 64" for one without a name.
std::string SignalName(int signal);

}  // namespace wharf::exec::local
