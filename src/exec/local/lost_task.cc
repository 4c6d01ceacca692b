#include "exec/local/lost_task.h"

#include <signal.h>

#include <sstream>
#include <string>
#include <thread>

#include "core/clock.h"
#include "core/file.h"
#include "exec/local/cgroup.h"
#include "exec/local/run_dir.h"
#include "exec/local/sandbox.h"
#include "exec/task_json.h"

namespace wharf::exec::local {
namespace {

namespace fs = std::filesystem;

// Far longer than a Submit takes: it waits only for the supervisor to start.
constexpr std::chrono::minutes kSubmitPatience{1};

// Kills the processes of the dead supervisor's session (it called setsid, so
// the session id is its pid). A session id stays allocated while any process
// is in the session, so members found with it are the task's, unless a live
// stranger now holds the pid and may lead a session of its own.
void KillSession(const ProcessIdentity& shim) {
  const auto holder = ReadProcStat(shim.pid);
  if (holder && holder->start_time != shim.start_time) return;
  for (int pass = 0; pass < 3; ++pass) {  // again, in case one forked as we scanned
    int found = 0;
    for (const ProcStat& process : ListProcesses()) {
      if (process.session != shim.pid || process.pid == shim.pid || process.state == 'Z') continue;
      ::kill(process.pid, SIGKILL);
      ++found;
    }
    if (found == 0) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

// Kills whatever is left in the task's cgroups (processes that left the
// session) and removes the groups.
void ClearCgroups(const fs::path& run_dir) {
  Result<std::string> spec_text = ReadFile(run_dir / kSpecFile);
  Result<std::string> sandbox_text = ReadFile(run_dir / kSandboxFile);
  if (!spec_text.ok() || !sandbox_text.ok()) return;
  Result<TaskSpec> spec = TaskSpecFromJson(*spec_text);
  Result<Sandbox> sandbox = SandboxFromJson(*sandbox_text);
  if (!spec.ok() || !sandbox.ok() || sandbox->cgroups.version == CgroupVersion::kNone) return;
  TaskCgroup group = TaskCgroup::Existing(sandbox->cgroups, sandbox->cgroup_parent, spec->id);
  group.SignalAll(SIGKILL);
  (void)group.Remove(500);
}

}  // namespace

Result<TaskStatus> RecordLostTask(const fs::path& run_dir, const std::optional<ProcessIdentity>& shim) {
  TaskStatus status;
  status.outcome = TaskOutcome::kLost;
  if (shim) {
    KillSession(*shim);
    ClearCgroups(run_dir);
    status.reason = "the supervisor died: process " + std::to_string(shim->pid) +
                    " ended without writing status.json; what was left of the task was killed";
  } else {
    status.reason = "the supervisor died: it never started (the submitting process died?)";
  }
  status.started_us = TaskStartedMicros(run_dir);
  status.finished_us = NowMicros();
  // Two pollers may race here: both write a lost status, and both return the one that won.
  WHARF_RETURN_IF_ERROR(WriteFileAtomically(run_dir / kStatusFile, TaskStatusToJson(status)));
  WHARF_ASSIGN_OR_RETURN(const std::string written, ReadFile(run_dir / kStatusFile));
  return TaskStatusFromJson(written);
}

bool SubmitAbandoned(const fs::path& run_dir) {
  std::error_code error;
  const auto written = fs::last_write_time(run_dir / kSpecFile, error);
  return !error && fs::file_time_type::clock::now() - written > kSubmitPatience;
}

std::int64_t TaskStartedMicros(const fs::path& run_dir) {
  Result<std::string> text = ReadFile(run_dir / kTaskPidFile);
  if (!text.ok()) return 0;
  std::istringstream in(*text);
  std::int64_t pid = 0;
  std::uint64_t start_time = 0;
  std::int64_t started_us = 0;
  in >> pid >> start_time >> started_us;
  return in ? started_us : 0;
}

}  // namespace wharf::exec::local
