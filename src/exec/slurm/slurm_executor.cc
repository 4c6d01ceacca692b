#include "exec/slurm/slurm_executor.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <map>
#include <optional>

#include "core/clock.h"
#include "core/file.h"
#include "exec/local/lost_task.h"
#include "exec/local/proc.h"
#include "exec/local/run_dir.h"
#include "exec/local/sandbox.h"
#include "exec/shim.h"
#include "exec/slurm/command.h"
#include "exec/task_json.h"

namespace wharf::exec {
namespace {

namespace fs = std::filesystem;

// Written beside status.json once the executor has replaced a supervisor's
// "cancelled" with what Slurm says ended the job.
constexpr char kSlurmDecidedFile[] = "slurm.decided";

struct Handle {
  std::string job_id;
  fs::path run_dir;
};

// The job's script and its output, in the run_dir; an array's script is in
// its first task's run_dir.
constexpr char kScriptFile[] = "slurm.sh";
constexpr char kOutputFile[] = "slurm.out";
constexpr char kArrayScriptFile[] = "slurm-array.sh";

// "123", or "123_4" for element 4 of array job 123.
bool IsJobId(const std::string& id) {
  const auto underscore = id.find('_');
  auto digits = [](std::string_view s) { return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos; };
  if (underscore == std::string::npos) return digits(id);
  return digits(std::string_view(id).substr(0, underscore)) && digits(std::string_view(id).substr(underscore + 1));
}

std::string MakeHandle(const std::string& job_id, const fs::path& run_dir) {
  return "slurm:" + job_id + ":" + run_dir.string();
}

Result<Handle> ParseHandle(const std::string& handle) {
  const std::string prefix = "slurm:";
  const auto colon = handle.find(':', prefix.size());
  if (!handle.starts_with(prefix) || colon == std::string::npos || colon == prefix.size() ||
      !IsJobId(handle.substr(prefix.size(), colon - prefix.size())) || colon + 1 >= handle.size() ||
      handle[colon + 1] != '/') {
    return InvalidArgument("not a Slurm task handle (slurm:JOBID[_INDEX]:RUN_DIR): '" + handle + "'");
  }
  return Handle{handle.substr(prefix.size(), colon - prefix.size()), fs::path(handle.substr(colon + 1))};
}

// 'text' for /bin/sh, whatever it holds.
std::string ShellQuote(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// "2026-11-23T20:38:01" (local time, as scontrol prints it) in µs since the epoch; 0 if not a time.
std::int64_t SlurmTimeMicros(const std::string& text) {
  std::tm tm{};
  tm.tm_isdst = -1;
  const char* end = ::strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (end == nullptr || *end != '\0') return 0;
  const std::time_t t = std::mktime(&tm);
  return t < 0 ? 0 : static_cast<std::int64_t>(t) * 1'000'000;
}

bool IsPendingOrRunning(const std::string& state) {
  return state == "PENDING" || state == "CONFIGURING" || state == "RUNNING" || state == "COMPLETING" ||
         state == "SUSPENDED" || state == "REQUEUED" || state == "REQUEUE_HOLD" || state == "REQUEUE_FED" ||
         state == "RESIZING" || state == "SIGNALING" || state == "STAGE_OUT";
}

// The outcome of a job Slurm ended before its supervisor wrote one.
TaskStatus OutcomeOfEndedJob(const std::map<std::string, std::string>& job, bool cancel_requested) {
  const std::string state = job.count("JobState") ? job.at("JobState") : "UNKNOWN";
  const std::string node = job.count("NodeList") ? job.at("NodeList") : "";
  TaskStatus status;
  status.started_us = job.count("StartTime") ? SlurmTimeMicros(job.at("StartTime")) : 0;
  status.finished_us = job.count("EndTime") ? SlurmTimeMicros(job.at("EndTime")) : 0;
  if (status.finished_us == 0) status.finished_us = NowMicros();
  if (state == "CANCELLED") {
    status.outcome = TaskOutcome::kCancelled;
    status.reason = cancel_requested ? "cancelled" : "cancelled in Slurm (scancel)";
  } else if (state == "TIMEOUT" || state == "DEADLINE") {
    status.outcome = TaskOutcome::kTimedOut;
    status.reason = "timed out: Slurm's time limit (" + (job.count("TimeLimit") ? job.at("TimeLimit") : "?") + ")";
  } else if (state == "OUT_OF_MEMORY") {
    status.outcome = TaskOutcome::kOutOfMemory;
    status.reason = "out of memory (Slurm)";
  } else if (state == "NODE_FAIL" || state == "BOOT_FAIL") {
    status.outcome = TaskOutcome::kLost;
    status.reason = "Slurm: node " + node + " failed (" + state + ")";
  } else {
    status.outcome = TaskOutcome::kLost;
    status.reason = "the supervisor ended without a status (Slurm: " + state + ", exit code " +
                    (job.count("ExitCode") ? job.at("ExitCode") : "?") + (node.empty() ? "" : ", node " + node) + ")";
  }
  return status;
}

// True when Slurm itself ended a job in `state` (rather than its process).
bool SlurmEndedIt(const std::string& state) {
  return state == "CANCELLED" || state == "TIMEOUT" || state == "DEADLINE" || state == "NODE_FAIL" ||
         state == "BOOT_FAIL" || state == "OUT_OF_MEMORY" || state == "PREEMPTED";
}

// True when Slurm has nothing to say about why the job ended (it did not
// cancel, time out or lose it): its process, the supervisor, just died.
bool EndedBySupervisorDeath(const std::map<std::string, std::string>& job) {
  const auto state = job.find("JobState");
  if (state == job.end()) return true;  // Slurm forgot the job
  return state->second == "COMPLETED" || state->second == "FAILED";
}

}  // namespace

Result<std::unique_ptr<SlurmExecutor>> SlurmExecutor::Create(SlurmExecutorOptions options) {
  if (options.kill_grace.count() < 0) return InvalidArgument("kill_grace must not be negative");
  std::error_code error;
  const fs::path exe = fs::read_symlink("/proc/self/exe", error);
  if (options.shim_executable == "/proc/self/exe") {
    if (error) return Internal("cannot resolve /proc/self/exe: " + error.message());
    options.shim_executable = exe;  // the nodes cannot use our /proc
  }
  std::unique_ptr<SlurmExecutor> executor(new SlurmExecutor(std::move(options)));
  WHARF_RETURN_IF_ERROR(executor->Slurm({"scontrol", "ping"}).status());
  return executor;
}

Result<std::string> SlurmExecutor::Slurm(std::vector<std::string> args) const {
  std::map<std::string, std::string> env;
  if (!options_.slurm_conf.empty()) env["SLURM_CONF"] = options_.slurm_conf.string();
  WHARF_ASSIGN_OR_RETURN(slurm::CommandResult result, slurm::RunCommand(args, env));
  if (result.exit_code != 0) {
    std::string err = result.err.empty() ? result.out : result.err;
    while (!err.empty() && (err.back() == '\n' || err.back() == ' ')) err.pop_back();
    return Unavailable(args[0] + " " + (args.size() > 1 ? args[1] : "") + ": " +
                       (err.empty() ? "exit code " + std::to_string(result.exit_code) : err));
  }
  return result.out;
}

Result<fs::path> SlurmExecutor::Claim(const TaskSpec& spec) const {
  WHARF_RETURN_IF_ERROR(ValidateTaskSpec(spec));
  const fs::path run_dir = spec.run_dir.lexically_normal();
  std::error_code error;
  fs::create_directories(run_dir, error);
  if (error) return IoError("cannot create run_dir '" + run_dir.string() + "': " + error.message());
  TaskSpec stored = spec;
  stored.run_dir = run_dir;
  WHARF_RETURN_IF_ERROR(local::CreateExclusively(run_dir / local::kSpecFile, TaskSpecToJson(stored)));
  // Slurm confines the job where its cgroup plugins run; the supervisor adds setrlimit for memory.
  const local::Sandbox sandbox{local::CgroupLayout{}, "wharf", options_.kill_grace};
  Status written = local::WriteFileAtomically(run_dir / local::kSandboxFile, local::SandboxToJson(sandbox));
  // The script only hands over to the supervisor: the task's argv never meets a shell.
  if (written.ok()) {
    written = local::WriteFileAtomically(
        run_dir / kScriptFile,
        "#!/bin/sh\n# Written by wharf's Slurm executor: the task's supervisor, in the foreground.\nexec " +
            ShellQuote(options_.shim_executable.string()) + " " + std::string(kSuperviseArgument) + " " +
            ShellQuote(run_dir.string()) + "\n");
  }
  if (!written.ok()) {
    Unclaim({run_dir});
    return written;
  }
  return run_dir;
}

std::vector<std::string> SlurmExecutor::ResourceFlags(const TaskSpec& spec) const {
  std::vector<std::string> args = {
      "--export=NONE",
      // The batch script runs once; a task of several ranks starts them with srun.
      "--ntasks=" + std::to_string(spec.resources.ranks),
      "--no-requeue",  // a lost node fails the task; the scheduler decides on retries
      "--cpus-per-task=" + std::to_string(static_cast<int>(std::ceil(spec.resources.cpus)))};
  if (!options_.partition.empty()) args.push_back("--partition=" + options_.partition);
  if (spec.resources.gpus > 0) args.push_back("--gres=gpu:" + std::to_string(spec.resources.gpus));
  if (spec.resources.memory_bytes) {
    // The task's limit is for all its ranks together, wherever they run.
    const auto mib = (*spec.resources.memory_bytes + (1u << 20) - 1) >> 20;
    if (spec.resources.ranks == 1) {
      args.push_back("--mem=" + std::to_string(mib) + "M");
    } else {
      const auto cpus = static_cast<std::uint64_t>(std::ceil(spec.resources.cpus)) * spec.resources.ranks;
      args.push_back("--mem-per-cpu=" + std::to_string(std::max<std::uint64_t>(1, mib / cpus)) + "M");
    }
  }
  if (spec.timeout) {
    // Slurm's limit is a backstop behind the supervisor's own: a minute later, in whole minutes.
    const auto ms = spec.timeout->count() + options_.kill_grace.count() + 60'000;
    args.push_back("--time=" + std::to_string((ms + 59'999) / 60'000));
  }
  return args;
}

Result<std::string> SlurmExecutor::Sbatch(std::vector<std::string> args, const std::vector<fs::path>& claimed) const {
  Result<std::string> out = Slurm(std::move(args));
  if (!out.ok()) {
    Unclaim(claimed);
    return out.status();
  }
  std::string job_id = out->substr(0, out->find_first_of(";\n"));
  if (job_id.empty() || job_id.find_first_not_of("0123456789") != std::string::npos) {
    return Internal("sbatch printed no job id: '" + *out + "'");
  }
  return job_id;
}

void SlurmExecutor::Unclaim(const std::vector<fs::path>& run_dirs) {
  std::error_code ignored;
  for (const auto& dir : run_dirs) fs::remove(dir / local::kSpecFile, ignored);
}

Result<std::string> SlurmExecutor::Submit(const TaskSpec& spec) {
  WHARF_ASSIGN_OR_RETURN(const fs::path run_dir, Claim(spec));
  std::vector<std::string> args = {"sbatch", "--parsable", "--job-name=wharf-" + spec.id,
                                   "--output=" + (run_dir / kOutputFile).string(), "--chdir=" + run_dir.string()};
  for (auto& flag : ResourceFlags(spec)) args.push_back(std::move(flag));
  args.push_back((run_dir / kScriptFile).string());
  WHARF_ASSIGN_OR_RETURN(const std::string job_id, Sbatch(std::move(args), {run_dir}));
  return MakeHandle(job_id, run_dir);
}

Result<std::vector<std::string>> SlurmExecutor::SubmitAll(const std::vector<TaskSpec>& specs) {
  const auto flags = specs.empty() ? std::vector<std::string>{} : ResourceFlags(specs.front());
  const bool alike = std::all_of(specs.begin(), specs.end(), [&](const TaskSpec& s) { return ResourceFlags(s) == flags; });
  if (specs.size() < 2 || !alike) return Executor::SubmitAll(specs);

  std::vector<fs::path> run_dirs;
  for (const TaskSpec& spec : specs) {
    Result<fs::path> run_dir = Claim(spec);
    if (!run_dir.ok()) {
      Unclaim(run_dirs);
      return run_dir.status();
    }
    run_dirs.push_back(std::move(*run_dir));
  }
  // Element I runs task I's own script, with its output where a single job's goes.
  std::string script =
      "#!/bin/sh\n# Written by wharf's Slurm executor: element I of the array runs task I's supervisor.\n"
      "case \"$SLURM_ARRAY_TASK_ID\" in\n";
  for (std::size_t i = 0; i < run_dirs.size(); ++i) {
    script += "  " + std::to_string(i) + ") exec /bin/sh " + ShellQuote((run_dirs[i] / kScriptFile).string()) +
              " >" + ShellQuote((run_dirs[i] / kOutputFile).string()) + " 2>&1 ;;\n";
  }
  script += "esac\necho \"wharf: no task for array index $SLURM_ARRAY_TASK_ID\" >&2\nexit 1\n";
  const fs::path array_script = run_dirs.front() / kArrayScriptFile;
  if (Status written = local::WriteFileAtomically(array_script, script); !written.ok()) {
    Unclaim(run_dirs);
    return written;
  }
  std::vector<std::string> args = {"sbatch", "--parsable", "--job-name=wharf-" + specs.front().id + "-array",
                                   "--output=/dev/null", "--chdir=" + run_dirs.front().string(),
                                   "--array=0-" + std::to_string(specs.size() - 1)};
  args.insert(args.end(), flags.begin(), flags.end());
  args.push_back(array_script.string());
  WHARF_ASSIGN_OR_RETURN(const std::string job_id, Sbatch(std::move(args), run_dirs));
  std::vector<std::string> handles;
  for (std::size_t i = 0; i < run_dirs.size(); ++i) {
    handles.push_back(MakeHandle(job_id + "_" + std::to_string(i), run_dirs[i]));
  }
  return handles;
}

Result<TaskStatus> SlurmExecutor::Poll(const std::string& handle) {
  WHARF_ASSIGN_OR_RETURN(const Handle h, ParseHandle(handle));
  const fs::path decided = h.run_dir / kSlurmDecidedFile;
  // The supervisor's status stands, unless it may be Slurm's doing: a
  // "cancelled" nobody asked for, or a command ended by a signal. Slurm
  // signals a job's processes itself (a node taken down, its time limit, an
  // scancel from outside), and only Slurm can say whether it did.
  auto settled = [&](const std::optional<TaskStatus>& status) {
    if (!status || ::access(decided.c_str(), F_OK) == 0) return status.has_value();
    const bool cancel_requested = ::access((h.run_dir / local::kCancelFile).c_str(), F_OK) == 0;
    const bool signalled = status->signal.has_value() || status->exit_code.value_or(0) >= 128;
    if (status->outcome == TaskOutcome::kCancelled) return cancel_requested;
    return !(status->outcome == TaskOutcome::kFailed && signalled);
  };
  WHARF_ASSIGN_OR_RETURN(std::optional<TaskStatus> final_status, local::ReadFinalStatus(h.run_dir));
  if (settled(final_status)) return *final_status;
  if (!final_status && ::access((h.run_dir / local::kSpecFile).c_str(), F_OK) != 0) {
    return NotFound("no task at '" + handle + "'");
  }
  Result<std::string> line = Slurm({"scontrol", "show", "job", "-o", h.job_id});
  std::map<std::string, std::string> job;
  if (line.ok()) {
    job = slurm::ParseScontrolLine(*line);
    const std::string state = job.count("JobState") ? job["JobState"] : "";
    if (IsPendingOrRunning(state)) {
      // Started once its supervisor has started the command (a pending job's
      // StartTime is only Slurm's estimate).
      return TaskStatus{TaskOutcome::kRunning, {}, {}, state == "PENDING" ? "pending in Slurm" : "running",
                        local::TaskStartedMicros(h.run_dir), 0};
    }
  } else if (line.status().message().find("Invalid job id") == std::string::npos) {
    return line.status();  // the controller is down or busy: ask again later
  }
  // Slurm has ended the job. The supervisor may have written its status meanwhile.
  WHARF_ASSIGN_OR_RETURN(final_status, local::ReadFinalStatus(h.run_dir));
  if (settled(final_status)) return *final_status;
  const bool cancel_requested = ::access((h.run_dir / local::kCancelFile).c_str(), F_OK) == 0;
  TaskStatus status;
  if (final_status) {  // the supervisor's "cancelled" or signalled end, explained by Slurm when it was Slurm's
    const std::string state = job.count("JobState") ? job["JobState"] : "";
    status = line.ok() && SlurmEndedIt(state) ? OutcomeOfEndedJob(job, cancel_requested) : *final_status;
    status.exit_code = final_status->exit_code;
    status.signal = final_status->signal;
    if (final_status->started_us != 0) status.started_us = final_status->started_us;
    WHARF_RETURN_IF_ERROR(local::WriteFileAtomically(decided, (state.empty() ? "UNKNOWN" : state) + "\n"));
  } else if (Result<std::string> shim = ReadFile(h.run_dir / local::kShimPidFile);
             shim.ok() && EndedBySupervisorDeath(job)) {
    // Its supervisor died: what it left running is killed (where it runs on
    // this host; elsewhere Slurm's process tracking ends it with the job).
    WHARF_ASSIGN_OR_RETURN(const local::ProcessIdentity identity, local::ParseIdentity(*shim));
    return local::RecordLostTask(h.run_dir, identity);
  } else {
    status = line.ok() ? OutcomeOfEndedJob(job, cancel_requested)
                       : TaskStatus{TaskOutcome::kLost, {}, {},
                                    "Slurm no longer knows job " + h.job_id + " and it left no status", 0, NowMicros()};
  }
  // Recorded once: Slurm forgets ended jobs, and there is no accounting database to ask later.
  WHARF_RETURN_IF_ERROR(local::WriteFileAtomically(h.run_dir / local::kStatusFile, TaskStatusToJson(status)));
  return status;
}

Status SlurmExecutor::Cancel(const std::string& handle, std::chrono::milliseconds grace) {
  WHARF_ASSIGN_OR_RETURN(const Handle h, ParseHandle(handle));
  WHARF_ASSIGN_OR_RETURN(std::optional<TaskStatus> final_status, local::ReadFinalStatus(h.run_dir));
  if (final_status) return Status::Ok();
  if (::access((h.run_dir / local::kSpecFile).c_str(), F_OK) != 0) return NotFound("no task at '" + handle + "'");
  const auto grace_ms = std::max<std::int64_t>(0, grace.count());
  // The supervisor reads this when it gets SIGTERM, or before it starts the command.
  WHARF_RETURN_IF_ERROR(local::WriteFileAtomically(h.run_dir / local::kCancelFile, std::to_string(grace_ms) + "\n"));
  Result<std::string> line = Slurm({"scontrol", "show", "job", "-o", h.job_id});
  const std::string state = line.ok() ? slurm::ParseScontrolLine(*line)["JobState"] : "";
  if (!IsPendingOrRunning(state)) return Status::Ok();  // over: Poll records how
  // A pending job is simply withdrawn; a running one's supervisor ends the
  // command with the grace asked for (Slurm's own kill would wait KillWait).
  const Result<std::string> sent = state == "PENDING" ? Slurm({"scancel", h.job_id})
                                                      : Slurm({"scancel", "--batch", "--signal=TERM", h.job_id});
  if (!sent.ok() && sent.status().message().find("already completing or completed") == std::string::npos) {
    return sent.status();
  }
  return Status::Ok();
}

Result<std::string> SlurmExecutor::ReadLog(const std::string& handle, LogStream stream, std::uint64_t offset,
                                           std::size_t max_bytes) {
  WHARF_ASSIGN_OR_RETURN(const Handle h, ParseHandle(handle));
  return local::ReadTaskLog(h.run_dir, stream, offset, max_bytes);
}

}  // namespace wharf::exec
