#include "control/scheduler.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

#include "control/model_registry.h"
#include "core/clock.h"

namespace wharf::control {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using std::chrono::milliseconds;

constexpr milliseconds kMaxBackoff{5 * 60 * 1000};
constexpr milliseconds kIdleWait{1000};
constexpr std::string_view kArtifactPrefix = "artifact:";
constexpr std::string_view kModelPrefix = "model:";

std::string FormatDelay(milliseconds delay) {
  if (delay.count() % 1000 == 0) return fmt::format("{} s", delay.count() / 1000);
  return fmt::format("{:.1f} s", static_cast<double>(delay.count()) / 1000);
}

milliseconds Backoff(milliseconds base, int failed_attempt) {
  milliseconds delay = base;
  for (int i = 1; i < failed_attempt && delay < kMaxBackoff; ++i) delay *= 2;
  return std::min(delay, kMaxBackoff);
}

// Where an attempt's secrets live: beside its run_dir, never inside it.
fs::path SecretsDirOf(const fs::path& runs_dir, const store::TaskRecord& record) {
  return runs_dir / record.id / fmt::format("secrets.{}", record.attempt);
}

// Writes `value` to a new file only its owner can read.
Status WritePrivateFile(const fs::path& path, std::string_view value) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return IoError(fmt::format("cannot create {}: {}", path.string(), std::strerror(errno)));
  const bool written = ::write(fd, value.data(), value.size()) == static_cast<ssize_t>(value.size());
  const int error = errno;
  ::close(fd);
  if (!written) return IoError(fmt::format("cannot write {}: {}", path.string(), std::strerror(error)));
  return Status::Ok();
}

Status MakePrivateDirectory(const fs::path& dir) {
  if (::mkdir(dir.c_str(), 0700) != 0) {
    return IoError(fmt::format("cannot create {}: {}", dir.string(), std::strerror(errno)));
  }
  return Status::Ok();
}

std::string Upper(std::string text) {
  for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

}  // namespace

Result<json> ResolveReferences(const json& value, std::string_view field, const ArtifactStore& artifacts,
                               store::MetadataStore& store) {
  if (value.is_object() || value.is_array()) {
    json out = value;
    for (auto& [key, item] : out.items()) {
      WHARF_ASSIGN_OR_RETURN(item, ResolveReferences(item, fmt::format("{}.{}", field, key), artifacts, store));
    }
    return out;
  }
  if (!value.is_string()) return value;
  const std::string& text = value.get_ref<const std::string&>();
  if (text.starts_with(kArtifactPrefix)) {
    const std::string_view name = std::string_view(text).substr(kArtifactPrefix.size());
    Result<fs::path> path = artifacts.PathOf(name);
    if (!path.ok()) return InvalidArgument(fmt::format("{}: {}", field, path.status().message()));
    std::error_code ec;
    if (!fs::is_regular_file(*path, ec)) return NotFound(fmt::format("{}: artifact '{}' not found", field, name));
    return json(path->string());
  }
  if (text.starts_with(kModelPrefix)) {
    const std::string_view ref_text = std::string_view(text).substr(kModelPrefix.size());
    Result<ModelRef> ref = ParseModelRef(ref_text);
    if (!ref.ok()) return InvalidArgument(fmt::format("{}: {}", field, ref.status().message()));
    Result<store::ModelVersion> version = ResolveModelRef(store, *ref);
    if (!version.ok()) return NotFound(fmt::format("{}: model '{}': {}", field, ref_text, version.status().message()));
    return json(version->modelfile_path);
  }
  return value;
}

Scheduler::Scheduler(std::unique_ptr<store::MetadataStore> store, exec::Executor& executor,
                     const ArtifactStore& artifacts, const JobRegistry& jobs, SchedulerOptions options)
    : store_(std::move(store)),
      executor_(executor),
      artifacts_(artifacts),
      jobs_(jobs),
      options_(std::move(options)),
      slots_(options_.capacity_cpus) {}

Scheduler::~Scheduler() { Stop(); }

Status Scheduler::Start() {
  store::TaskQuery query;
  query.states = {store::TaskState::kRunning};
  query.limit = 0;
  WHARF_ASSIGN_OR_RETURN(std::vector<store::TaskRecord> running, store_->ListTasks(query));
  for (auto& record : running) {
    Result<DefinitionSpec> spec = ParseDefinition(json::parse(record.spec_json, nullptr, false), jobs_);
    if (!spec.ok()) {
      store::TaskUpdate update{.state = store::TaskState::kFailed,
                               .reason = "lost: its stored spec no longer parses: " + spec.status().message(),
                               .finished_us = NowMicros()};
      (void)store_->TransitionTask(record.id, store::TaskState::kRunning, update);
      continue;
    }
    if (record.handle.empty()) {
      FailAttempt(record, *spec, std::nullopt, "lost: the server stopped while starting it");
      continue;
    }
    slots_.Acquire(spec->resources.total_cpus());
    std::string id = record.id, handle = record.handle;
    running_.emplace(std::move(id), Running{std::move(record), std::move(*spec), std::move(handle)});
  }
  thread_ = std::thread([this] { Loop(); });
  return Status::Ok();
}

void Scheduler::Stop() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Scheduler::Wake() {
  {
    MutexLock lock(mu_);
    refresh_ = true;
  }
  wake_.notify_all();
}

void Scheduler::RequestStop(const std::string& task_id, milliseconds grace) {
  {
    MutexLock lock(mu_);
    stops_.push_back({task_id, grace});
  }
  wake_.notify_all();
}

void Scheduler::Loop() {
  while (true) {
    bool refresh = false;
    {
      MutexLock lock(mu_);
      if (stopping_) return;
      refresh = std::exchange(refresh_, false);
    }
    HandleStops();
    PollRunning();
    if (refresh) RefreshPending();
    const std::int64_t now = NowMicros();
    StartReady(now);

    // Sleep until the next poll, the next retry, or a wake-up.
    milliseconds wait = running_.empty() ? kIdleWait : options_.poll_interval;
    for (const auto& record : pending_) {
      if (record.next_attempt_us && *record.next_attempt_us > now) {
        wait = std::min(wait, milliseconds((*record.next_attempt_us - now) / 1000 + 1));
      }
    }
    const auto deadline = std::chrono::steady_clock::now() + wait;
    MutexLock lock(mu_);
    while (!stopping_ && !refresh_ && stops_.empty() && lock.WaitUntil(wake_, deadline)) {
    }
  }
}

void Scheduler::RefreshPending() {
  store::TaskQuery query;
  query.states = {store::TaskState::kPending};
  query.limit = 0;
  Result<std::vector<store::TaskRecord>> tasks = store_->ListTasks(query);
  if (!tasks.ok()) return;  // the next wake-up tries again
  pending_.assign(std::make_move_iterator(tasks->rbegin()), std::make_move_iterator(tasks->rend()));
}

void Scheduler::StartReady(std::int64_t now_us) {
  std::vector<Launching> batch;
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (it->next_attempt_us && *it->next_attempt_us > now_us) {
      ++it;  // backing off: it does not hold back the tasks behind it
      continue;
    }
    Result<DefinitionSpec> spec = ParseDefinition(json::parse(it->spec_json, nullptr, false), jobs_);
    if (!spec.ok()) {
      store::TaskUpdate update{.state = store::TaskState::kFailed,
                               .reason = "invalid spec: " + spec.status().message(),
                               .finished_us = now_us};
      (void)store_->TransitionTask(it->id, store::TaskState::kPending, update);
      it = pending_.erase(it);
      continue;
    }
    if (!slots_.TryAcquire(spec->resources.total_cpus())) break;  // oldest first: wait for room
    // Tasks of one definition that start together are submitted together
    // (on Slurm: one job array).
    if (!batch.empty() && batch.back().record.spec_json != it->spec_json) LaunchAll(std::exchange(batch, {}));
    batch.push_back({std::move(*it), std::move(*spec), {}});
    it = pending_.erase(it);
  }
  LaunchAll(std::move(batch));
}

void Scheduler::LaunchAll(std::vector<Launching> batch) {
  std::vector<Launching> claimed;
  for (auto& launching : batch) {
    if (!Claim(launching.record, launching.spec)) continue;
    Result<exec::TaskSpec> task = BuildExecSpec(launching.record, launching.spec, launching.record.attempt);
    if (!task.ok()) {
      slots_.Release(launching.spec.resources.total_cpus());
      FailAttempt(launching.record, launching.spec, std::nullopt, "could not start: " + task.status().message());
      continue;
    }
    launching.task = std::move(*task);
    claimed.push_back(std::move(launching));
  }
  if (claimed.empty()) return;
  std::vector<exec::TaskSpec> tasks;
  for (const auto& launching : claimed) tasks.push_back(launching.task);
  const Result<std::vector<std::string>> handles = executor_.SubmitAll(tasks);
  for (std::size_t i = 0; i < claimed.size(); ++i) {
    store::TaskRecord& record = claimed[i].record;
    DefinitionSpec& spec = claimed[i].spec;
    if (!handles.ok()) {
      slots_.Release(spec.resources.total_cpus());
      FailAttempt(record, spec, std::nullopt, "could not start: " + handles.status().message());
      continue;
    }
    const std::string& handle = (*handles)[i];
    (void)store_->TransitionTask(record.id, store::TaskState::kRunning, store::TaskUpdate{.handle = handle});
    record.handle = handle;
    std::string id = record.id;
    running_.emplace(std::move(id), Running{std::move(record), std::move(spec), handle});
  }
}

bool Scheduler::Claim(store::TaskRecord& record, const DefinitionSpec& spec) {
  const int attempt = record.attempt + 1;
  // The previous attempt's handle goes: a server that stops before the new
  // one is stored must find no handle (lost), not adopt a finished process.
  // Its start goes too: started_us is when the executor starts the command
  // (PollRunning records it), which on Slurm can be long after the claim.
  store::TaskUpdate claim{.state = store::TaskState::kRunning,
                          .handle = "",
                          .clear_exit_code = true,
                          .reason = "",
                          .attempt = attempt,
                          .started_us = 0,
                          .clear_next_attempt = true};
  Result<bool> claimed = store_->TransitionTask(record.id, store::TaskState::kPending, claim);
  if (!claimed.ok() || !*claimed) {  // stopped meanwhile, or the store failed: leave it
    slots_.Release(spec.resources.total_cpus());
    return false;
  }
  record.state = store::TaskState::kRunning;
  record.attempt = attempt;
  record.started_us = 0;
  return true;
}

Result<exec::TaskSpec> Scheduler::BuildExecSpec(const store::TaskRecord& record, const DefinitionSpec& spec,
                                                int attempt) {
  WHARF_ASSIGN_OR_RETURN(fs::path output_dir, artifacts_.ResetTaskOutputDir(record.id));
  exec::TaskSpec task;
  task.id = fmt::format("{}.{}", record.id, attempt);
  task.run_dir = options_.runs_dir / record.id / std::to_string(attempt);
  task.work_dir = output_dir;
  task.resources = spec.resources;
  task.timeout = spec.timeout;
  task.executor = spec.executor;

  task.env = spec.env;
  task.env.emplace("PATH", "/usr/local/bin:/usr/bin:/bin");
  const char* home = std::getenv("HOME");
  task.env.emplace("HOME", home != nullptr ? home : options_.home.string());
  task.env["WHARF_TASK_ID"] = record.id;
  task.env["WHARF_ATTEMPT"] = std::to_string(attempt);
  task.env["WHARF_TASK_INDEX"] = std::to_string(record.index);
  task.env["WHARF_TASK_COUNT"] = std::to_string(record.count);
  task.env["WHARF_OUTPUT_DIR"] = output_dir.string();
  task.env["WHARF_HOME"] = options_.home.string();
  if (!options_.store.empty()) task.env["WHARF_STORE"] = options_.store;
  for (const auto& [name, artifact] : spec.inputs) {
    WHARF_ASSIGN_OR_RETURN(json path, ResolveReferences(json(std::string(kArtifactPrefix) + artifact),
                                                        "inputs." + name, artifacts_, *store_));
    task.env["WHARF_INPUT_" + Upper(name)] = path.get<std::string>();
  }

  if (!spec.job.empty()) {
    const JobType* job = jobs_.Find(spec.job);
    if (job == nullptr) return InvalidArgument(fmt::format("job '{}' is not known to this server", spec.job));
    WHARF_ASSIGN_OR_RETURN(json params, ResolveReferences(spec.params, "params", artifacts_, *store_));
    const JobContext context{options_.wharf_executable, output_dir, spec.resources.cpus, spec.resources.ranks,
                             record.index, record.count};
    WHARF_ASSIGN_OR_RETURN(task.argv, job->argv(params, context));
    // As in a command: a param "$(WHARF_PORT)" becomes the service instance's port.
    for (auto& arg : task.argv) arg = ExpandEnvReferences(arg, task.env);
  } else {
    for (const auto& arg : spec.command) task.argv.push_back(ExpandEnvReferences(arg, task.env));
  }
  // Last, so that no $(VAR) above can expand a secret into the argv (where
  // every process listing would show it).
  if (!spec.secrets.empty()) WHARF_RETURN_IF_ERROR(ProvideSecrets(record, spec.secrets, task));
  return task;
}

Status Scheduler::ProvideSecrets(const store::TaskRecord& record, const SecretRefs& secrets, exec::TaskSpec& task) {
  if (!secrets_) {
    const fs::path key_file =
        options_.secret_key_file.empty() ? secret::KeyFile(options_.home) : options_.secret_key_file;
    WHARF_ASSIGN_OR_RETURN(secret::Vault vault, secret::Vault::Open(key_file));
    secrets_.emplace(*store_, std::move(vault));
  }
  const fs::path dir = SecretsDirOf(options_.runs_dir, record);
  std::error_code ec;
  fs::remove_all(dir, ec);  // a leftover of a server that died mid-way
  fs::create_directories(dir.parent_path(), ec);
  WHARF_RETURN_IF_ERROR(MakePrivateDirectory(dir));
  task.secrets_dir = dir;
  const std::string actor = fmt::format("task:{} (attempt {})", record.id, record.attempt);
  // Secret `name` into `path`, only the owner may read it; `field` names the reference in errors.
  const auto provide = [&](const std::string& name, const fs::path& path, const std::string& field) -> Status {
    Result<secret::SecretValue> value = secrets_->Read(name, actor);
    if (!value.ok()) return value.status().WithContext(field);
    return WritePrivateFile(path, value->value);
  };
  if (!secrets.env.empty()) WHARF_RETURN_IF_ERROR(MakePrivateDirectory(dir / "env"));
  for (const auto& [variable, name] : secrets.env) {
    WHARF_RETURN_IF_ERROR(provide(name, dir / "env" / variable, "secrets.env." + variable));
    task.env_files[variable] = dir / "env" / variable;
  }
  if (!secrets.files.empty()) {
    WHARF_RETURN_IF_ERROR(MakePrivateDirectory(dir / "files"));
    task.env["WHARF_SECRETS_DIR"] = (dir / "files").string();
  }
  for (const auto& [file, name] : secrets.files) {
    WHARF_RETURN_IF_ERROR(provide(name, dir / "files" / file, "secrets.files." + file));
  }
  return Status::Ok();
}

void Scheduler::RemoveSecrets(const store::TaskRecord& record) {
  std::error_code ec;
  fs::remove_all(SecretsDirOf(options_.runs_dir, record), ec);
}

void Scheduler::PollRunning() {
  for (auto it = running_.begin(); it != running_.end();) {
    Result<exec::TaskStatus> status = executor_.Poll(it->second.handle);
    // Unavailable: the executor cannot tell now (Slurm's controller is busy
    // or restarting); the task is not lost for that, so ask again later.
    if ((status.ok() && !exec::IsFinal(status->outcome)) ||
        (!status.ok() && status.status().code() == StatusCode::kUnavailable)) {
      if (status.ok()) RecordStart(it->second, status->started_us);
      ++it;
      continue;
    }
    if (!status.ok()) {
      exec::TaskStatus lost;
      lost.outcome = exec::TaskOutcome::kLost;
      lost.reason = "lost: " + status.status().message();
      Finish(it->second, lost);
    } else {
      Finish(it->second, *status);
    }
    it = running_.erase(it);
  }
}

void Scheduler::RecordStart(Running& task, std::int64_t started_us) {
  if (started_us == 0 || started_us == task.record.started_us) return;
  const store::TaskUpdate update{.started_us = started_us};
  Result<bool> recorded = store_->TransitionTask(task.record.id, store::TaskState::kRunning, update);
  if (recorded.ok() && *recorded) task.record.started_us = started_us;
}

void Scheduler::HandleStops() {
  std::vector<StopRequest> stops;
  {
    MutexLock lock(mu_);
    stops.swap(stops_);
  }
  for (const auto& stop : stops) {
    auto it = running_.find(stop.task_id);
    if (it != running_.end()) {
      it->second.stop_requested = true;
      (void)executor_.Cancel(it->second.handle, stop.grace);
      continue;
    }
    // It ended and is waiting for a retry: the stop still holds.
    store::TaskUpdate update{.state = store::TaskState::kCancelled, .reason = "stopped", .finished_us = NowMicros()};
    Result<bool> cancelled = store_->TransitionTask(stop.task_id, store::TaskState::kPending, update);
    if (cancelled.ok() && *cancelled) {
      std::erase_if(pending_, [&](const store::TaskRecord& r) { return r.id == stop.task_id; });
    }
  }
}

void Scheduler::Finish(Running& task, const exec::TaskStatus& status) {
  RecordStart(task, status.started_us);  // it may have ended before a poll saw it run
  slots_.Release(task.spec.resources.total_cpus());
  RemoveSecrets(task.record);
  const std::int64_t finished = status.finished_us != 0 ? status.finished_us : NowMicros();
  if (status.outcome == exec::TaskOutcome::kSucceeded) {
    Result<std::string> note = CompleteOutputs(task);
    if (!note.ok()) {
      FailAttempt(task.record, task.spec, status.exit_code, note.status().message());
      return;
    }
    store::TaskUpdate update{.state = store::TaskState::kSucceeded,
                             .exit_code = 0,
                             .reason = *note,
                             .finished_us = finished};
    (void)store_->TransitionTask(task.record.id, store::TaskState::kRunning, update);
    return;
  }
  if (status.outcome == exec::TaskOutcome::kCancelled || task.stop_requested) {
    store::TaskUpdate update{.state = store::TaskState::kCancelled,
                             .exit_code = status.exit_code,
                             .reason = status.signal ? fmt::format("stopped ({})", status.reason) : "stopped",
                             .finished_us = finished};
    (void)store_->TransitionTask(task.record.id, store::TaskState::kRunning, update);
    return;
  }
  const bool lost = status.outcome == exec::TaskOutcome::kLost && !status.reason.starts_with("lost");
  FailAttempt(task.record, task.spec, status.exit_code, lost ? "lost: " + status.reason : status.reason);
}

void Scheduler::FailAttempt(const store::TaskRecord& record, const DefinitionSpec& spec,
                            std::optional<int> exit_code, const std::string& reason) {
  RemoveSecrets(record);
  const std::int64_t now = NowMicros();
  if (record.attempt < record.max_attempts) {
    const milliseconds delay = Backoff(spec.retry_backoff, record.attempt);
    store::TaskUpdate update{.state = store::TaskState::kPending,
                             .exit_code = exit_code,
                             .clear_exit_code = !exit_code.has_value(),
                             .reason = fmt::format("attempt {} of {} failed: {}; retrying in {}", record.attempt,
                                                   record.max_attempts, reason, FormatDelay(delay)),
                             .next_attempt_us = now + delay.count() * 1000};
    Result<bool> moved = store_->TransitionTask(record.id, store::TaskState::kRunning, update);
    if (moved.ok() && *moved) {
      store::TaskRecord retry = record;
      retry.state = store::TaskState::kPending;
      retry.next_attempt_us = update.next_attempt_us;
      auto at = std::find_if(pending_.begin(), pending_.end(),
                             [&](const store::TaskRecord& r) { return r.id > retry.id; });
      pending_.insert(at, std::move(retry));
    }
    return;
  }
  const std::string why =
      record.max_attempts > 1 ? fmt::format("{} (after {} attempts)", reason, record.attempt) : reason;
  store::TaskUpdate update{.state = store::TaskState::kFailed,
                           .exit_code = exit_code,
                           .reason = why,
                           .finished_us = now};
  (void)store_->TransitionTask(record.id, store::TaskState::kRunning, update);
}

Result<std::string> Scheduler::CompleteOutputs(const Running& task) {
  WHARF_ASSIGN_OR_RETURN(fs::path output_dir, artifacts_.PathOf(ArtifactStore::TaskOutputPrefix(task.record.id)));
  for (const auto& name : task.spec.outputs) {
    std::error_code ec;
    if (!fs::is_regular_file(output_dir / name, ec)) {
      return FailedPrecondition(fmt::format("declared output '{}' was not written", name));
    }
  }
  const JobType* job = task.spec.job.empty() ? nullptr : jobs_.Find(task.spec.job);
  if (job == nullptr || !job->produces_model) return std::string();
  ModelRegistration registration;
  registration.model = task.spec.model.empty() ? task.record.definition : task.spec.model;
  registration.modelfile = output_dir / "Modelfile";
  registration.lineage = {{"task_id", task.record.id},
                          {"definition", fmt::format("{}:{}", task.record.definition, task.record.revision)},
                          {"attempt", task.record.attempt}};
  Result<store::ModelVersion> version = RegisterModelfile(*store_, options_.models_dir, registration);
  if (!version.ok()) return FailedPrecondition("registering the model failed: " + version.status().message());
  return fmt::format("registered model {} version {}", version->model, version->version);
}

}  // namespace wharf::control
