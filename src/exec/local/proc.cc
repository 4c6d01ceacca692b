#include "exec/local/proc.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace wharf::exec::local {
namespace {

// Parses the text of /proc/<pid>/stat. The command name (field 2) is in
// parentheses and may itself contain spaces and parentheses, so fields are
// counted from the last ')'.
std::optional<ProcStat> ParseStat(const std::string& text) {
  const auto close = text.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  ProcStat stat;
  stat.pid = static_cast<pid_t>(std::atoi(text.c_str()));
  std::istringstream rest(text.substr(close + 1));
  // Fields 3.. : state ppid pgrp session tty_nr tpgid flags minflt cminflt
  // majflt cmajflt utime stime cutime cstime priority nice num_threads
  // itrealvalue starttime(22).
  std::string skip;
  rest >> stat.state >> stat.ppid >> stat.pgrp >> stat.session;
  for (int field = 7; field < 22; ++field) rest >> skip;
  rest >> stat.start_time;
  if (!rest) return std::nullopt;
  return stat;
}

int PidfdOpen(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

int PidfdSendSignal(int pidfd, int signal) {
  return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, signal, nullptr, 0));
}

}  // namespace

std::optional<ProcStat> ReadProcStat(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  if (!in || !std::getline(in, text)) return std::nullopt;
  return ParseStat(text);
}

std::vector<ProcStat> ListProcesses() {
  std::vector<ProcStat> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    pid_t pid = 0;
    const auto [end, err] = std::from_chars(name.data(), name.data() + name.size(), pid);
    if (err != std::errc() || end != name.data() + name.size()) continue;
    if (auto stat = ReadProcStat(pid)) out.push_back(*stat);
  }
  return out;
}

std::optional<ProcessIdentity> IdentifyProcess(pid_t pid) {
  auto stat = ReadProcStat(pid);
  if (!stat) return std::nullopt;
  return ProcessIdentity{pid, stat->start_time};
}

bool IsRunning(const ProcessIdentity& process) {
  auto stat = ReadProcStat(process.pid);
  return stat && stat->start_time == process.start_time && stat->state != 'Z' && stat->state != 'X';
}

Status SignalProcess(const ProcessIdentity& process, int signal) {
  const std::string name = "process " + std::to_string(process.pid);
  const int pidfd = PidfdOpen(process.pid);
  if (pidfd < 0) {
    if (errno == ESRCH) return NotFound(name + " has ended");
    return IoError("pidfd_open(" + name + "): " + std::strerror(errno));
  }
  // The pidfd now pins the process: if it is the one we recorded, the signal reaches it.
  Status result;
  if (!IsRunning(process)) {
    result = NotFound(name + " has ended");
  } else if (PidfdSendSignal(pidfd, signal) != 0) {
    result = errno == ESRCH ? NotFound(name + " has ended")
                            : IoError("pidfd_send_signal(" + name + "): " + std::strerror(errno));
  }
  ::close(pidfd);
  return result;
}

std::string FormatIdentity(const ProcessIdentity& process) {
  return std::to_string(process.pid) + " " + std::to_string(process.start_time);
}

Result<ProcessIdentity> ParseIdentity(std::string_view text) {
  std::istringstream in{std::string(text)};
  ProcessIdentity process;
  if (!(in >> process.pid >> process.start_time) || process.pid <= 0) {
    return DataLoss("malformed pid file: '" + std::string(text) + "'");
  }
  return process;
}

std::string SignalName(int signal) {
  const char* abbrev = ::sigabbrev_np(signal);
  if (abbrev == nullptr) return "signal " + std::to_string(signal);
  return std::string("SIG") + abbrev;
}

}  // namespace wharf::exec::local
