#include "exec/local/local_executor.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sstream>

#include "core/file.h"
#include "exec/local/lost_task.h"
#include "exec/local/proc.h"
#include "exec/local/run_dir.h"
#include "exec/local/sandbox.h"
#include "exec/shim.h"
#include "exec/task_json.h"

extern char** environ;

namespace wharf::exec {
namespace {

namespace fs = std::filesystem;

bool IsNameChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == '-';
}

// "/a/b/" and "/a/./b" both become "/a/b": the handle is this string.
fs::path NormalRunDir(const fs::path& run_dir) {
  fs::path normal = run_dir.lexically_normal();
  if (!normal.has_filename() && normal.has_parent_path() && normal != normal.root_path()) {
    normal = normal.parent_path();
  }
  return normal;
}

Result<fs::path> RunDirOf(const std::string& handle) {
  const fs::path run_dir(handle);
  if (handle.empty() || !run_dir.is_absolute()) return InvalidArgument("not a local task handle: '" + handle + "'");
  return run_dir;
}

bool Exists(const fs::path& path) { return ::access(path.c_str(), F_OK) == 0; }

std::string LastLines(const std::string& text, std::size_t max_chars) {
  if (text.size() <= max_chars) return text;
  return "..." + text.substr(text.size() - max_chars);
}

}  // namespace

Result<std::unique_ptr<LocalExecutor>> LocalExecutor::Create(LocalExecutorOptions options) {
  const std::string& parent = options.cgroup_parent;
  if (parent.empty() || parent == "." || parent == ".." || !std::all_of(parent.begin(), parent.end(), IsNameChar)) {
    return InvalidArgument("cgroup_parent '" + parent + "' must be a name of [A-Za-z0-9._-]");
  }
  if (options.kill_grace.count() < 0) return InvalidArgument("kill_grace must not be negative");
  local::CgroupLayout cgroups;
  if (options.use_cgroups) {
    cgroups = local::PrepareCgroupParent(local::DetectCgroups(options.cgroup_root), options.cgroup_parent);
  }
  return std::unique_ptr<LocalExecutor>(new LocalExecutor(std::move(options), std::move(cgroups)));
}

Result<std::string> LocalExecutor::Submit(const TaskSpec& spec) {
  WHARF_RETURN_IF_ERROR(ValidateTaskSpec(spec));
  if (spec.resources.gpus > 0) {
    const std::uint32_t here = HostGpus();
    if (spec.resources.gpus > here) {
      return FailedPrecondition("task '" + spec.id + "' needs " + std::to_string(spec.resources.gpus) +
                                " GPU(s); this host has " + std::to_string(here) + " (/dev/nvidia*)");
    }
  }
  const fs::path run_dir = NormalRunDir(spec.run_dir);
  std::error_code error;
  fs::create_directories(run_dir, error);
  if (error) return IoError("cannot create run_dir '" + run_dir.string() + "': " + error.message());
  TaskSpec stored = spec;
  stored.run_dir = run_dir;
  // Claims the run_dir: a second Submit into it fails here.
  WHARF_RETURN_IF_ERROR(local::CreateExclusively(run_dir / local::kSpecFile, TaskSpecToJson(stored)));
  const local::Sandbox sandbox{cgroups_, options_.cgroup_parent, options_.kill_grace};
  WHARF_RETURN_IF_ERROR(local::WriteFileAtomically(run_dir / local::kSandboxFile, local::SandboxToJson(sandbox)));
  WHARF_RETURN_IF_ERROR(SpawnShim(run_dir));
  return run_dir.string();
}

std::uint32_t HostGpus() {
  std::uint32_t count = 0;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/dev", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() > 6 && name.rfind("nvidia", 0) == 0 &&
        name.find_first_not_of("0123456789", 6) == std::string::npos) {
      ++count;
    }
  }
  return count;
}

Status LocalExecutor::SpawnShim(const fs::path& run_dir) const {
  const std::string log = (run_dir / local::kShimLogFile).string();
  posix_spawn_file_actions_t actions;
  ::posix_spawn_file_actions_init(&actions);
  ::posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  ::posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  ::posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  // The server's sockets and files must not leak into the supervisor or the task.
  ::posix_spawn_file_actions_addclosefrom_np(&actions, STDERR_FILENO + 1);

  // The calling thread may block or ignore signals; the supervisor starts clean.
  posix_spawnattr_t attributes;
  ::posix_spawnattr_init(&attributes);
  sigset_t none;
  sigset_t defaults;
  ::sigemptyset(&none);
  ::sigemptyset(&defaults);
  for (int signal = 1; signal < SIGRTMIN; ++signal) {
    if (signal != SIGKILL && signal != SIGSTOP) ::sigaddset(&defaults, signal);
  }
  ::posix_spawnattr_setsigmask(&attributes, &none);
  ::posix_spawnattr_setsigdefault(&attributes, &defaults);
  ::posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  const std::string executable = options_.shim_executable.string();
  const std::string marker(kShimArgument);
  const std::string dir = run_dir.string();
  char* argv[] = {const_cast<char*>(executable.c_str()), const_cast<char*>(marker.c_str()),
                  const_cast<char*>(dir.c_str()), nullptr};
  pid_t pid = -1;
  const int spawned = ::posix_spawn(&pid, executable.c_str(), &actions, &attributes, argv, environ);
  ::posix_spawn_file_actions_destroy(&actions);
  ::posix_spawnattr_destroy(&attributes);
  if (spawned != 0) {
    return Internal("cannot start the task supervisor '" + executable + "': " + std::strerror(spawned));
  }
  // The launcher exits as soon as the supervisor has written shim.pid.
  int wait_status = 0;
  pid_t waited;
  do {
    waited = ::waitpid(pid, &wait_status, 0);
  } while (waited < 0 && errno == EINTR);
  const bool launched = waited == pid ? WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0
                                      : Exists(run_dir / local::kShimPidFile);  // reaped elsewhere
  if (launched) return Status::Ok();
  Result<std::string> shim_log = ReadFile(log);
  return Internal("the task supervisor for '" + dir + "' did not start: " +
                  LastLines(shim_log.ok() ? *shim_log : std::string("(no shim.log)"), 2000));
}

Result<TaskStatus> LocalExecutor::Poll(const std::string& handle) {
  WHARF_ASSIGN_OR_RETURN(const fs::path run_dir, RunDirOf(handle));
  WHARF_ASSIGN_OR_RETURN(std::optional<TaskStatus> final_status, local::ReadFinalStatus(run_dir));
  if (final_status) return *final_status;
  Result<std::string> shim_text = ReadFile(run_dir / local::kShimPidFile);
  if (!shim_text.ok()) {
    if (shim_text.status().code() != StatusCode::kNotFound) return shim_text.status();
    if (!Exists(run_dir / local::kSpecFile)) return NotFound("no task at '" + handle + "'");
    // A Submit is under way, or one died before its supervisor started.
    if (!local::SubmitAbandoned(run_dir)) return TaskStatus{TaskOutcome::kRunning, {}, {}, "starting", 0, 0};
    return local::RecordLostTask(run_dir, std::nullopt);
  }
  WHARF_ASSIGN_OR_RETURN(const local::ProcessIdentity shim, local::ParseIdentity(*shim_text));
  if (local::IsRunning(shim)) {
    return TaskStatus{TaskOutcome::kRunning, {}, {}, "running", local::TaskStartedMicros(run_dir), 0};
  }
  // It may have finished between the first read and the liveness check.
  WHARF_ASSIGN_OR_RETURN(final_status, local::ReadFinalStatus(run_dir));
  if (final_status) return *final_status;
  return local::RecordLostTask(run_dir, shim);
}

Status LocalExecutor::Cancel(const std::string& handle, std::chrono::milliseconds grace) {
  WHARF_ASSIGN_OR_RETURN(const fs::path run_dir, RunDirOf(handle));
  if (Exists(run_dir / local::kStatusFile)) return Status::Ok();
  if (!Exists(run_dir / local::kSpecFile)) return NotFound("no task at '" + handle + "'");
  const auto grace_ms = std::max<std::int64_t>(0, grace.count());
  // The supervisor reads this when it gets SIGTERM, or before it starts the command.
  WHARF_RETURN_IF_ERROR(local::WriteFileAtomically(run_dir / local::kCancelFile, std::to_string(grace_ms) + "\n"));
  Result<std::string> shim_text = ReadFile(run_dir / local::kShimPidFile);
  if (!shim_text.ok()) {
    // A Submit is under way: the supervisor will find the marker when it starts.
    if (shim_text.status().code() == StatusCode::kNotFound) return Status::Ok();
    return shim_text.status();
  }
  WHARF_ASSIGN_OR_RETURN(const local::ProcessIdentity shim, local::ParseIdentity(*shim_text));
  Status sent = local::SignalProcess(shim, SIGTERM);
  if (sent.code() == StatusCode::kNotFound) {
    // Finished meanwhile, or died: Poll records which, and ends what is left.
    WHARF_RETURN_IF_ERROR(Poll(handle).status());
    return Status::Ok();
  }
  return sent;
}

Result<std::string> LocalExecutor::ReadLog(const std::string& handle, LogStream stream, std::uint64_t offset,
                                           std::size_t max_bytes) {
  WHARF_ASSIGN_OR_RETURN(const fs::path run_dir, RunDirOf(handle));
  return local::ReadTaskLog(run_dir, stream, offset, max_bytes);
}

}  // namespace wharf::exec
