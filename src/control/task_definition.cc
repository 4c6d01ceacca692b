#include "control/task_definition.h"

#include <cctype>
#include <charconv>
#include <cmath>

#include <fmt/format.h>

#include "control/job_registry.h"
#include "store/metadata_store.h"

namespace wharf::control {

namespace {

using nlohmann::json;
using std::chrono::milliseconds;

constexpr std::string_view kFields[] = {"job",     "params",  "command",       "model",   "resources",
                                        "env",     "inputs",  "outputs",       "count",   "retry_backoff",
                                        "retries", "timeout", "executor",      "secrets", "service"};

bool IsEnvName(std::string_view name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

Result<std::map<std::string, std::string>> StringMap(const json& value, std::string_view field, bool env_names) {
  if (!value.is_object()) return InvalidArgument(fmt::format("{}: must be an object of strings", field));
  std::map<std::string, std::string> out;
  for (const auto& [key, v] : value.items()) {
    if (!v.is_string()) return InvalidArgument(fmt::format("{}.{}: must be a string", field, key));
    if (env_names && !IsEnvName(key)) {
      return InvalidArgument(fmt::format("{}.{}: not a variable name ([A-Za-z_][A-Za-z0-9_]*)", field, key));
    }
    out.emplace(key, v.get<std::string>());
  }
  return out;
}

Result<std::vector<std::string>> StringList(const json& value, std::string_view field) {
  if (!value.is_array()) return InvalidArgument(fmt::format("{}: must be an array of strings", field));
  std::vector<std::string> out;
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (!value[i].is_string()) return InvalidArgument(fmt::format("{}[{}]: must be a string", field, i));
    out.push_back(value[i].get<std::string>());
  }
  return out;
}

Result<int> Count(const json& value, std::string_view field, int min, int max) {
  if (!value.is_number_integer()) return InvalidArgument(fmt::format("{}: must be an integer", field));
  const auto n = value.get<std::int64_t>();
  if (n < min || n > max) return InvalidArgument(fmt::format("{}: must be between {} and {}", field, min, max));
  return static_cast<int>(n);
}

// Splits "30s" into 30 and "s"; nullopt unless a non-negative number leads.
std::optional<std::pair<double, std::string>> NumberAndUnit(std::string_view text) {
  std::size_t end = 0;
  while (end < text.size() && (std::isdigit(static_cast<unsigned char>(text[end])) || text[end] == '.')) ++end;
  if (end == 0) return std::nullopt;
  double number = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + end, number);
  if (ec != std::errc() || ptr != text.data() + end) return std::nullopt;
  std::string unit(text.substr(end));
  while (!unit.empty() && unit.front() == ' ') unit.erase(unit.begin());
  return std::make_pair(number, unit);
}

Status CheckOutputName(std::string_view name, std::string_view field) {
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string_view::npos) {
    return InvalidArgument(fmt::format("{}: '{}' must be a plain file name", field, name));
  }
  return Status::Ok();
}

Result<SecretRefs> ParseSecrets(const json& value, const std::map<std::string, std::string>& env) {
  if (!value.is_object()) return InvalidArgument("secrets: must be an object with \"env\" and/or \"files\"");
  SecretRefs refs;
  for (const auto& [key, v] : value.items()) {
    const std::string field = "secrets." + key;
    if (key == "env") {
      WHARF_ASSIGN_OR_RETURN(refs.env, StringMap(v, field, /*env_names=*/true));
      for (const auto& [variable, secret] : refs.env) {
        if (env.contains(variable)) {
          return InvalidArgument(fmt::format("{}.{}: also set in env; a variable comes from one place", field, variable));
        }
        if (variable.starts_with("WHARF_")) {
          return InvalidArgument(fmt::format("{}.{}: WHARF_ variables are wharf's own", field, variable));
        }
      }
    } else if (key == "files") {
      WHARF_ASSIGN_OR_RETURN(refs.files, StringMap(v, field, /*env_names=*/false));
      for (const auto& [file, secret] : refs.files) WHARF_RETURN_IF_ERROR(CheckOutputName(file, field));
    } else {
      return InvalidArgument(fmt::format("{}: unknown field (known: env, files)", field));
    }
  }
  for (const auto* map : {&refs.env, &refs.files}) {
    for (const auto& [where, secret] : *map) {
      WHARF_RETURN_IF_ERROR(store::ValidateName("secret", secret).WithContext("secrets." + where));
    }
  }
  return refs;
}

Result<ServiceSpec::Health> ParseHealth(const json& value) {
  if (!value.is_object()) return InvalidArgument("service.health: must be an object");
  ServiceSpec::Health health;
  for (const auto& [key, v] : value.items()) {
    const std::string field = "service.health." + key;
    if (key == "http_path") {
      if (!v.is_string() || !v.get<std::string>().starts_with("/")) {
        return InvalidArgument(field + ": must be a path starting with '/'");
      }
      health.http_path = v.get<std::string>();
    } else if (key == "command") {
      WHARF_ASSIGN_OR_RETURN(health.command, StringList(v, field));
      if (health.command.empty() || health.command[0].empty()) return InvalidArgument(field + ": must name a program");
    } else if (key == "interval") {
      WHARF_ASSIGN_OR_RETURN(health.interval, ParseDuration(v, field));
    } else if (key == "timeout") {
      WHARF_ASSIGN_OR_RETURN(health.timeout, ParseDuration(v, field));
    } else if (key == "start_period") {
      WHARF_ASSIGN_OR_RETURN(health.start_period, ParseDuration(v, field));
    } else if (key == "retries") {
      WHARF_ASSIGN_OR_RETURN(health.retries, Count(v, field, 1, 100));
    } else {
      return InvalidArgument(
          fmt::format("{}: unknown field (known: http_path, command, interval, timeout, retries, start_period)", field));
    }
  }
  if (health.http_path.empty() == health.command.empty()) {
    return InvalidArgument("service.health: needs exactly one of http_path and command");
  }
  return health;
}

Result<ServiceSpec> ParseService(const json& value) {
  if (!value.is_object()) return InvalidArgument("service: must be an object");
  ServiceSpec service;
  for (const auto& [key, v] : value.items()) {
    const std::string field = "service." + key;
    if (key == "desired") {
      WHARF_ASSIGN_OR_RETURN(service.desired, Count(v, field, 0, 1000));
    } else if (key == "port") {
      if (v == "auto") {
        service.port = ServiceSpec::Port::kAuto;
      } else if (v.is_number_integer() && v.get<std::int64_t>() >= 1 && v.get<std::int64_t>() <= 65535) {
        service.port = ServiceSpec::Port::kFixed;
        service.fixed_port = v.get<int>();
      } else {
        return InvalidArgument(field + ": \"auto\" (a free port per instance) or a port number 1-65535");
      }
    } else if (key == "health") {
      WHARF_ASSIGN_OR_RETURN(service.health, ParseHealth(v));
    } else if (key == "restart") {
      if (v == "always") {
        service.restart = ServiceSpec::Restart::kAlways;
      } else if (v == "on-failure") {
        service.restart = ServiceSpec::Restart::kOnFailure;
      } else {
        return InvalidArgument(field + ": \"always\" or \"on-failure\"");
      }
    } else {
      return InvalidArgument(fmt::format("{}: unknown field (known: desired, port, health, restart)", field));
    }
  }
  if (service.health && !service.health->http_path.empty() && service.port == ServiceSpec::Port::kNone) {
    return InvalidArgument("service.health.http_path: the service needs a port to probe (service.port)");
  }
  if (service.port == ServiceSpec::Port::kFixed && service.desired > 1) {
    return InvalidArgument("service.port: a fixed port serves one instance; use \"auto\" for several");
  }
  return service;
}

Result<exec::Resources> ParseResources(const json& value) {
  if (!value.is_object()) return InvalidArgument("resources: must be an object");
  exec::Resources r;
  for (const auto& [key, v] : value.items()) {
    if (key == "cpus") {
      if (!v.is_number() || !(v.get<double>() > 0) || v.get<double>() > 1024) {
        return InvalidArgument("resources.cpus: must be a number > 0 (fractions allowed, e.g. 0.5)");
      }
      r.cpus = v.get<double>();
    } else if (key == "memory") {
      WHARF_ASSIGN_OR_RETURN(std::uint64_t bytes, ParseBytes(v, "resources.memory"));
      r.memory_bytes = bytes;
    } else if (key == "pids") {
      WHARF_ASSIGN_OR_RETURN(int pids, Count(v, "resources.pids", 1, 1 << 22));
      r.max_pids = static_cast<std::uint32_t>(pids);
    } else if (key == "ranks") {
      WHARF_ASSIGN_OR_RETURN(int ranks, Count(v, "resources.ranks", 1, 4096));
      r.ranks = static_cast<std::uint32_t>(ranks);
    } else if (key == "gpus") {
      WHARF_ASSIGN_OR_RETURN(int gpus, Count(v, "resources.gpus", 0, 64));
      r.gpus = static_cast<std::uint32_t>(gpus);
    } else {
      return InvalidArgument(fmt::format("resources.{}: unknown field (known: cpus, memory, pids, ranks, gpus)", key));
    }
  }
  return r;
}

}  // namespace

Result<milliseconds> ParseDuration(const json& value, std::string_view field) {
  double ms = -1;
  if (value.is_number()) {
    ms = value.get<double>() * 1000;
  } else if (value.is_string()) {
    const auto parsed = NumberAndUnit(value.get<std::string>());
    if (parsed) {
      const auto& [n, unit] = *parsed;
      if (unit == "ms") ms = n;
      else if (unit == "s" || unit.empty()) ms = n * 1000;
      else if (unit == "m") ms = n * 60'000;
      else if (unit == "h") ms = n * 3'600'000;
    }
  }
  if (!(ms >= 1) || ms > 365.0 * 24 * 3'600'000) {
    return InvalidArgument(fmt::format("{}: expected a duration such as 500ms, 30s, 10m, 2h or seconds as a number",
                                       field));
  }
  return milliseconds(static_cast<std::int64_t>(std::llround(ms)));
}

Result<std::uint64_t> ParseBytes(const json& value, std::string_view field) {
  double bytes = -1;
  if (value.is_number()) {
    bytes = value.get<double>();
  } else if (value.is_string()) {
    const auto parsed = NumberAndUnit(value.get<std::string>());
    if (parsed) {
      std::string unit = parsed->second;
      for (char& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      static const std::pair<std::string_view, double> kUnits[] = {
          {"", 1},         {"b", 1},          {"k", 1024},         {"kib", 1024},       {"kb", 1e3},
          {"m", 1 << 20},  {"mib", 1 << 20},  {"mb", 1e6},         {"g", 1 << 30},      {"gib", 1 << 30},
          {"gb", 1e9},     {"t", 1ull << 40}, {"tib", 1ull << 40}, {"tb", 1e12}};
      for (const auto& [name, scale] : kUnits) {
        if (unit == name) bytes = parsed->first * scale;
      }
    }
  }
  if (!(bytes >= 1) || bytes > 1e15) {
    return InvalidArgument(fmt::format("{}: expected bytes as a number or a size such as 512MiB or 2GiB", field));
  }
  return static_cast<std::uint64_t>(bytes);
}

Result<DefinitionSpec> ParseDefinition(const json& body, const JobRegistry& jobs) {
  if (!body.is_object()) return InvalidArgument("a task definition must be a JSON object");
  for (const auto& [key, value] : body.items()) {
    bool known = false;
    for (auto f : kFields) known = known || key == f;
    if (!known) return InvalidArgument(fmt::format("{}: unknown field", key));
  }
  DefinitionSpec spec;
  const bool has_job = body.contains("job"), has_command = body.contains("command");
  if (has_job == has_command) return InvalidArgument("job, command: a definition needs exactly one of them");
  if (has_job) {
    if (!body["job"].is_string()) return InvalidArgument("job: must be a string");
    spec.job = body["job"].get<std::string>();
    const JobType* job = jobs.Find(spec.job);
    if (job == nullptr) {
      std::string names;
      for (const auto& [name, type] : jobs.jobs()) names += (names.empty() ? "" : ", ") + name;
      return InvalidArgument(fmt::format("job: unknown job '{}' (known: {})", spec.job, names));
    }
    if (body.contains("params")) spec.params = body["params"];
    WHARF_RETURN_IF_ERROR(JobRegistry::CheckParams(*job, spec.params));
    if (body.contains("model")) {
      if (!job->produces_model) return InvalidArgument(fmt::format("model: job '{}' produces no model", spec.job));
      if (!body["model"].is_string()) return InvalidArgument("model: must be a string");
      spec.model = body["model"].get<std::string>();
    }
  } else {
    WHARF_ASSIGN_OR_RETURN(spec.command, StringList(body["command"], "command"));
    if (spec.command.empty() || spec.command[0].empty()) return InvalidArgument("command: must name a program");
    if (body.contains("params")) return InvalidArgument("params: only a job takes params");
    if (body.contains("model")) return InvalidArgument("model: only a job that trains registers a model");
  }
  if (body.contains("resources")) {
    WHARF_ASSIGN_OR_RETURN(spec.resources, ParseResources(body["resources"]));
  }
  if (body.contains("env")) {
    WHARF_ASSIGN_OR_RETURN(spec.env, StringMap(body["env"], "env", /*env_names=*/true));
  }
  if (body.contains("inputs")) {
    WHARF_ASSIGN_OR_RETURN(spec.inputs, StringMap(body["inputs"], "inputs", /*env_names=*/true));
  }
  if (body.contains("outputs")) {
    WHARF_ASSIGN_OR_RETURN(spec.outputs, StringList(body["outputs"], "outputs"));
    for (std::size_t i = 0; i < spec.outputs.size(); ++i) {
      WHARF_RETURN_IF_ERROR(CheckOutputName(spec.outputs[i], fmt::format("outputs[{}]", i)));
    }
  }
  if (body.contains("count")) {
    WHARF_ASSIGN_OR_RETURN(spec.count, Count(body["count"], "count", 1, kMaxCount));
  }
  if (body.contains("retries")) {
    WHARF_ASSIGN_OR_RETURN(spec.retries, Count(body["retries"], "retries", 0, 100));
  }
  if (body.contains("retry_backoff")) {
    WHARF_ASSIGN_OR_RETURN(spec.retry_backoff, ParseDuration(body["retry_backoff"], "retry_backoff"));
  }
  if (body.contains("timeout")) {
    WHARF_ASSIGN_OR_RETURN(milliseconds timeout, ParseDuration(body["timeout"], "timeout"));
    spec.timeout = timeout;
  }
  if (body.contains("executor")) {
    const json& e = body["executor"];
    if (!e.is_string() || (e != "local" && e != "slurm")) {
      return InvalidArgument("executor: must be \"local\" or \"slurm\" (leave it out for the server's default)");
    }
    spec.executor = e.get<std::string>();
  }
  if (body.contains("secrets")) {
    WHARF_ASSIGN_OR_RETURN(spec.secrets, ParseSecrets(body["secrets"], spec.env));
  }
  if (body.contains("service")) {
    WHARF_ASSIGN_OR_RETURN(spec.service, ParseService(body["service"]));
  }
  return spec;
}

json ServiceToJson(const ServiceSpec& service) {
  json out = {{"desired", service.desired},
              {"restart", service.restart == ServiceSpec::Restart::kAlways ? "always" : "on-failure"}};
  if (service.port == ServiceSpec::Port::kAuto) out["port"] = "auto";
  if (service.port == ServiceSpec::Port::kFixed) out["port"] = service.fixed_port;
  if (service.health) {
    const auto& h = *service.health;
    json health = {{"interval", fmt::format("{}ms", h.interval.count())},
                   {"timeout", fmt::format("{}ms", h.timeout.count())},
                   {"retries", h.retries}};
    if (h.start_period.count() > 0) health["start_period"] = fmt::format("{}ms", h.start_period.count());
    if (!h.http_path.empty()) health["http_path"] = h.http_path;
    if (!h.command.empty()) health["command"] = h.command;
    out["health"] = std::move(health);
  }
  return out;
}

json DefinitionToJson(const DefinitionSpec& spec) {
  json out = json::object();
  if (!spec.job.empty()) {
    out["job"] = spec.job;
    out["params"] = spec.params;
    if (!spec.model.empty()) out["model"] = spec.model;
  } else {
    out["command"] = spec.command;
  }
  json resources = {{"cpus", spec.resources.cpus}};
  if (spec.resources.memory_bytes) resources["memory"] = *spec.resources.memory_bytes;
  if (spec.resources.max_pids) resources["pids"] = *spec.resources.max_pids;
  if (spec.resources.ranks != 1) resources["ranks"] = spec.resources.ranks;
  if (spec.resources.gpus != 0) resources["gpus"] = spec.resources.gpus;
  out["resources"] = resources;
  out["env"] = spec.env;
  out["inputs"] = spec.inputs;
  out["outputs"] = spec.outputs;
  out["count"] = spec.count;
  out["retries"] = spec.retries;
  out["retry_backoff"] = fmt::format("{}ms", spec.retry_backoff.count());
  if (spec.timeout) out["timeout"] = fmt::format("{}ms", spec.timeout->count());
  if (!spec.executor.empty()) out["executor"] = spec.executor;  // absent: older definitions keep their bytes
  if (!spec.secrets.empty()) out["secrets"] = {{"env", spec.secrets.env}, {"files", spec.secrets.files}};
  if (spec.service) out["service"] = ServiceToJson(*spec.service);
  return out;
}

void MergePatch(json& target, const json& patch) {
  if (!patch.is_object()) {
    target = patch;
    return;
  }
  if (!target.is_object()) target = json::object();
  for (const auto& [key, value] : patch.items()) {
    if (value.is_null()) {
      target.erase(key);
    } else {
      MergePatch(target[key], value);
    }
  }
}

std::string ExpandEnvReferences(std::string_view arg, const std::map<std::string, std::string>& env) {
  std::string out;
  out.reserve(arg.size());
  std::size_t i = 0;
  while (i < arg.size()) {
    if (arg.compare(i, 3, "$$(") == 0) {
      out += "$(";
      i += 3;
      continue;
    }
    if (arg.compare(i, 2, "$(") == 0) {
      const std::size_t close = arg.find(')', i + 2);
      if (close != std::string_view::npos) {
        const std::string name(arg.substr(i + 2, close - i - 2));
        if (auto it = env.find(name); it != env.end()) {
          out += it->second;
          i = close + 1;
          continue;
        }
      }
    }
    out += arg[i++];
  }
  return out;
}

}  // namespace wharf::control
