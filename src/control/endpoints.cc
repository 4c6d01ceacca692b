#include "control/endpoints.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "control/model_registry.h"
#include "control/task_definition.h"
#include "core/clock.h"
#include "core/file.h"
#include "core/json_depth.h"
#include "core/sha256.h"
#include "net/http_client.h"

namespace wharf::control {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// The task definition whose tasks are `endpoint`'s replicas.
std::string DefinitionName(const std::string& endpoint) { return "endpoint." + endpoint; }

json RevisionSummary(const store::EndpointRevision& r) {
  return {{"revision", r.revision}, {"reason", r.reason}, {"created", TimeToJson(r.created_us)}, {"active", r.active}};
}

}  // namespace

json EndpointRevisionToJson(const store::EndpointRevision& r) {
  json out = RevisionSummary(r);
  out["endpoint"] = r.endpoint;
  out["spec"] = json::parse(r.spec_json, nullptr, false);
  out["resolved"] = json::parse(r.resolved_json, nullptr, false);
  return out;
}

EndpointController::EndpointController(std::unique_ptr<store::MetadataStore> api_store,
                                       std::unique_ptr<store::MetadataStore> loop_store, Scheduler& scheduler,
                                       const JobRegistry& jobs, const ArtifactStore& artifacts,
                                       EndpointOptions options)
    : api_store_(std::move(api_store)),
      loop_store_(std::move(loop_store)),
      artifacts_(artifacts),
      options_(std::move(options)),
      reconciler_(*loop_store_, scheduler, jobs, artifacts) {}

EndpointController::~EndpointController() { Stop(); }

void EndpointController::Start() { thread_ = std::thread([this] { Loop(); }); }

void EndpointController::Stop() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Result<EndpointController::Applied> EndpointController::Apply(const json& spec_json) {
  WHARF_ASSIGN_OR_RETURN(EndpointSpec spec, ParseEndpointSpec(spec_json));
  const std::string canonical = EndpointSpecToJson(spec).dump();
  MutexLock lock(api_mu_);
  Result<store::EndpointRevision> latest = api_store_->GetEndpointRevision(spec.name, std::nullopt);
  if (latest.ok() && latest->active) {
    // The same spec, or the canary rollout it started has been promoted: nothing to do.
    const json resolved = json::parse(latest->resolved_json, nullptr, false);
    if (latest->spec_json == canonical ||
        (resolved.is_object() && resolved.contains("promoted_from") && resolved["promoted_from"].dump() == canonical)) {
      return Applied{std::move(*latest), false};
    }
  }
  // Replicas of two endpoints on one port would share its traffic.
  WHARF_ASSIGN_OR_RETURN(auto all, api_store_->ListEndpoints(false));
  for (const auto& other : all) {
    if (other.endpoint == spec.name) continue;
    const json o = json::parse(other.spec_json, nullptr, false);
    if (o.value("port", 0) == spec.port && o.value("host", "") == spec.host) {
      return FailedPrecondition(fmt::format("port: {}:{} is already endpoint '{}''s", spec.host, spec.port, other.endpoint));
    }
  }
  WHARF_ASSIGN_OR_RETURN(json resolved, ResolveEndpoint(spec, 0, *api_store_));
  std::string reason = "apply";
  if (const EndpointVariantSpec* canary = spec.Canary()) {
    // A rollout that fails goes back to what served before it: before the
    // latest revision, or before the rollout the latest is part of.
    CanaryState state{canary->name, canary->canary->steps, 1, 0};
    if (latest.ok() && latest->active) {
      const auto running = CanaryOf(json::parse(latest->resolved_json, nullptr, false));
      state.from_revision = running ? running->from_revision : latest->revision;
    }
    resolved = AtCanaryStep(std::move(resolved), spec, state);
    reason = fmt::format("apply: canary {} at {}% (step 1/{})", canary->name, state.percent(), state.steps.size() - 1);
  }
  WHARF_ASSIGN_OR_RETURN(store::EndpointRevision revision,
                         api_store_->AppendEndpointRevision(spec.name, canonical, resolved.dump(), reason));
  std::vector<std::string> models;
  for (const auto& [variant, model] : resolved["models"].items()) models.push_back(variant + " " + model.get<std::string>());
  Event(spec.name, "revision", fmt::format("revision {}: {} ({})", revision.revision, reason, fmt::join(models, ", ")),
        resolved["models"]);
  wake_.notify_all();
  return Applied{std::move(revision), true};
}

Result<store::EndpointRevision> EndpointController::Rollback(const std::string& endpoint, std::optional<int> to) {
  MutexLock lock(api_mu_);
  WHARF_ASSIGN_OR_RETURN(store::EndpointRevision latest, api_store_->GetEndpointRevision(endpoint, std::nullopt));
  const auto canary = CanaryOf(json::parse(latest.resolved_json, nullptr, false));
  const int target = to.value_or(canary && canary->from_revision > 0 ? canary->from_revision : latest.revision - 1);
  if (target < 1) {
    return FailedPrecondition(fmt::format("endpoint '{}' has only revision {}: nothing to roll back to", endpoint,
                                          latest.revision));
  }
  if (target >= latest.revision) {
    return InvalidArgument(fmt::format("to: {} is not an earlier revision of '{}' (latest is {})", target, endpoint,
                                       latest.revision));
  }
  WHARF_ASSIGN_OR_RETURN(store::EndpointRevision old, api_store_->GetEndpointRevision(endpoint, target));
  // The old models at the old weights, with no rollout to resume; an alias
  // that moved since does not undo the rollback, only its next move.
  json resolved = json::parse(old.resolved_json);
  resolved.erase("canary");
  WHARF_ASSIGN_OR_RETURN(resolved, WithAliasesSeenNow(std::move(resolved), *api_store_));
  WHARF_ASSIGN_OR_RETURN(store::EndpointRevision revision,
                         api_store_->AppendEndpointRevision(endpoint, old.spec_json, resolved.dump(),
                                                            fmt::format("rollback to {}", target)));
  Event(endpoint, "revision", fmt::format("revision {}: rollback to {}", revision.revision, target),
        {{"from", latest.revision}, {"to", target}});
  wake_.notify_all();
  return revision;
}

Status EndpointController::Delete(const std::string& endpoint) {
  MutexLock lock(api_mu_);
  WHARF_RETURN_IF_ERROR(api_store_->DeleteEndpoint(endpoint));
  Event(endpoint, "revision", "deleted: replicas are stopped", json::object());
  wake_.notify_all();
  return Status::Ok();
}

void EndpointController::Event(const std::string& endpoint, const std::string& kind, const std::string& message,
                               const json& details) {
  store::EndpointEvent event{.endpoint = endpoint, .kind = kind, .message = message, .details_json = details.dump()};
  // Events are a record, not a precondition: a failure to store one is logged, never fatal.
  if (auto stored = api_store_->AppendEndpointEvent(event); !stored.ok()) {
    fmt::print(stderr, "wharf server: endpoint {}: cannot record event '{}': {}\n", endpoint, message,
               stored.status().message());
  }
}

void EndpointController::Loop() {
  for (;;) {
    {
      MutexLock lock(mu_);
      if (stopping_) return;
    }
    Tick();
    // An Apply or Rollback wakes the loop early; so may a spurious wake-up, harmlessly.
    MutexLock lock(mu_);
    if (!stopping_) lock.WaitUntil(wake_, std::chrono::steady_clock::now() + options_.interval);
  }
}

void EndpointController::Tick() {
  Result<std::vector<store::EndpointRevision>> endpoints = loop_store_->ListEndpoints(true);
  if (!endpoints.ok()) {
    fmt::print(stderr, "wharf server: endpoints: {}\n", endpoints.status().message());
    return;
  }
  const std::int64_t now = NowMicros();
  std::set<std::string> live;
  for (const auto& latest : *endpoints) {
    Observed next;
    {
      MutexLock lock(mu_);
      next = observed_[latest.endpoint];
    }
    const Status ticked = TickEndpoint(latest, now, next);
    if (!ticked.ok()) {
      fmt::print(stderr, "wharf server: endpoint {}: {}\n", latest.endpoint, ticked.message());
      std::fflush(stderr);
    }
    for (const auto& r : next.replicas) live.insert(r.task_id);
    MutexLock lock(mu_);
    observed_[latest.endpoint] = std::move(next);
  }
  std::erase_if(links_, [&](const auto& link) { return !live.count(link.first); });
}

Status EndpointController::TickEndpoint(const store::EndpointRevision& latest, std::int64_t now_us, Observed& next) {
  next.revision = latest.revision;
  if (!latest.active) {  // deleted: stop its replicas, then leave it alone
    next.desired = 0;
    next.replicas.clear();
    if (stopped_.count(latest.endpoint)) return Status::Ok();
    WHARF_ASSIGN_OR_RETURN(auto live, reconciler_.Reconcile({latest.endpoint, DefinitionName(latest.endpoint), 0}, now_us));
    if (live.empty()) {
      stopped_.insert(latest.endpoint);
      written_.erase(latest.endpoint);  // applied again, it starts afresh
    }
    return Status::Ok();
  }
  stopped_.erase(latest.endpoint);
  WHARF_ASSIGN_OR_RETURN(EndpointSpec spec, ParseEndpointSpec(json::parse(latest.spec_json)));
  if (written_[latest.endpoint] != latest.revision) {
    WHARF_RETURN_IF_ERROR(WriteCurrentConfig(latest));
    WHARF_RETURN_IF_ERROR(EnsureDefinition(spec));
    written_[latest.endpoint] = latest.revision;
  }
  next.desired = DesiredReplicas(spec, next, now_us, next);
  WHARF_ASSIGN_OR_RETURN(auto live,
                         reconciler_.Reconcile({spec.name, DefinitionName(spec.name), next.desired}, now_us));
  const std::uint64_t crashed = reconciler_.counts().count(spec.name) ? reconciler_.counts().at(spec.name).crashed : 0;
  if (crashed > next.restarts) {
    Event(spec.name, "replica", fmt::format("{} replica(s) died; started replacements", crashed - next.restarts),
          {{"restarts", crashed}});
  }
  next.restarts = crashed;
  std::vector<Replica> replicas;
  for (const auto& task : live) replicas.push_back(Observe(task, latest));
  next.replicas = std::move(replicas);
  const json resolved = json::parse(latest.resolved_json);
  next.rollout = CanaryOf(resolved);
  if (next.rollout) return GuardCanary(latest, spec, resolved, *next.rollout, now_us, next);
  return FollowAliases(latest, spec, resolved);
}

Status EndpointController::GuardCanary(const store::EndpointRevision& latest, const EndpointSpec& spec,
                                       const json& resolved, const CanaryState& state, std::int64_t now_us,
                                       Observed& next) {
  const EndpointVariantSpec* canary = spec.Canary();
  if (canary == nullptr || canary->name != state.variant) return Status::Ok();  // not this spec's rollout
  if (next.canary_window.revision() != latest.revision) {
    next.canary_window = StepWindow(latest.revision, now_us);
    next.canary = {};
  }
  // A step some replica cannot even load has failed.
  for (const auto& r : next.replicas) {
    if (r.revision != latest.revision && !r.error.empty()) {
      return RollBackCanary(latest, spec, state,
                            fmt::format("replica {} cannot load revision {}: {}", r.task_id, latest.revision, r.error),
                            json::object());
    }
  }
  std::vector<std::pair<std::string, json>> serving;
  std::vector<double> bounds;
  for (const auto& r : next.replicas) {
    if (r.revision != latest.revision || !r.ready) continue;
    serving.emplace_back(r.task_id, r.metrics);
    bounds = r.latency_bounds;
  }
  next.canary_window.Observe(serving, ServedVersions(resolved), state.variant);
  const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::microseconds(now_us - next.canary_window.started_us()));
  next.canary = JudgeCanaryStep(*canary->canary, next.canary_window.canary(), next.canary_window.baseline(), bounds,
                                elapsed);
  const int steps = static_cast<int>(state.steps.size()) - 1;  // judged steps; the last is the promotion
  switch (next.canary.kind) {
    case CanaryVerdict::Kind::kWait:
      return Status::Ok();
    case CanaryVerdict::Kind::kFail:
      return RollBackCanary(latest, spec, state, next.canary.reason, next.canary.numbers);
    case CanaryVerdict::Kind::kPass:
      break;
  }
  const std::string passed = fmt::format("step {}/{} at {}% passed: {}", state.step, steps, state.percent(),
                                         next.canary.reason);
  if (state.step == steps) {
    const EndpointSpec promoted = PromotedSpec(spec);
    json done = NarrowedTo(resolved, promoted);
    done["promoted_from"] = json::parse(latest.spec_json);
    return AppendFromLoop(latest, EndpointSpecToJson(promoted).dump(), done,
                          fmt::format("canary {} promoted to 100%", state.variant), "canary",
                          {{"decision", "promote"}, {"step", state.step}, {"message", passed}, {"numbers", next.canary.numbers}});
  }
  CanaryState after = state;
  after.step += 1;
  return AppendFromLoop(latest, latest.spec_json, AtCanaryStep(resolved, spec, after),
                        fmt::format("canary step {}/{}: {} at {}%", after.step, steps, state.variant, after.percent()),
                        "canary",
                        {{"decision", "advance"}, {"step", state.step}, {"message", passed}, {"numbers", next.canary.numbers}});
}

Status EndpointController::RollBackCanary(const store::EndpointRevision& latest, const EndpointSpec& spec,
                                          const CanaryState& state, const std::string& why, const json& numbers) {
  const json details = {{"decision", "rollback"}, {"step", state.step}, {"message", why}, {"numbers", numbers}};
  const std::string headline = why.substr(0, why.find(": "));  // the revision's reason; the event has the numbers
  if (state.from_revision > 0) {
    WHARF_ASSIGN_OR_RETURN(store::EndpointRevision before,
                           loop_store_->GetEndpointRevision(latest.endpoint, state.from_revision));
    json resolved = json::parse(before.resolved_json);
    resolved.erase("canary");
    WHARF_ASSIGN_OR_RETURN(resolved, WithAliasesSeenNow(std::move(resolved), *loop_store_));
    return AppendFromLoop(latest, before.spec_json, resolved,
                          fmt::format("canary {} rolled back to {}: {}", state.variant, state.from_revision, headline),
                          "canary", details);
  }
  // Nothing served before the rollout: the baseline variants go on alone.
  const EndpointSpec baseline = BaselineSpec(spec);
  return AppendFromLoop(latest, EndpointSpecToJson(baseline).dump(),
                        NarrowedTo(json::parse(latest.resolved_json), baseline),
                        fmt::format("canary {} rolled back to the baseline: {}", state.variant, headline), "canary",
                        details);
}

Status EndpointController::FollowAliases(const store::EndpointRevision& latest, const EndpointSpec& spec,
                                         const json& resolved) {
  if (!spec.follow_aliases || spec.Canary() != nullptr) return Status::Ok();
  WHARF_ASSIGN_OR_RETURN(std::vector<MovedAlias> moved, MovedAliases(resolved, *loop_store_));
  if (moved.empty()) return Status::Ok();
  std::vector<std::string> moves;
  for (const auto& m : moved) moves.push_back(fmt::format("{} {} → {}", m.reference, m.from, m.to));
  WHARF_ASSIGN_OR_RETURN(json now, ResolveEndpoint(spec, 0, *loop_store_));
  return AppendFromLoop(latest, latest.spec_json, now, fmt::format("alias moved: {}", fmt::join(moves, ", ")),
                        "revision", now["models"]);
}

Status EndpointController::AppendFromLoop(const store::EndpointRevision& latest, const std::string& spec_json,
                                          const json& resolved, const std::string& reason,
                                          const std::string& event_kind, const json& details) {
  MutexLock lock(api_mu_);
  WHARF_ASSIGN_OR_RETURN(store::EndpointRevision now, api_store_->GetEndpointRevision(latest.endpoint, std::nullopt));
  if (now.revision != latest.revision || !now.active) return Status::Ok();  // an API call decided first
  WHARF_ASSIGN_OR_RETURN(store::EndpointRevision revision,
                         api_store_->AppendEndpointRevision(latest.endpoint, spec_json, resolved.dump(), reason));
  // The event says why in words, with the numbers the decision was made on.
  std::string why = details.is_object() ? details.value("message", "") : "";
  if (const auto colon = why.find(": "); colon != std::string::npos && reason.ends_with(why.substr(0, colon))) {
    why.erase(0, colon + 2);  // the reason already has its headline
  }
  Event(latest.endpoint, event_kind,
        fmt::format("revision {}: {}{}", revision.revision, reason,
                    why.empty() || reason.find(why) != std::string::npos ? "" : " (" + why + ")"),
        details);
  wake_.notify_all();
  return Status::Ok();
}

Status EndpointController::WriteCurrentConfig(const store::EndpointRevision& latest) {
  const fs::path dir = options_.home / "endpoints" / latest.endpoint;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return IoError(fmt::format("cannot create {}: {}", dir.string(), ec.message()));
  // A replica starting now reads the old revision or the new one, never half.
  return WriteFileAtomically(dir / "current.json",
                             ServeConfigOf(json::parse(latest.resolved_json), latest.revision).dump(2) + "\n");
}

Status EndpointController::EnsureDefinition(const EndpointSpec& spec) {
  // The endpoint's replicas share its port, and only they: the group names
  // this control plane's home and the endpoint, so it stays the same across
  // revisions and differs from any other endpoint's anywhere.
  Sha256 group;
  group.Update(options_.home.string());
  group.Update(std::string_view("\0", 1));
  group.Update(spec.name);
  const json params = {{"config", (options_.home / "endpoints" / spec.name / "current.json").string()},
                       {"name", spec.name},
                       {"host", spec.host},
                       {"port", spec.port},
                       {"announce", true},
                       {"replica_group", group.HexDigest().substr(0, 32)}};
  const json definition = {{"job", "serve"}, {"params", params}, {"resources", {{"cpus", spec.replicas.cpus}}}};
  // Stored canonically: the same spec is the same revision, not a new one.
  return loop_store_->RegisterDefinition(DefinitionName(spec.name), definition.dump()).status();
}

int EndpointController::DesiredReplicas(const EndpointSpec& spec, const Observed& observed, std::int64_t now_us,
                                        Observed& next) {
  const ReplicaSpec& r = spec.replicas;
  const int current = std::clamp(observed.desired == 0 ? r.min : observed.desired, r.min, r.max);
  if (r.target_in_flight <= 0 || r.min == r.max) return current;
  double in_flight = 0;
  for (const auto& replica : observed.replicas) in_flight += replica.in_flight;
  next.load = 0.7 * observed.load + 0.3 * in_flight;  // smoothed: one busy sample is not a trend
  const int want = std::clamp(static_cast<int>(std::ceil(next.load / r.target_in_flight)), r.min, r.max);
  const auto cooldown_us = std::chrono::duration_cast<std::chrono::microseconds>(r.cooldown).count();
  if (want == current || now_us - observed.last_scale_us < cooldown_us) return current;
  next.last_scale_us = now_us;
  (want > current ? next.scale_ups : next.scale_downs) += 1;
  Event(spec.name, "scale",
        fmt::format("{} {} → {} replicas: {:.1f} requests in flight, target {:.1f} per replica",
                    want > current ? "scale up" : "scale down", current, want, next.load, r.target_in_flight),
        {{"from", current}, {"to", want}, {"in_flight", next.load}, {"target_in_flight", r.target_in_flight}});
  return want;
}

EndpointController::Replica EndpointController::Observe(const store::TaskRecord& task,
                                                        const store::EndpointRevision& latest) {
  Replica replica;
  replica.task_id = task.id;
  replica.state = std::string(store::TaskStateName(task.state));
  if (task.state != store::TaskState::kRunning) return replica;
  Link* link = LinkTo(task.id);
  if (link == nullptr) return replica;  // still loading its models
  replica.url = link->url;
  replica.admin_url = link->admin_url;
  net::HttpClient& client = *link->client;
  Result<net::HttpReply> reply = client.Request("GET", "/admin/status");
  if (!reply.ok() || reply->status != 200) return replica;
  json status = json::parse(reply->body, nullptr, false);
  if (!status.is_object() || status["endpoints"].empty()) return replica;
  replica.revision = status["endpoints"][0].value("revision", 0);
  replica.ready = status.value("ready", false);
  replica.in_flight = status.value("in_flight", 0.0);
  replica.metrics = status.value("metrics", json::array());
  replica.latency_bounds = status.value("latency_bounds", std::vector<double>{});
  replica.error = status.value("last_error", "");
  if (replica.revision == latest.revision) return replica;

  // Hand it the latest revision: it loads it next to the old one and switches.
  const std::string body = ServeConfigOf(json::parse(latest.resolved_json), latest.revision).dump();
  Result<net::HttpReply> pushed =
      client.Request("POST", "/admin/config", body, {{"Authorization", "Bearer " + link->admin_token}});
  if (pushed.ok() && pushed->status == 200) {
    replica.revision = latest.revision;
    replica.error.clear();
    return replica;
  }
  const std::string why = pushed.ok() ? json::parse(pushed->body, nullptr, false).value("error", pushed->body)
                                      : pushed.status().message();
  if (replica.error != why) {  // once per new error, not every pass
    Event(latest.endpoint, "replica",
          fmt::format("replica {} refused revision {}: {}", task.id, latest.revision, why),
          {{"task_id", task.id}, {"revision", latest.revision}});
  }
  replica.error = why;
  return replica;
}

EndpointController::Link* EndpointController::LinkTo(const std::string& task_id) {
  if (auto it = links_.find(task_id); it != links_.end()) return &it->second;
  const fs::path announce = artifacts_.root() / ArtifactStore::TaskOutputPrefix(task_id) / "replica.json";
  Result<std::string> text = ReadFile(announce);
  if (!text.ok() || !CheckJsonDepth(*text, announce.string()).ok()) return nullptr;  // a task wrote it
  const json a = json::parse(*text, nullptr, false);
  if (!a.is_object() || !a.contains("admin_url") || a.value("admin_token", "").empty()) return nullptr;
  Result<net::HttpEndpoint> admin = net::ParseHttpUrl(a.value("admin_url", ""));
  if (!admin.ok()) return nullptr;
  Link link{a.value("url", ""), a.value("admin_url", ""), a.value("admin_token", ""),
            std::make_unique<net::HttpClient>(*admin, std::chrono::seconds(60))};  // a reload loads models
  return &links_.emplace(task_id, std::move(link)).first->second;
}

int EndpointController::Observed::Ready() const {
  int ready = 0;
  for (const auto& r : replicas) ready += r.ready && r.revision == revision ? 1 : 0;
  return ready;
}

Result<json> EndpointController::Describe(const std::string& endpoint) {
  WHARF_ASSIGN_OR_RETURN(store::EndpointRevision latest, api_store_->GetEndpointRevision(endpoint, std::nullopt));
  const json spec = json::parse(latest.spec_json, nullptr, false);
  json out = {{"name", endpoint},
              {"active", latest.active},
              {"url", fmt::format("http://{}:{}", spec.value("host", "127.0.0.1"), spec.value("port", 0))},
              {"revision", RevisionSummary(latest)},
              {"replicas", json::array()}};
  MutexLock lock(mu_);
  const Observed& o = observed_[endpoint];
  for (const auto& r : o.replicas) {
    out["replicas"].push_back({{"task_id", r.task_id},
                               {"state", r.state},
                               {"url", r.url},
                               {"admin_url", r.admin_url},
                               {"revision", r.revision ? json(*r.revision) : json(nullptr)},
                               {"ready", r.ready},
                               {"in_flight", r.in_flight},
                               {"error", r.error}});
  }
  out["desired_replicas"] = latest.active ? o.desired : 0;
  out["ready_replicas"] = o.revision == latest.revision ? o.Ready() : 0;
  out["restarts"] = o.restarts;
  if (const auto canary = CanaryOf(json::parse(latest.resolved_json, nullptr, false))) {
    out["canary"] = canary->ToJson();
    out["canary"]["percent"] = canary->percent();
    if (o.canary_window.revision() == latest.revision) {
      out["canary"]["status"] = o.canary.reason;
      out["canary"]["numbers"] = o.canary.numbers;
    }
  }
  return out;
}

Result<json> EndpointController::List() {
  WHARF_ASSIGN_OR_RETURN(auto all, api_store_->ListEndpoints(false));
  json out = json::array();
  for (const auto& e : all) {
    WHARF_ASSIGN_OR_RETURN(json status, Describe(e.endpoint));
    out.push_back(std::move(status));
  }
  return json{{"endpoints", out}};
}

Result<json> EndpointController::Metrics(const std::string& endpoint) {
  WHARF_ASSIGN_OR_RETURN(store::EndpointRevision latest, api_store_->GetEndpointRevision(endpoint, std::nullopt));
  MutexLock lock(mu_);
  const Observed& o = observed_[endpoint];
  std::vector<double> bounds;  // every replica is the same build: the first one's bounds hold for all
  for (const auto& r : o.replicas) {
    if (!r.latency_bounds.empty()) bounds = r.latency_bounds;
  }
  if (bounds.empty()) bounds = {1.0};
  Tally total;
  std::map<std::pair<std::string, std::string>, Tally> variants;  // (name, version), primary role only
  json per_replica = json::array();
  double in_flight = 0;
  for (const auto& r : o.replicas) {
    Tally mine;
    for (const auto& m : r.metrics) {
      if (m.value("role", "") != "primary") continue;
      mine.Add(m);
      total.Add(m);
      variants[{m.value("variant", ""), m.value("version", "")}].Add(m);
    }
    in_flight += r.in_flight;
    per_replica.push_back({{"task_id", r.task_id},
                           {"admin_url", r.admin_url},
                           {"requests", mine.requests},
                           {"errors", mine.errors},
                           {"in_flight", r.in_flight},
                           {"revision", r.revision ? json(*r.revision) : json(nullptr)}});
  }
  // The counters and their histograms are cumulative (per replica since it
  // started): a reader that polls takes differences for rates and windowed
  // quantiles, as the console's charts do.
  json out = total.ToJson(bounds);
  out["latency_bounds_s"] = bounds;
  out["buckets"] = total.buckets;
  out["endpoint"] = endpoint;
  out["revision"] = latest.revision;
  out["replicas"] = o.replicas.size();
  out["in_flight"] = in_flight;
  out["variants"] = json::array();
  for (const auto& [key, tally] : variants) {
    json v = tally.ToJson(bounds);
    v["buckets"] = tally.buckets;
    v["name"] = key.first;
    v["version"] = key.second;
    out["variants"].push_back(std::move(v));
  }
  out["per_replica"] = std::move(per_replica);
  return out;
}

std::string EndpointController::RenderMetrics() const {
  std::string out =
      "# HELP wharf_endpoint_replicas Replicas of an endpoint that are ready on its latest revision.\n"
      "# TYPE wharf_endpoint_replicas gauge\n";
  MutexLock lock(mu_);
  std::string desired = "# HELP wharf_endpoint_desired_replicas Replicas the autoscaler wants.\n"
                        "# TYPE wharf_endpoint_desired_replicas gauge\n";
  std::string scaling = "# HELP wharf_endpoint_scaling_events_total Autoscaling decisions, by direction.\n"
                        "# TYPE wharf_endpoint_scaling_events_total counter\n";
  std::string restarts = "# HELP wharf_endpoint_replica_restarts_total Replicas that died and were replaced.\n"
                         "# TYPE wharf_endpoint_replica_restarts_total counter\n";
  std::string canary = "# HELP wharf_endpoint_canary_percent The share of traffic a canary rollout's step gives the canary.\n"
                       "# TYPE wharf_endpoint_canary_percent gauge\n";
  for (const auto& [name, o] : observed_) {
    out += fmt::format("wharf_endpoint_replicas{{endpoint=\"{}\"}} {}\n", name, o.Ready());
    desired += fmt::format("wharf_endpoint_desired_replicas{{endpoint=\"{}\"}} {}\n", name, o.desired);
    scaling += fmt::format("wharf_endpoint_scaling_events_total{{endpoint=\"{}\",direction=\"up\"}} {}\n", name, o.scale_ups);
    scaling += fmt::format("wharf_endpoint_scaling_events_total{{endpoint=\"{}\",direction=\"down\"}} {}\n", name, o.scale_downs);
    restarts += fmt::format("wharf_endpoint_replica_restarts_total{{endpoint=\"{}\"}} {}\n", name, o.restarts);
    if (o.rollout) {
      canary += fmt::format("wharf_endpoint_canary_percent{{endpoint=\"{}\",variant=\"{}\"}} {}\n", name,
                            o.rollout->variant, o.rollout->percent());
    }
  }
  return out + desired + scaling + restarts + canary;
}

}  // namespace wharf::control
