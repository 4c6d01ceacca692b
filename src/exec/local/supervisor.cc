#include "exec/local/supervisor.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>

#include "core/clock.h"
#include "core/file.h"
#include "exec/executor.h"
#include "exec/local/cgroup.h"
#include "exec/local/child.h"
#include "exec/local/proc.h"
#include "exec/local/run_dir.h"
#include "exec/local/sandbox.h"
#include "exec/task_json.h"

namespace wharf::exec::local {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// How long to keep killing and reaping what the task left behind.
constexpr milliseconds kCleanupPatience{2000};

// "300 ms", "2 s", "1.5 s".
std::string FormatDuration(milliseconds duration) {
  const auto ms = duration.count();
  if (ms < 1000) return std::to_string(ms) + " ms";
  std::string seconds = std::to_string(ms / 1000);
  if (ms % 1000 != 0) {
    std::string fraction = std::to_string(1000 + ms % 1000).substr(1);
    while (fraction.back() == '0') fraction.pop_back();
    seconds += "." + fraction;
  }
  return seconds + " s";
}

timespec ToTimespec(Clock::duration duration) {
  const auto ns = std::max<std::int64_t>(0, std::chrono::duration_cast<std::chrono::nanoseconds>(duration).count());
  return timespec{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
}

// Why the supervisor is ending the task before it ends by itself.
struct Stop {
  TaskOutcome outcome;  // kCancelled or kTimedOut
  milliseconds grace;
  bool escalated = false;  // SIGKILL was needed
};

class Supervisor {
 public:
  Supervisor(fs::path run_dir, const std::map<std::string, std::string>& batch_env)
      : run_dir_(std::move(run_dir)), batch_env_(batch_env) {}
  ~Supervisor() {
    if (stdout_fd_ >= 0) ::close(stdout_fd_);
    if (stderr_fd_ >= 0) ::close(stderr_fd_);
  }

  int Run();

 private:
  Status Load();
  Status OpenLogs();
  Status Start();
  // Waits for the command, enforcing the timeout and cancel requests. Its
  // wait status, or nullopt if it could not be waited for.
  std::optional<int> Supervise();
  // Sends `signal` to the command's process group and cgroup.
  void SignalTask(int signal);
  // Sends SIGTERM and returns when to send SIGKILL.
  Clock::time_point BeginStop(TaskOutcome outcome, milliseconds grace);
  milliseconds CancelGrace() const;
  // Kills and reaps every process the task left behind.
  void EndDescendants();
  TaskStatus Compose(std::optional<int> wait_status);
  int Finish(const TaskStatus& status);
  int FailBeforeStart(const std::string& reason);

  const fs::path run_dir_;
  const std::map<std::string, std::string> batch_env_;
  TaskSpec spec_;
  Sandbox sandbox_;
  TaskCgroup cgroup_;
  int stdout_fd_ = -1;
  int stderr_fd_ = -1;
  pid_t child_ = -1;
  std::int64_t started_us_ = 0;
  std::optional<std::string> start_error_;
  std::optional<Stop> stop_;
};

int Supervisor::Run() {
  if (Status loaded = Load(); !loaded.ok()) return FailBeforeStart("cannot load the task: " + loaded.message());
  // An executor gave up waiting for us and recorded the task as lost.
  if (::access((run_dir_ / kStatusFile).c_str(), F_OK) == 0) return 0;
  if (::access((run_dir_ / kCancelFile).c_str(), F_OK) == 0) {
    return Finish(TaskStatus{TaskOutcome::kCancelled, {}, {}, "cancelled before it started", 0, NowMicros()});
  }
  if (Status opened = OpenLogs(); !opened.ok()) return FailBeforeStart(opened.message());
  if (sandbox_.cgroups.version != CgroupVersion::kNone) {
    Result<TaskCgroup> made = TaskCgroup::Create(sandbox_.cgroups, sandbox_.cgroup_parent, spec_.id, spec_.resources);
    if (!made.ok()) return FailBeforeStart("cannot set up the task's cgroups: " + made.status().message());
    cgroup_ = std::move(made).value();
  }
  if (Status started = Start(); !started.ok()) {
    (void)cgroup_.Remove();
    return FailBeforeStart(started.message());
  }
  const std::optional<int> wait_status = Supervise();
  EndDescendants();
  const TaskStatus status = Compose(wait_status);  // reads the OOM counter, so before the cgroups go
  // Clean up before publishing the status: a finished task leaves nothing behind.
  if (Status removed = cgroup_.Remove(); !removed.ok()) std::fprintf(stderr, "%s\n", removed.message().c_str());
  return Finish(status);
}

Status Supervisor::Load() {
  WHARF_ASSIGN_OR_RETURN(const std::string spec_text, ReadFile(run_dir_ / kSpecFile));
  WHARF_ASSIGN_OR_RETURN(spec_, TaskSpecFromJson(spec_text));
  WHARF_RETURN_IF_ERROR(ValidateTaskSpec(spec_));
  WHARF_ASSIGN_OR_RETURN(const std::string sandbox_text, ReadFile(run_dir_ / kSandboxFile));
  WHARF_ASSIGN_OR_RETURN(sandbox_, SandboxFromJson(sandbox_text));
  return Status::Ok();
}

Status Supervisor::OpenLogs() {
  const int flags = O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC;
  stdout_fd_ = ::open((run_dir_ / kStdoutFile).c_str(), flags, 0644);
  if (stdout_fd_ < 0) return IoError("cannot open " + (run_dir_ / kStdoutFile).string() + ": " + std::strerror(errno));
  stderr_fd_ = ::open((run_dir_ / kStderrFile).c_str(), flags, 0644);
  if (stderr_fd_ < 0) return IoError("cannot open " + (run_dir_ / kStderrFile).string() + ": " + std::strerror(errno));
  return Status::Ok();
}

Status Supervisor::Start() {
  ChildPlan plan;
  plan.argv = spec_.argv;
  plan.env = spec_.env;
  if (spec_.resources.ranks > 1) plan.env.insert(batch_env_.begin(), batch_env_.end());  // declared values win
  for (const auto& [name, file] : spec_.env_files) {  // secrets: read once, then gone from the disk
    Result<std::string> value = ReadFile(file);
    if (!value.ok()) return FailedPrecondition("cannot read the secret for " + name + ": " + value.status().message());
    plan.env[name] = *std::move(value);
    ::unlink(file.c_str());
  }
  // A relative work_dir is taken from the run_dir; none means the run_dir.
  plan.work_dir = (run_dir_ / spec_.work_dir).string();
  plan.cgroup_procs = cgroup_.procs_files();
  if (spec_.resources.memory_bytes && !cgroup_.limits_memory()) plan.address_space_limit = spec_.resources.memory_bytes;
  plan.stdout_fd = stdout_fd_;
  plan.stderr_fd = stderr_fd_;
  started_us_ = NowMicros();
  WHARF_ASSIGN_OR_RETURN(const StartedChild started, StartChild(plan));
  child_ = started.pid;
  start_error_ = started.start_error;
  if (start_error_) {
    const std::string line = "wharf: " + *start_error_ + "\n";
    [[maybe_unused]] const ssize_t ignored = ::write(stderr_fd_, line.data(), line.size());
  }
  const ProcessIdentity identity = IdentifyProcess(child_).value_or(ProcessIdentity{child_, 0});
  const std::string task_pid = FormatIdentity(identity) + " " + std::to_string(started_us_) + "\n";
  if (Status written = WriteFileAtomically(run_dir_ / kTaskPidFile, task_pid); !written.ok()) {
    std::fprintf(stderr, "%s\n", written.message().c_str());
  }
  return Status::Ok();
}

std::optional<int> Supervisor::Supervise() {
  const sigset_t signals = SupervisorSignals();
  constexpr Clock::time_point kNever = Clock::time_point::max();
  Clock::time_point timeout_at = spec_.timeout ? Clock::now() + *spec_.timeout : kNever;
  Clock::time_point kill_at = kNever;  // when SIGTERM turns into SIGKILL
  for (;;) {
    int wait_status = 0;
    pid_t reaped;
    while ((reaped = ::waitpid(-1, &wait_status, WNOHANG)) > 0) {
      if (reaped == child_) return wait_status;
    }
    if (reaped < 0 && errno == ECHILD) return std::nullopt;
    const auto now = Clock::now();
    if (now >= timeout_at) {
      timeout_at = kNever;
      if (!stop_) kill_at = BeginStop(TaskOutcome::kTimedOut, sandbox_.kill_grace);
    }
    if (now >= kill_at) {
      kill_at = kNever;
      stop_->escalated = true;
      SignalTask(SIGKILL);
    }
    const Clock::time_point wake = std::min({now + std::chrono::seconds(1), timeout_at, kill_at});
    const timespec wait_for = ToTimespec(wake - now);
    const int signal = ::sigtimedwait(&signals, nullptr, &wait_for);
    if (signal == SIGTERM || signal == SIGINT || signal == SIGHUP || signal == SIGQUIT) {
      if (!stop_) {
        kill_at = BeginStop(TaskOutcome::kCancelled, CancelGrace());
      } else {
        kill_at = std::min(kill_at, Clock::now() + CancelGrace());  // a cancel may shorten a timeout's grace
      }
    }
  }
}

Clock::time_point Supervisor::BeginStop(TaskOutcome outcome, milliseconds grace) {
  stop_ = Stop{outcome, grace};
  SignalTask(SIGTERM);
  return Clock::now() + grace;
}

void Supervisor::SignalTask(int signal) {
  ::killpg(child_, signal);  // safe: the child is not reaped yet, so its pid is not reused
  cgroup_.SignalAll(signal);
}

milliseconds Supervisor::CancelGrace() const {
  Result<std::string> text = ReadFile(run_dir_ / kCancelFile);
  if (!text.ok()) return sandbox_.kill_grace;  // SIGTERM from someone other than Cancel
  try {
    return milliseconds(std::max(0LL, std::stoll(*text)));
  } catch (const std::exception&) {
    return sandbox_.kill_grace;
  }
}

void Supervisor::EndDescendants() {
  // Every process in our session is a descendant; descendants that left it
  // are reparented to us (we are a subreaper) when their parent dies, or are
  // still in the task's cgroup.
  const pid_t self = ::getpid();
  const sigset_t child_signal = [] {
    sigset_t set;
    ::sigemptyset(&set);
    ::sigaddset(&set, SIGCHLD);
    return set;
  }();
  const auto give_up = Clock::now() + kCleanupPatience;
  for (;;) {
    int remaining = cgroup_.SignalAll(SIGKILL);
    for (const ProcStat& process : ListProcesses()) {
      if (process.pid == self || (process.session != self && process.ppid != self)) continue;
      ::kill(process.pid, SIGKILL);
      ++remaining;
    }
    int ignored_status = 0;
    pid_t reaped;
    while ((reaped = ::waitpid(-1, &ignored_status, WNOHANG)) > 0) {
    }
    if (remaining == 0 && reaped < 0 && errno == ECHILD) return;
    if (Clock::now() >= give_up) {
      std::fprintf(stderr, "wharf: %d processes of task %s did not end\n", remaining, spec_.id.c_str());
      return;
    }
    const timespec wait_for = ToTimespec(milliseconds(10));
    ::sigtimedwait(&child_signal, nullptr, &wait_for);
  }
}

TaskStatus Supervisor::Compose(std::optional<int> wait_status) {
  TaskStatus status;
  status.started_us = started_us_;
  status.finished_us = NowMicros();
  if (wait_status && WIFEXITED(*wait_status)) status.exit_code = WEXITSTATUS(*wait_status);
  if (wait_status && WIFSIGNALED(*wait_status)) status.signal = WTERMSIG(*wait_status);
  const bool clean_exit = status.exit_code == 0;
  if (stop_ && stop_->outcome == TaskOutcome::kCancelled) {
    status.outcome = TaskOutcome::kCancelled;
    status.reason = "cancelled";
    if (stop_->escalated) status.reason += " (killed by SIGKILL after a " + FormatDuration(stop_->grace) + " grace)";
  } else if (stop_) {
    status.outcome = TaskOutcome::kTimedOut;
    status.reason = "timed out after " + FormatDuration(*spec_.timeout);
    if (stop_->escalated) status.reason += " (killed by SIGKILL after a " + FormatDuration(stop_->grace) + " grace)";
  } else if (!clean_exit && cgroup_.OomKilled(status.signal == SIGKILL)) {
    status.outcome = TaskOutcome::kOutOfMemory;
    status.reason = "out of memory (limit " + FormatBytes(*spec_.resources.memory_bytes) + ")";
  } else if (!wait_status) {
    status.outcome = TaskOutcome::kFailed;
    status.reason = "the supervisor could not wait for the command";
  } else if (clean_exit) {
    status.outcome = TaskOutcome::kSucceeded;
    status.reason = "exit code 0";
  } else if (status.exit_code) {
    status.outcome = TaskOutcome::kFailed;
    status.reason = "exit code " + std::to_string(*status.exit_code);
    if (start_error_) status.reason += ": " + *start_error_;
  } else {
    status.outcome = TaskOutcome::kFailed;
    status.reason = "killed by " + SignalName(*status.signal);
  }
  return status;
}

int Supervisor::Finish(const TaskStatus& status) {
  if (!spec_.secrets_dir.empty()) {  // before the status: once a task is seen ended, its secrets are gone
    std::error_code ec;
    fs::remove_all(spec_.secrets_dir, ec);
  }
  Status written = WriteFileAtomically(run_dir_ / kStatusFile, TaskStatusToJson(status));
  if (!written.ok()) {
    std::fprintf(stderr, "wharf: %s\n", written.message().c_str());
    return 1;
  }
  return 0;
}

int Supervisor::FailBeforeStart(const std::string& reason) {
  std::fprintf(stderr, "wharf: %s\n", reason.c_str());
  return Finish(TaskStatus{TaskOutcome::kFailed, {}, {}, reason, 0, NowMicros()});
}

}  // namespace

sigset_t SupervisorSignals() {
  sigset_t set;
  ::sigemptyset(&set);
  for (int signal : {SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGQUIT}) ::sigaddset(&set, signal);
  return set;
}

int RunSupervisor(const fs::path& run_dir, const std::map<std::string, std::string>& batch_env) {
  return Supervisor(run_dir, batch_env).Run();
}

}  // namespace wharf::exec::local
