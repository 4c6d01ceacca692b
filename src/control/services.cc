#include "control/services.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

#include <fmt/format.h>

#include "control/health_probe.h"
#include "core/clock.h"

namespace wharf::control {

namespace {

using nlohmann::json;
using std::chrono::milliseconds;

constexpr std::size_t kMaxEvents = 50;
constexpr milliseconds kRestartGrace{5'000};
constexpr int kMaxDesired = 1000;

std::int64_t Micros(milliseconds d) { return d.count() * 1000; }

// The port a task was given ($WHARF_PORT in its effective spec), or 0.
int PortOf(const store::TaskRecord& task) {
  const json spec = json::parse(task.spec_json, nullptr, false);
  if (!spec.is_object() || !spec.contains("env") || !spec["env"].contains("WHARF_PORT")) return 0;
  const json& port = spec["env"]["WHARF_PORT"];
  return port.is_string() ? std::atoi(port.get<std::string>().c_str()) : 0;
}

// A port the kernel would hand out now (bound to loopback, then released).
Result<int> FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Internal("cannot create a socket to find a free port");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  const bool bound = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
                     ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0;
  ::close(fd);
  if (!bound) return Internal("cannot find a free port");
  return static_cast<int>(ntohs(address.sin_port));
}

// OK when `service` may run `desired` instances.
Status CheckDesired(const ServiceSpec& service, int desired) {
  if (desired < 0 || desired > kMaxDesired) return InvalidArgument(fmt::format("desired: must be 0 to {}", kMaxDesired));
  if (service.port == ServiceSpec::Port::kFixed && desired > 1) {
    return InvalidArgument("desired: a service on a fixed port runs one instance");
  }
  return Status::Ok();
}

json TimeOrNull(std::int64_t us) { return us == 0 ? json(nullptr) : json(FormatTimeUtc(us)); }

}  // namespace

std::string InstanceGroup(std::string_view service) { return fmt::format("service:{}", service); }

ServiceController::ServiceController(std::unique_ptr<store::MetadataStore> api_store,
                                     std::unique_ptr<store::MetadataStore> loop_store, Scheduler& scheduler,
                                     const JobRegistry& jobs, const ArtifactStore& artifacts, ServiceOptions options)
    : api_store_(std::move(api_store)),
      loop_store_(std::move(loop_store)),
      scheduler_(scheduler),
      jobs_(jobs),
      options_(std::move(options)),
      reconciler_(*loop_store_, scheduler, jobs, artifacts) {}

ServiceController::~ServiceController() { Stop(); }

void ServiceController::Start() { thread_ = std::thread([this] { Loop(); }); }

void ServiceController::Stop() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ServiceController::Loop() {
  for (;;) {
    Tick();
    const auto deadline = std::chrono::steady_clock::now() + options_.interval;
    MutexLock lock(mu_);
    while (!stopping_ && lock.WaitUntil(wake_, deadline)) {
    }
    if (stopping_) return;
  }
}

void ServiceController::Tick() {
  Result<std::vector<store::ServiceRecord>> records = loop_store_->ListServices(/*include_inactive=*/true);
  if (!records.ok()) return;  // the next tick tries again
  const std::int64_t now = NowMicros();
  ports_in_use_.clear();
  for (const auto& [id, instance] : health_) ports_in_use_.insert(instance.port);
  std::set<std::string> live_ids;
  std::map<std::string, Observed> next;
  {
    MutexLock lock(mu_);
    next = observed_;
  }
  for (const auto& record : *records) {
    Observed& observed = next[record.name];
    // A stopped service whose instances are all gone has nothing left to do.
    if (!record.active && observed.instances.empty() && seen_update_[record.name] == record.updated_us) continue;
    if (Status s = TickService(record, now, observed); !s.ok()) Event(observed, now, "error: " + s.message());
    for (const auto& instance : observed.instances) live_ids.insert(instance.task_id);
  }
  std::erase_if(health_, [&](const auto& entry) { return !live_ids.contains(entry.first); });
  MutexLock lock(mu_);
  observed_ = std::move(next);
}

Status ServiceController::TickService(const store::ServiceRecord& record, std::int64_t now_us, Observed& observed) {
  ServiceSpec service;  // a definition that lost its service block: no port, no checks
  WHARF_ASSIGN_OR_RETURN(const store::TaskDefinition definition, loop_store_->GetDefinition(record.definition, std::nullopt));
  Result<DefinitionSpec> spec = ParseDefinition(json::parse(definition.spec_json, nullptr, false), jobs_);
  if (spec.ok() && spec->service) service = *spec->service;

  int desired = record.active ? record.desired : 0;
  if (service.restart == ServiceSpec::Restart::kOnFailure && desired > 0) {
    // Instances that finished cleanly since the last change are done, not missing.
    store::TaskQuery query{.states = {store::TaskState::kSucceeded}, .group_id = InstanceGroup(record.name), .limit = 0};
    WHARF_ASSIGN_OR_RETURN(const auto succeeded, loop_store_->ListTasks(query));
    desired -= static_cast<int>(std::count_if(succeeded.begin(), succeeded.end(), [&](const store::TaskRecord& t) {
      return t.finished_us >= record.updated_us;
    }));
    desired = std::max(0, desired);
  }

  if (seen_update_[record.name] != record.updated_us) {  // created again or scaled: no backoff from before
    seen_update_[record.name] = record.updated_us;
    reconciler_.ResetBackoff(record.name);
  }
  ServiceTarget target{record.name, record.definition, desired};
  target.group = InstanceGroup(record.name);
  if (service.port != ServiceSpec::Port::kNone) {
    target.instance_overrides = [this, &service]() -> Result<json> {
      int port = service.fixed_port;
      if (service.port == ServiceSpec::Port::kAuto) {
        WHARF_ASSIGN_OR_RETURN(port, AllocatePort());
      }
      return json{{"env", {{"WHARF_PORT", std::to_string(port)}}}};
    };
  }
  const Reconciler::Counts before = reconciler_.counts().count(record.name) ? reconciler_.counts().at(record.name)
                                                                           : Reconciler::Counts{};
  WHARF_ASSIGN_OR_RETURN(const auto live, reconciler_.Reconcile(target, now_us));
  const Reconciler::Counts after = reconciler_.counts().at(record.name);
  if (after.crashed > before.crashed) {
    store::TaskQuery query{.states = {store::TaskState::kFailed},
                           .group_id = InstanceGroup(record.name),
                           .limit = after.crashed - before.crashed};
    WHARF_ASSIGN_OR_RETURN(const auto failed, loop_store_->ListTasks(query));
    for (auto it = failed.rbegin(); it != failed.rend(); ++it) {
      Event(observed, now_us, fmt::format("instance {} ended: {}; restarting", it->id, it->reason));
    }
  }
  if (after.started > before.started) Event(observed, now_us, fmt::format("started {} instance(s)", after.started - before.started));
  if (after.stopped > before.stopped) Event(observed, now_us, fmt::format("stopped {} surplus instance(s)", after.stopped - before.stopped));
  observed.crashed = after.crashed;

  observed.instances.clear();
  for (const auto& task : live) {
    Instance& instance = health_[task.id];
    instance.task_id = task.id;
    instance.state = std::string(store::TaskStateName(task.state));
    instance.started_us = task.started_us;
    instance.port = PortOf(task);
    ports_in_use_.insert(instance.port);
    if (!service.health) {
      instance.health = "none";
    } else if (task.state == store::TaskState::kRunning && task.started_us != 0 && !instance.restarting &&
               now_us - instance.last_probe_us >= Micros(service.health->interval)) {
      // Probed once its command runs: not while it waits in a Slurm queue.
      Probe(service, task, now_us, instance);  // failures in the start period are not counted
      if (instance.failures >= service.health->retries) {
        instance.restarting = true;
        instance.health = "unhealthy";
        ++observed.unhealthy_restarts;
        scheduler_.RequestStop(task.id, kRestartGrace);
        Event(observed, now_us,
              fmt::format("instance {} failed {} health checks in a row (last: {}); restarting", task.id,
                          instance.failures, instance.last_error));
      }
    }
    observed.instances.push_back(instance);
  }
  return Status::Ok();
}

void ServiceController::Probe(const ServiceSpec& service, const store::TaskRecord& task, std::int64_t now_us,
                              Instance& instance) {
  const ServiceSpec::Health& health = *service.health;
  instance.last_probe_us = now_us;
  Status probed;
  if (!health.http_path.empty()) {
    probed = ProbeHttp(options_.probe_host, static_cast<std::uint16_t>(instance.port), health.http_path, health.timeout);
  } else {
    std::map<std::string, std::string> env = {{"PATH", "/usr/local/bin:/usr/bin:/bin"},
                                              {"WHARF_TASK_ID", task.id}};
    if (instance.port != 0) env["WHARF_PORT"] = std::to_string(instance.port);
    std::vector<std::string> argv;
    for (const auto& arg : health.command) argv.push_back(ExpandEnvReferences(arg, env));
    probed = ProbeCommand(argv, env, health.timeout);
  }
  if (probed.ok()) {
    instance.failures = 0;
    instance.health = "healthy";
    instance.answered = true;
    instance.last_error.clear();
    return;
  }
  instance.last_error = probed.message();
  // Still starting: failures count once it has answered, or once the start period is over.
  if (!instance.answered && now_us - task.started_us < Micros(health.start_period)) return;
  ++instance.failures;
  if (instance.failures >= health.retries) instance.health = "unhealthy";
}

Result<int> ServiceController::AllocatePort() {
  for (int attempt = 0; attempt < 100; ++attempt) {
    WHARF_ASSIGN_OR_RETURN(const int port, FreePort());
    if (ports_in_use_.insert(port).second) return port;  // not an instance's that has yet to bind it
  }
  return Unavailable("no free port that no instance holds");
}

void ServiceController::Event(Observed& observed, std::int64_t now_us, const std::string& message) {
  observed.events.push_back({{"time", FormatTimeUtc(now_us)}, {"message", message}});
  while (observed.events.size() > kMaxEvents) observed.events.pop_front();
}

Result<json> ServiceController::Create(const std::string& name, const std::string& definition,
                                       std::optional<int> desired) {
  MutexLock api(api_mu_);
  WHARF_RETURN_IF_ERROR(store::ValidateName("service", name));
  WHARF_ASSIGN_OR_RETURN(const store::TaskDefinition def, api_store_->GetDefinition(definition, std::nullopt));
  if (!def.active) return FailedPrecondition(fmt::format("task definition '{}' is deregistered", definition));
  WHARF_ASSIGN_OR_RETURN(const DefinitionSpec spec, ParseDefinition(json::parse(def.spec_json, nullptr, false), jobs_));
  if (!spec.service) {
    return InvalidArgument(fmt::format(
        "task definition '{}' has no service block; add \"service\": {{\"desired\": 1, \"port\": \"auto\", "
        "\"health\": {{\"http_path\": \"/\"}}}}",
        definition));
  }
  const int count = desired.value_or(spec.service->desired);
  WHARF_RETURN_IF_ERROR(CheckDesired(*spec.service, count));
  if (Result<store::ServiceRecord> existing = api_store_->GetService(name); existing.ok() && existing->active) {
    return AlreadyExists(fmt::format("service '{}' is running; scale it, or stop it first", name));
  }
  WHARF_RETURN_IF_ERROR(
      api_store_->PutService({.name = name, .definition = definition, .desired = count, .active = true}).status());
  wake_.notify_all();
  return Describe(name);
}

Result<json> ServiceController::Scale(const std::string& name, int desired) {
  MutexLock api(api_mu_);
  WHARF_ASSIGN_OR_RETURN(store::ServiceRecord record, api_store_->GetService(name));
  if (!record.active) return FailedPrecondition(fmt::format("service '{}' is stopped; create it again", name));
  WHARF_ASSIGN_OR_RETURN(const store::TaskDefinition def, api_store_->GetDefinition(record.definition, std::nullopt));
  Result<DefinitionSpec> spec = ParseDefinition(json::parse(def.spec_json, nullptr, false), jobs_);
  WHARF_RETURN_IF_ERROR(CheckDesired(spec.ok() && spec->service ? *spec->service : ServiceSpec{}, desired));
  record.desired = desired;
  WHARF_RETURN_IF_ERROR(api_store_->PutService(record).status());
  wake_.notify_all();
  return Describe(name);
}

Result<json> ServiceController::StopService(const std::string& name) {
  MutexLock api(api_mu_);
  WHARF_ASSIGN_OR_RETURN(store::ServiceRecord record, api_store_->GetService(name));
  record.active = false;
  record.desired = 0;
  WHARF_RETURN_IF_ERROR(api_store_->PutService(record).status());
  wake_.notify_all();
  return Describe(name);
}

Result<json> ServiceController::Describe(const std::string& name) {
  WHARF_ASSIGN_OR_RETURN(const store::ServiceRecord record, api_store_->GetService(name));
  Observed observed;
  {
    MutexLock lock(mu_);
    if (auto it = observed_.find(name); it != observed_.end()) observed = it->second;
  }
  json instances = json::array();
  int running = 0, healthy = 0;
  for (const auto& i : observed.instances) {
    running += i.state == "RUNNING";
    healthy += i.state == "RUNNING" && (i.health == "healthy" || i.health == "none");
    json instance = {{"task_id", i.task_id},         {"state", i.state},
                     {"port", i.port},               {"health", i.health},
                     {"failures", i.failures},       {"last_error", i.last_error},
                     {"started_at", TimeOrNull(i.started_us)}, {"last_probe_at", TimeOrNull(i.last_probe_us)}};
    if (i.port != 0) instance["url"] = fmt::format("http://{}:{}", options_.probe_host, i.port);
    instances.push_back(std::move(instance));
  }
  return json{{"name", record.name},
              {"definition", record.definition},
              {"active", record.active},
              {"desired", record.desired},
              {"running", running},
              {"healthy", healthy},
              {"restarts", {{"crashed", observed.crashed}, {"unhealthy", observed.unhealthy_restarts}}},
              {"created_at", FormatTimeUtc(record.created_us)},
              {"updated_at", FormatTimeUtc(record.updated_us)},
              {"instances", std::move(instances)},
              {"events", json(std::vector<json>(observed.events.rbegin(), observed.events.rend()))}};
}

Result<json> ServiceController::List() {
  WHARF_ASSIGN_OR_RETURN(const auto records, api_store_->ListServices(/*include_inactive=*/false));
  json out = json::array();
  for (const auto& record : records) {
    WHARF_ASSIGN_OR_RETURN(json service, Describe(record.name));
    service.erase("events");
    out.push_back(std::move(service));
  }
  return json{{"services", std::move(out)}};
}

}  // namespace wharf::control
