#include "control/api.h"

#include <charconv>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "control/api_call.h"
#include "control/model_registry.h"
#include "control/runs.h"
#include "control/task_definition.h"
#include "net/bearer_token.h"
#include "core/clock.h"
#include "core/sha256.h"
#include "core/version.h"

namespace wharf::control {

namespace {

using api::Error;
using api::Json;
using api::ParseInt;
using nlohmann::json;
using std::chrono::milliseconds;

constexpr std::size_t kDefaultLogBytes = 64 * 1024;
constexpr std::size_t kMaxLogBytes = 1 << 20;
constexpr milliseconds kDefaultStopGrace{10000};

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decoding; nullopt for a malformed escape or a decoded NUL.
std::optional<std::string> PercentDecode(std::string_view text, bool plus_is_space) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      const int hi = HexValue(text[i + 1]), lo = HexValue(text[i + 2]);
      if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += plus_is_space && text[i] == '+' ? ' ' : text[i];
    }
  }
  return out;
}

std::vector<std::string> Split(std::string_view text, char sep) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t at = text.find(sep, start);
    parts.emplace_back(text.substr(start, at - start));
    if (at == std::string_view::npos) return parts;
    start = at + 1;
  }
}

json ParseOrNull(const std::string& text) { return json::parse(text, nullptr, /*allow_exceptions=*/false); }

json TaskdefToJson(const store::TaskDefinition& d) {
  return {{"name", d.name},        {"revision", d.revision},   {"active", d.active},
          {"sha256", d.spec_sha256}, {"created_at", TimeToJson(d.created_us)}, {"spec", ParseOrNull(d.spec_json)}};
}

json TaskToJson(const store::TaskRecord& t) {
  json j = {{"id", t.id},
            {"taskdef", t.definition},
            {"revision", t.revision},
            {"group_id", t.group_id},
            {"index", t.index},
            {"count", t.count},
            {"state", store::TaskStateName(t.state)},
            {"attempt", t.attempt},
            {"max_attempts", t.max_attempts},
            {"exit_code", nullptr},
            {"reason", t.reason},
            {"created_at", TimeToJson(t.created_us)},
            {"started_at", TimeToJson(t.started_us)},
            {"finished_at", TimeToJson(t.finished_us)},
            {"next_attempt_at", TimeToJson(t.next_attempt_us.value_or(0))},
            {"output_prefix", ArtifactStore::TaskOutputPrefix(t.id) + "/"},
            {"handle", t.handle},
            {"spec", ParseOrNull(t.spec_json)}};
  if (t.exit_code) j["exit_code"] = *t.exit_code;
  return j;
}

}  // namespace

ControlApi::ControlApi(std::unique_ptr<store::MetadataStore> store, std::string store_location,
                       exec::Executor& executor, const ArtifactStore& artifacts, const JobRegistry& jobs,
                       Scheduler& scheduler, EndpointController& endpoints, ServiceController& services,
                       std::string token, json executor_info, secret::Vault vault, DriftReporter drift)
    : store_(std::move(store)),
      store_location_(std::move(store_location)),
      executor_(executor),
      artifacts_(artifacts),
      jobs_(jobs),
      scheduler_(scheduler),
      endpoints_(endpoints),
      services_(services),
      token_(std::move(token)),
      executor_info_(std::move(executor_info)),
      secrets_(*store_, std::move(vault)),
      drift_(std::move(drift)) {}

namespace {

constexpr std::string_view kNoToken = "missing or wrong bearer token (send Authorization: Bearer TOKEN)";

// Whether a request needs the token: the API and /metrics do, but for GET of
// health and the API's description; the console's files (and 404s) do not.
bool NeedsToken(std::string_view method, std::string_view path) {
  if (method == "GET" && (path == "/api/health" || path == "/api/openapi.json")) return false;
  return path.starts_with("/api/") || path == "/metrics";
}

std::string BodyTooLarge(std::uint64_t size) {
  return fmt::format("request body of {} bytes exceeds the limit of {} bytes", size, kMaxJsonBody);
}

}  // namespace

std::optional<net::HttpResponse> ControlApi::Screen(const net::HttpRequest& head) {
  const std::string_view path = head.target.substr(0, head.target.find('?'));
  const std::string_view length_header = head.header("Content-Length");
  std::uint64_t length = 0;
  std::from_chars(length_header.data(), length_header.data() + length_header.size(), length);
  const bool chunked = !head.header("Transfer-Encoding").empty();
  if (!net::BearerMatches(head.header("Authorization"), token_)) {
    if (NeedsToken(head.method, path)) return Error(401, kNoToken);
    // What needs no token needs no big body either.
    if (chunked || length > kMaxJsonBody) return Error(413, BodyTooLarge(length));
    return std::nullopt;
  }
  const bool upload = head.method == "PUT" && path.starts_with("/api/artifacts/");
  if (!upload && length > kMaxJsonBody) return Error(413, BodyTooLarge(length));
  return std::nullopt;
}

void ControlApi::Handle(net::HttpRequest& request, net::Respond respond) {
  const std::string_view target = request.target;
  const std::size_t q = target.find('?');
  const std::string_view path = target.substr(0, q);
  if (request.method == "GET" && path == "/api/health") {
    respond(Json(200, {{"status", "ok"}, {"version", kVersion}, {"executor", executor_info_}}));
    return;
  }
  if (request.method == "GET" && path == "/api/openapi.json") {
    respond({200, std::string(OpenApiDocument())});
    return;
  }
  if (!path.starts_with("/api/") && path != "/metrics") {
    respond(Error(404, fmt::format("no route {} {}", request.method, path)));
    return;
  }
  if (!net::BearerMatches(request.header("Authorization"), token_)) {
    respond(Error(401, kNoToken));
    return;
  }
  if (path == "/metrics") {
    if (request.method != "GET") return respond(Error(405, "GET /metrics only"));
    respond({200, endpoints_.RenderMetrics(), "text/plain; version=0.0.4"});
    return;
  }
  Call call;
  call.method = std::string(request.method);
  call.body = request.body;
  for (const auto& raw : Split(path.substr(5), '/')) {
    auto decoded = PercentDecode(raw, false);
    if (!decoded) {
      respond(Error(400, "malformed percent-encoding in the path"));
      return;
    }
    call.segments.push_back(std::move(*decoded));
  }
  if (q != std::string_view::npos) {
    for (const auto& pair : Split(target.substr(q + 1), '&')) {
      const std::size_t eq = pair.find('=');
      auto key = PercentDecode(std::string_view(pair).substr(0, eq), true);
      auto value = PercentDecode(eq == std::string::npos ? "" : std::string_view(pair).substr(eq + 1), true);
      if (!key || !value) {
        respond(Error(400, "malformed percent-encoding in the query"));
        return;
      }
      call.query[*key] = *value;
    }
  }
  // An artifact upload may take what the HTTP server accepts; every other
  // body is JSON (or a secret's value, smaller still) and stops far sooner.
  const bool upload = call.method == "PUT" && call.segments[0] == "artifacts";
  if (!upload && call.body->size() > kMaxJsonBody) {
    respond(Error(413, BodyTooLarge(call.body->size())));
    return;
  }
  try {
    respond(Route(call));
  } catch (const std::exception& e) {  // a JSON type error in a well-formed body, or a library failure
    respond(Error(400, fmt::format("bad request: {}", e.what())));
  }
}

net::HttpResponse ControlApi::Route(const Call& c) {
  const auto& s = c.segments;
  const std::string& m = c.method;
  const std::size_t n = s.size();
  if (s[0] == "taskdefs") {
    if (n == 1 && m == "POST") return RegisterTaskdef(c);
    if (n == 1 && m == "GET") return ListTaskdefs(c);
    if (n == 2 && m == "GET") return GetTaskdef(s[1], std::nullopt);
    if (n == 2 && m == "DELETE") return DeregisterTaskdef(s[1]);
    if (n == 4 && m == "GET" && s[2] == "revisions") {
      const auto revision = ParseInt(s[3]);
      if (!revision) return Error(400, fmt::format("revision '{}' is not a number", s[3]));
      return GetTaskdef(s[1], revision);
    }
  } else if (s[0] == "runs" && n == 1 && m == "POST") {
    return CreateRun(c);
  } else if (s[0] == "tasks") {
    if (n == 1 && m == "GET") return ListTasks(c);
    if (n == 2 && m == "GET") return GetTask(s[1]);
    if (n == 3 && m == "POST" && s[2] == "stop") return StopTask(s[1], c);
    if (n == 3 && m == "GET" && s[2] == "logs") return TaskLogs(s[1], c);
  } else if (s[0] == "artifacts") {
    if (n == 1 && m == "GET") return ListArtifacts(c);
    std::string name;
    for (std::size_t i = 1; i < n; ++i) name += (i > 1 ? "/" : "") + s[i];
    if (n >= 2 && m == "PUT") return PutArtifact(name, c);
    if (n >= 2 && m == "GET") return GetArtifact(name);
  } else if (s[0] == "models") {
    if (n == 1 && m == "GET") return ListModels();
    if (n == 2 && m == "GET") return GetModel(s[1]);
  } else if (s[0] == "jobs" && n == 1 && m == "GET") {
    return ListJobs();
  } else if (s[0] == "endpoints") {
    return Endpoints(c);
  } else if (s[0] == "services") {
    return Services(c);
  } else if (s[0] == "secrets" || s[0] == "secret-accesses") {
    return Secrets(c);
  }
  return Error(404, fmt::format("no route {} /api/{}", m, fmt::join(s, "/")));
}

net::HttpResponse ControlApi::RegisterTaskdef(const Call& c) {
  Result<json> parsed = c.Json();
  if (!parsed.ok()) return Error(parsed.status());
  json body = std::move(*parsed);
  if (!body.is_object()) return Error(400, "a task definition must be a JSON object");
  if (!body.contains("name") || !body["name"].is_string()) return Error(400, "name: required, a string");
  const std::string name = body["name"].get<std::string>();
  if (Status s = store::ValidateName("task definition", name); !s.ok()) return Error(s);
  body.erase("name");
  Result<DefinitionSpec> spec = ParseDefinition(body, jobs_);
  if (!spec.ok()) return Error(spec.status());
  Result<store::TaskDefinition> before = store_->GetDefinition(name, std::nullopt);
  Result<store::TaskDefinition> stored = store_->RegisterDefinition(name, DefinitionToJson(*spec).dump());
  if (!stored.ok()) return Error(stored.status());
  const bool created = !before.ok() || before->revision != stored->revision;
  return Json(created ? 201 : 200, TaskdefToJson(*stored));
}

net::HttpResponse ControlApi::GetTaskdef(const std::string& name, std::optional<int> revision) {
  Result<store::TaskDefinition> d = store_->GetDefinition(name, revision);
  if (!d.ok()) return Error(d.status());
  return Json(200, TaskdefToJson(*d));
}

net::HttpResponse ControlApi::ListTaskdefs(const Call& c) {
  Result<std::vector<store::TaskDefinition>> all = store_->ListDefinitions(c.Query("all") == "true");
  if (!all.ok()) return Error(all.status());
  json out = json::array();
  for (const auto& d : *all) out.push_back(TaskdefToJson(d));
  return Json(200, {{"taskdefs", out}});
}

net::HttpResponse ControlApi::DeregisterTaskdef(const std::string& name) {
  if (Status s = store_->DeregisterDefinition(name); !s.ok()) return Error(s);
  return GetTaskdef(name, std::nullopt);
}

net::HttpResponse ControlApi::CreateRun(const Call& c) {
  Result<json> parsed = c.Json();
  if (!parsed.ok()) return Error(parsed.status());
  json body = std::move(*parsed);
  if (!body.is_object() || !body.contains("taskdef") || !body["taskdef"].is_string()) {
    return Error(400, "taskdef: required, the name of a task definition");
  }
  for (const auto& [key, value] : body.items()) {
    if (key != "taskdef" && key != "revision" && key != "count" && key != "overrides") {
      return Error(400, fmt::format("{}: unknown field (known: taskdef, revision, count, overrides)", key));
    }
  }
  RunRequest run;
  run.definition = body["taskdef"].get<std::string>();
  if (body.contains("revision")) {
    if (!body["revision"].is_number_integer()) return Error(400, "revision: must be an integer");
    run.revision = body["revision"].get<int>();
  }
  if (body.contains("overrides")) run.overrides = body["overrides"];
  if (body.contains("count")) {
    if (!body["count"].is_number_integer() || body["count"].get<std::int64_t>() < 1 ||
        body["count"].get<std::int64_t>() > kMaxCount) {
      return Error(400, fmt::format("count: must be an integer between 1 and {}", kMaxCount));
    }
    run.count = body["count"].get<int>();
  }
  Result<std::vector<store::TaskRecord>> tasks = SubmitRun(*store_, jobs_, artifacts_, run);
  if (!tasks.ok()) return Error(tasks.status());
  scheduler_.Wake();
  json out = {{"group_id", tasks->front().group_id}, {"tasks", json::array()}};
  for (const auto& t : *tasks) out["tasks"].push_back(TaskToJson(t));
  return Json(201, out);
}

net::HttpResponse ControlApi::ListTasks(const Call& c) {
  store::TaskQuery query;
  if (const std::string states = c.Query("state"); !states.empty()) {
    for (const auto& name : Split(states, ',')) {
      Result<store::TaskState> state = store::ParseTaskState(name);
      if (!state.ok()) return Error(state.status());
      query.states.push_back(*state);
    }
  }
  if (const std::string d = c.Query("taskdef"); !d.empty()) query.definition = d;
  if (const std::string g = c.Query("group"); !g.empty()) query.group_id = g;
  if (const std::string l = c.Query("limit"); !l.empty()) {
    const auto limit = ParseInt(l);
    if (!limit || *limit < 0) return Error(400, "limit: must be a non-negative integer");
    query.limit = static_cast<std::size_t>(*limit);
  }
  Result<std::vector<store::TaskRecord>> tasks = store_->ListTasks(query);
  if (!tasks.ok()) return Error(tasks.status());
  json out = json::array();
  for (const auto& t : *tasks) out.push_back(TaskToJson(t));
  return Json(200, {{"tasks", out}});
}

net::HttpResponse ControlApi::GetTask(const std::string& id) {
  Result<store::TaskRecord> t = store_->GetTask(id);
  if (!t.ok()) return Error(t.status());
  return Json(200, TaskToJson(*t));
}

net::HttpResponse ControlApi::StopTask(const std::string& id, const Call& c) {
  Result<json> parsed = c.Json();
  if (!parsed.ok()) return Error(parsed.status());
  json body = std::move(*parsed);
  milliseconds grace = kDefaultStopGrace;
  if (body.is_object() && body.contains("grace_ms")) {
    if (!body["grace_ms"].is_number_integer() || body["grace_ms"].get<std::int64_t>() < 0) {
      return Error(400, "grace_ms: must be a non-negative integer");
    }
    grace = milliseconds(body["grace_ms"].get<std::int64_t>());
  }
  Result<store::TaskRecord> t = store_->GetTask(id);
  if (!t.ok()) return Error(t.status());
  if (t->state == store::TaskState::kPending) {
    store::TaskUpdate update{.state = store::TaskState::kCancelled, .reason = "stopped", .finished_us = NowMicros()};
    Result<bool> done = store_->TransitionTask(id, store::TaskState::kPending, update);
    if (!done.ok()) return Error(done.status());
    if (!*done) scheduler_.RequestStop(id, grace);  // it started meanwhile
  } else if (t->state == store::TaskState::kRunning) {
    scheduler_.RequestStop(id, grace);
  }
  Result<store::TaskRecord> now = store_->GetTask(id);
  if (!now.ok()) return Error(now.status());
  return Json(202, TaskToJson(*now));
}

net::HttpResponse ControlApi::TaskLogs(const std::string& id, const Call& c) {
  Result<store::TaskRecord> t = store_->GetTask(id);
  if (!t.ok()) return Error(t.status());
  const std::string stream_name = c.Query("stream").empty() ? "stdout" : c.Query("stream");
  if (stream_name != "stdout" && stream_name != "stderr") return Error(400, "stream: must be stdout or stderr");
  std::uint64_t offset = 0;
  std::size_t max_bytes = kDefaultLogBytes;
  if (const std::string o = c.Query("offset"); !o.empty()) {
    const auto [end, ec] = std::from_chars(o.data(), o.data() + o.size(), offset);
    if (ec != std::errc() || end != o.data() + o.size()) return Error(400, "offset: must be a non-negative integer");
  }
  if (const std::string m = c.Query("max_bytes"); !m.empty()) {
    const auto parsed = ParseInt(m);
    if (!parsed || *parsed < 1) return Error(400, "max_bytes: must be a positive integer");
    max_bytes = std::min<std::size_t>(static_cast<std::size_t>(*parsed), kMaxLogBytes);
  }
  std::string data;
  if (!t->handle.empty()) {
    const auto stream = stream_name == "stdout" ? exec::LogStream::kStdout : exec::LogStream::kStderr;
    Result<std::string> read = executor_.ReadLog(t->handle, stream, offset, max_bytes);
    if (!read.ok()) return Error(read.status());
    data = std::move(*read);
  }
  const bool final = store::IsTerminal(t->state) && data.size() < max_bytes;
  return Json(200, {{"data", data}, {"offset", offset}, {"next_offset", offset + data.size()}, {"final", final}});
}

net::HttpResponse ControlApi::PutArtifact(const std::string& name, const Call& c) {
  if (Status s = ArtifactStore::ValidateName(name); !s.ok()) return Error(s);
  if (name.starts_with("tasks/")) return Error(400, "artifact names under tasks/ are reserved for task outputs");
  if (Status s = artifacts_.Put(name, *c.body); !s.ok()) return Error(s);
  Sha256 hash;
  hash.Update(*c.body);
  return Json(201, {{"name", name}, {"size", c.body->size()}, {"sha256", hash.HexDigest()}});
}

net::HttpResponse ControlApi::GetArtifact(const std::string& name) {
  Result<std::string> bytes = artifacts_.Get(name);
  if (!bytes.ok()) return Error(bytes.status());
  return {200, std::move(*bytes), "application/octet-stream"};
}

net::HttpResponse ControlApi::ListArtifacts(const Call& c) {
  Result<std::vector<ArtifactInfo>> all = artifacts_.List(c.Query("prefix"));
  if (!all.ok()) return Error(all.status());
  json out = json::array();
  for (const auto& a : *all) {
    out.push_back({{"name", a.name}, {"size", a.size}, {"modified_at", TimeToJson(a.modified_us)}});
  }
  return Json(200, {{"artifacts", out}});
}

net::HttpResponse ControlApi::ListModels() {
  Result<std::vector<std::string>> models = store_->ListModels();
  if (!models.ok()) return Error(models.status());
  json out = json::array();
  for (const auto& name : *models) {
    Result<std::vector<store::ModelVersion>> versions = store_->ListModelVersions(name);
    Result<std::map<std::string, int>> aliases = store_->ListAliases(name);
    if (!versions.ok() || !aliases.ok()) continue;
    out.push_back({{"name", name}, {"latest_version", versions->back().version}, {"aliases", *aliases}});
  }
  return Json(200, {{"models", out}});
}

net::HttpResponse ControlApi::GetModel(const std::string& name) {
  Result<std::vector<store::ModelVersion>> versions = store_->ListModelVersions(name);
  if (!versions.ok()) return Error(versions.status());
  Result<std::map<std::string, int>> aliases = store_->ListAliases(name);
  if (!aliases.ok()) return Error(aliases.status());
  json out = {{"name", name}, {"aliases", *aliases}, {"versions", json::array()}};
  for (const auto& v : *versions) out["versions"].push_back(ModelVersionToJson(v, *aliases));
  return Json(200, out);
}

net::HttpResponse ControlApi::ListJobs() const {
  json out = json::array();
  for (const auto& [name, job] : jobs_.jobs()) {
    json params = json::array();
    for (const auto& p : job.params) {
      params.push_back({{"name", p.name}, {"required", p.required}, {"description", p.description}});
    }
    out.push_back({{"name", name}, {"description", job.description}, {"params", params},
                   {"produces_model", job.produces_model}});
  }
  return Json(200, {{"jobs", out}});
}

}  // namespace wharf::control

namespace wharf::control {

net::HttpResponse ControlApi::Endpoints(const Call& c) {
  const auto& s = c.segments;
  const std::string& m = c.method;
  const std::size_t n = s.size();
  auto answer = [](unsigned status, Result<json> r) { return r.ok() ? Json(status, *r) : Error(r.status()); };
  if (n == 1 && m == "GET") return answer(200, endpoints_.List());
  if (n == 1 && m == "POST") {
    Result<json> body = c.Json();
    if (!body.ok()) return Error(body.status());
    Result<EndpointController::Applied> applied = endpoints_.Apply(*body);
    if (!applied.ok()) return Error(applied.status());
    return Json(applied->created ? 201 : 200, EndpointRevisionToJson(applied->revision));
  }
  if (n < 2) return Error(404, fmt::format("no route {} /api/endpoints", m));
  const std::string& name = s[1];
  if (n == 2 && m == "GET") return answer(200, endpoints_.Describe(name));
  if (n == 2 && m == "DELETE") {
    if (Status deleted = endpoints_.Delete(name); !deleted.ok()) return Error(deleted);
    return answer(200, endpoints_.Describe(name));
  }
  if (n == 3 && m == "GET" && s[2] == "revisions") {
    Result<std::vector<store::EndpointRevision>> all = endpoints_.store().ListEndpointRevisions(name);
    if (!all.ok()) return Error(all.status());
    json out = json::array();
    for (const auto& r : *all) out.push_back(EndpointRevisionToJson(r));
    return Json(200, {{"revisions", out}});
  }
  if (n == 4 && m == "GET" && s[2] == "revisions") {
    const auto revision = ParseInt(s[3]);
    if (!revision) return Error(400, fmt::format("revision '{}' is not a number", s[3]));
    Result<store::EndpointRevision> r = endpoints_.store().GetEndpointRevision(name, *revision);
    if (!r.ok()) return Error(r.status());
    return Json(200, EndpointRevisionToJson(*r));
  }
  if (n == 3 && m == "POST" && s[2] == "rollback") {
    Result<json> body = c.Json();
    if (!body.ok()) return Error(body.status());
    std::optional<int> to;
    if (body->is_object() && body->contains("to")) {
      if (!(*body)["to"].is_number_integer()) return Error(400, "to: must be a revision number");
      to = (*body)["to"].get<int>();
    }
    Result<store::EndpointRevision> r = endpoints_.Rollback(name, to);
    if (!r.ok()) return Error(r.status());
    return Json(201, EndpointRevisionToJson(*r));
  }
  if (n == 3 && m == "GET" && s[2] == "metrics") return answer(200, endpoints_.Metrics(name));
  if (m == "GET" && ((n == 3 && (s[2] == "captures" || s[2] == "drift")) || (n == 4 && s[2] == "captures"))) {
    // Captures outlive a deleted endpoint; one never applied is unknown.
    if (Result<store::EndpointRevision> known = endpoints_.store().GetEndpointRevision(name, std::nullopt);
        !known.ok()) {
      return Error(known.status());
    }
    if (s[2] == "drift") return Drift(name, c);
    return n == 3 ? ListCaptures(name, c) : GetCapture(name, s[3], c);
  }
  if (n == 3 && m == "GET" && s[2] == "events") {
    std::size_t limit = 100;
    if (const std::string l = c.Query("limit"); !l.empty()) {
      const auto parsed = ParseInt(l);
      if (!parsed || *parsed < 0) return Error(400, "limit: must be a non-negative integer");
      limit = static_cast<std::size_t>(*parsed);
    }
    if (Result<store::EndpointRevision> known = endpoints_.store().GetEndpointRevision(name, std::nullopt); !known.ok()) {
      return Error(known.status());
    }
    Result<std::vector<store::EndpointEvent>> events = endpoints_.store().ListEndpointEvents(name, 0, limit);
    if (!events.ok()) return Error(events.status());
    json out = json::array();
    for (const auto& e : *events) {
      out.push_back({{"seq", e.seq},
                     {"time", TimeToJson(e.time_us)},
                     {"kind", e.kind},
                     {"message", e.message},
                     {"details", json::parse(e.details_json, nullptr, false)}});
    }
    return Json(200, {{"events", out}});
  }
  return Error(404, fmt::format("no route {} /api/{}", m, fmt::join(s, "/")));
}

}  // namespace wharf::control

namespace wharf::control {

namespace {

json SecretToJson(const store::SecretRecord& s) {
  return {{"name", s.name},
          {"version", s.version},
          {"created_at", TimeToJson(s.created_us)},
          {"updated_at", TimeToJson(s.updated_us)}};
}

json AccessesToJson(const std::vector<store::SecretAccess>& accesses) {
  json out = json::array();
  for (const auto& a : accesses) {
    out.push_back({{"seq", a.seq},
                   {"time", TimeToJson(a.time_us)},
                   {"secret", a.name},
                   {"action", a.action},
                   {"version", a.version},
                   {"actor", a.actor}});
  }
  return out;
}

}  // namespace

net::HttpResponse ControlApi::Secrets(const Call& c) {
  const auto& s = c.segments;
  const std::string& m = c.method;
  const std::size_t n = s.size();
  std::size_t limit = 100;
  if (const std::string l = c.Query("limit"); !l.empty()) {
    const auto parsed = ParseInt(l);
    if (!parsed || *parsed < 0) return Error(400, "limit: must be a non-negative integer");
    limit = static_cast<std::size_t>(*parsed);
  }
  if (s[0] == "secret-accesses" && n == 1 && m == "GET") {
    Result<std::vector<store::SecretAccess>> all = secrets_.Audit("", limit);
    if (!all.ok()) return Error(all.status());
    return Json(200, {{"accesses", AccessesToJson(*all)}});
  }
  if (s[0] == "secrets" && n == 1 && m == "GET") {
    Result<std::vector<store::SecretRecord>> all = secrets_.List();
    if (!all.ok()) return Error(all.status());
    json out = json::array();
    for (const auto& secret : *all) out.push_back(SecretToJson(secret));
    return Json(200, {{"secrets", out}});
  }
  if (s[0] == "secrets" && n == 2 && m == "PUT") {
    Result<store::SecretRecord> set = secrets_.Set(s[1], *c.body, "api");
    if (!set.ok()) return Error(set.status());
    return Json(set->version == 1 ? 201 : 200, SecretToJson(*set));
  }
  if (s[0] == "secrets" && n == 2 && m == "GET") {  // what it is, never its value
    Result<store::SecretRecord> got = store_->GetSecret(s[1]);
    if (!got.ok()) return Error(got.status());
    return Json(200, SecretToJson(*got));
  }
  if (s[0] == "secrets" && n == 2 && m == "DELETE") {
    if (Status removed = secrets_.Remove(s[1], "api"); !removed.ok()) return Error(removed);
    return Json(200, {{"name", s[1]}, {"removed", true}});
  }
  if (s[0] == "secrets" && n == 3 && m == "GET" && s[2] == "audit") {
    Result<std::vector<store::SecretAccess>> accesses = secrets_.Audit(s[1], limit);
    if (!accesses.ok()) return Error(accesses.status());
    return Json(200, {{"accesses", AccessesToJson(*accesses)}});
  }
  return Error(404, fmt::format("no route {} /api/{}", m, fmt::join(s, "/")));
}

}  // namespace wharf::control

namespace wharf::control {

net::HttpResponse ControlApi::Services(const Call& c) {
  const auto& s = c.segments;
  const std::string& m = c.method;
  const std::size_t n = s.size();
  auto answer = [](unsigned status, Result<json> r) { return r.ok() ? Json(status, *r) : Error(r.status()); };
  if (n == 1 && m == "GET") return answer(200, services_.List());
  Result<json> body = c.Json();
  if (!body.ok()) return Error(body.status());
  std::optional<int> desired;
  if (body->is_object() && body->contains("desired")) {
    if (!(*body)["desired"].is_number_integer()) return Error(400, "desired: must be an integer");
    desired = (*body)["desired"].get<int>();
  }
  if (n == 1 && m == "POST") {
    if (!body->is_object() || !body->contains("taskdef") || !(*body)["taskdef"].is_string()) {
      return Error(400, "taskdef: required, the task definition to run as a service");
    }
    const std::string taskdef = (*body)["taskdef"].get<std::string>();
    std::string name = taskdef;
    if (body->contains("name")) {
      if (!(*body)["name"].is_string()) return Error(400, "name: must be a string");
      name = (*body)["name"].get<std::string>();
    }
    return answer(201, services_.Create(name, taskdef, desired));
  }
  if (n == 2 && m == "GET") return answer(200, services_.Describe(s[1]));
  if (n == 3 && m == "POST" && s[2] == "scale") {
    if (!desired) return Error(400, "desired: required, the number of instances");
    return answer(200, services_.Scale(s[1], *desired));
  }
  if ((n == 3 && m == "POST" && s[2] == "stop") || (n == 2 && m == "DELETE")) {
    return answer(200, services_.StopService(s[1]));
  }
  return Error(404, fmt::format("no route {} /api/{}", m, fmt::join(s, "/")));
}

}  // namespace wharf::control
