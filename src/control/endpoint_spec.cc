#include "control/endpoint_spec.h"

#include <cmath>
#include <variant>
#include <set>

#include <fmt/format.h>

#include "control/model_registry.h"
#include "control/task_definition.h"

namespace wharf::control {

namespace {

using nlohmann::json;

Status CheckFields(const json& object, std::string_view where, std::initializer_list<std::string_view> known) {
  if (!object.is_object()) return InvalidArgument(fmt::format("{}: must be an object", where));
  for (const auto& [key, value] : object.items()) {
    bool ok = false;
    for (auto k : known) ok = ok || key == k;
    if (!ok) {
      return InvalidArgument(fmt::format("{}{}{}: unknown field (known: {})", where, where.empty() ? "" : ".", key,
                                         fmt::join(known, ", ")));
    }
  }
  return Status::Ok();
}

// (A const json's operator[] must not be given a missing key: find, never [].)
Result<std::string> String(const json& object, const std::string& field, std::string_view where) {
  const auto value = object.find(field);
  if (value == object.end()) return InvalidArgument(fmt::format("{}: required, a non-empty string", where));
  if (!value->is_string() || value->get<std::string>().empty()) {
    return InvalidArgument(fmt::format("{}: must be a non-empty string", where));
  }
  return value->get<std::string>();
}

Result<int> Integer(const json& value, std::string_view where, int low, int high) {
  if (!value.is_number_integer() || value.get<std::int64_t>() < low || value.get<std::int64_t>() > high) {
    return InvalidArgument(fmt::format("{}: must be an integer from {} to {}", where, low, high));
  }
  return value.get<int>();
}

Result<double> Number(const json& value, std::string_view where, double low, double high, std::string_view what) {
  if (!value.is_number() || !(value.get<double>() >= low) || !(value.get<double>() <= high)) {
    return InvalidArgument(fmt::format("{}: must be {}", where, what));
  }
  return value.get<double>();
}

Result<CanarySpec> ParseCanary(const json& node, const std::string& where) {
  WHARF_RETURN_IF_ERROR(CheckFields(node, where,
                                    {"steps", "step_duration", "min_requests", "max_error_rate_increase",
                                     "max_p99_ratio", "p99_floor_ms"}));
  CanarySpec c;
  if (node.contains("steps")) {
    const json& steps = node["steps"];
    if (!steps.is_array() || steps.size() < 2) {
      return InvalidArgument(fmt::format("{}.steps: must list at least two percentages, e.g. [5, 25, 50, 100]", where));
    }
    c.steps.clear();
    for (std::size_t i = 0; i < steps.size(); ++i) {
      const std::string at = fmt::format("{}.steps[{}]", where, i);
      WHARF_ASSIGN_OR_RETURN(double step, Number(steps[i], at, 0, 100, "a percentage from 0 to 100"));
      if (step <= 0 || (!c.steps.empty() && step <= c.steps.back())) {
        return InvalidArgument(fmt::format("{}: {} must be above the step before (steps increase)", at, step));
      }
      c.steps.push_back(step);
    }
    if (c.steps.back() != 100) {
      return InvalidArgument(fmt::format("{}.steps: the last step must be 100 (the promotion)", where));
    }
  }
  if (node.contains("step_duration")) {
    WHARF_ASSIGN_OR_RETURN(c.step_duration, ParseDuration(node["step_duration"], where + ".step_duration"));
  }
  if (node.contains("min_requests")) {
    WHARF_ASSIGN_OR_RETURN(int n, Integer(node["min_requests"], where + ".min_requests", 1, 1'000'000'000));
    c.min_requests = static_cast<std::uint64_t>(n);
  }
  if (node.contains("max_error_rate_increase")) {
    WHARF_ASSIGN_OR_RETURN(c.max_error_rate_increase,
                           Number(node["max_error_rate_increase"], where + ".max_error_rate_increase", 0, 1,
                                  "a fraction from 0 to 1 (0.01: one point of error rate)"));
  }
  if (node.contains("max_p99_ratio")) {
    WHARF_ASSIGN_OR_RETURN(c.max_p99_ratio,
                           Number(node["max_p99_ratio"], where + ".max_p99_ratio", 1, 1e6, "a number >= 1"));
  }
  if (node.contains("p99_floor_ms")) {
    WHARF_ASSIGN_OR_RETURN(c.p99_floor_ms,
                           Number(node["p99_floor_ms"], where + ".p99_floor_ms", 0, 1e7, "a number of milliseconds >= 0"));
  }
  return c;
}

json CanaryToJson(const CanarySpec& c) {
  return {{"steps", c.steps},
          {"step_duration", fmt::format("{}ms", c.step_duration.count())},
          {"min_requests", c.min_requests},
          {"max_error_rate_increase", c.max_error_rate_increase},
          {"max_p99_ratio", c.max_p99_ratio},
          {"p99_floor_ms", c.p99_floor_ms}};
}

Result<EndpointVariantSpec> ParseVariant(const json& node, const std::string& where, bool weighted) {
  WHARF_RETURN_IF_ERROR(weighted ? CheckFields(node, where, {"name", "model", "weight", "canary"})
                                 : CheckFields(node, where, {"name", "model"}));
  EndpointVariantSpec v;
  WHARF_ASSIGN_OR_RETURN(v.name, String(node, "name", where + ".name"));
  WHARF_ASSIGN_OR_RETURN(v.model, String(node, "model", where + ".model"));
  WHARF_ASSIGN_OR_RETURN(ModelRef ref, ParseModelRef(v.model));
  if (!ref.version_or_alias) {
    return InvalidArgument(fmt::format("{}.model: '{}' must name a version or alias, e.g. {}@1 or {}@production",
                                       where, v.model, v.model, v.model));
  }
  if (node.contains("weight")) {
    const json& w = node["weight"];
    if (!w.is_number() || !(w.get<double>() > 0) || !std::isfinite(w.get<double>())) {
      return InvalidArgument(fmt::format("{}.weight: must be a number > 0", where));
    }
    v.weight = w.get<double>();
  }
  if (node.contains("canary")) {
    WHARF_ASSIGN_OR_RETURN(v.canary, ParseCanary(node["canary"], where + ".canary"));
  }
  return v;
}

Result<ReplicaSpec> ParseReplicas(const json& node) {
  WHARF_RETURN_IF_ERROR(CheckFields(node, "replicas", {"min", "max", "cpus", "target_in_flight", "cooldown"}));
  ReplicaSpec r;
  if (node.contains("min")) {
    WHARF_ASSIGN_OR_RETURN(r.min, Integer(node["min"], "replicas.min", 1, 64));
  }
  r.max = r.min;
  if (node.contains("max")) {
    WHARF_ASSIGN_OR_RETURN(r.max, Integer(node["max"], "replicas.max", 1, 64));
  }
  if (r.max < r.min) return InvalidArgument("replicas.max: must be >= replicas.min");
  if (node.contains("cpus")) {
    const json& c = node["cpus"];
    if (!c.is_number() || !(c.get<double>() > 0) || c.get<double>() > 256) {
      return InvalidArgument("replicas.cpus: must be a number > 0 (cpus reserved per replica)");
    }
    r.cpus = c.get<double>();
  }
  if (node.contains("target_in_flight")) {
    const json& t = node["target_in_flight"];
    if (!t.is_number() || !(t.get<double>() > 0)) {
      return InvalidArgument("replicas.target_in_flight: must be a number > 0 (requests in flight per replica)");
    }
    r.target_in_flight = t.get<double>();
  }
  if (r.max > r.min && r.target_in_flight == 0) {
    return InvalidArgument("replicas: max > min needs target_in_flight, the load per replica to scale on");
  }
  if (node.contains("cooldown")) {
    WHARF_ASSIGN_OR_RETURN(r.cooldown, ParseDuration(node["cooldown"], "replicas.cooldown"));
  }
  return r;
}

json VariantToJson(const EndpointVariantSpec& v) {
  json out = {{"name", v.name}, {"model", v.model}, {"weight", v.weight}};
  if (v.canary) out["canary"] = CanaryToJson(*v.canary);
  return out;
}

bool IsAlias(const ModelRef& ref) {
  return ref.version_or_alias && std::holds_alternative<std::string>(*ref.version_or_alias);
}

}  // namespace

const EndpointVariantSpec* EndpointSpec::Canary() const {
  for (const auto& v : variants) {
    if (v.canary) return &v;
  }
  return nullptr;
}

Result<EndpointSpec> ParseEndpointSpec(const json& body) {
  WHARF_RETURN_IF_ERROR(CheckFields(body, "",
                                    {"name", "host", "port", "variants", "shadow", "sticky_header", "aliases",
                                     "capture", "batching", "replicas", "follow_aliases"}));
  EndpointSpec spec;
  WHARF_ASSIGN_OR_RETURN(spec.name, String(body, "name", "name"));
  WHARF_RETURN_IF_ERROR(store::ValidateName("endpoint", spec.name));
  if (body.contains("host")) {
    WHARF_ASSIGN_OR_RETURN(spec.host, String(body, "host", "host"));
  }
  if (body.contains("port")) {
    WHARF_ASSIGN_OR_RETURN(spec.port, Integer(body["port"], "port", 1, 65535));
  }
  if (!body.contains("variants") || !body["variants"].is_array() || body["variants"].empty()) {
    return InvalidArgument("variants: required, a non-empty list of {name, model, weight}");
  }
  std::set<std::string> names;
  for (std::size_t i = 0; i < body["variants"].size(); ++i) {
    WHARF_ASSIGN_OR_RETURN(EndpointVariantSpec v, ParseVariant(body["variants"][i], fmt::format("variants[{}]", i), true));
    if (!names.insert(v.name).second) return InvalidArgument(fmt::format("variants[{}].name: '{}' appears twice", i, v.name));
    if (v.canary && spec.Canary()) {
      return InvalidArgument(fmt::format("variants[{}].canary: '{}' is already the canary; one canary at a time", i,
                                         spec.Canary()->name));
    }
    spec.variants.push_back(std::move(v));
  }
  if (spec.Canary() && spec.variants.size() < 2) {
    return InvalidArgument(fmt::format("variants: canary '{}' needs a baseline, another variant to compare it with",
                                       spec.Canary()->name));
  }
  if (body.contains("shadow")) {
    WHARF_ASSIGN_OR_RETURN(spec.shadow, ParseVariant(body["shadow"], "shadow", false));
    if (names.count(spec.shadow->name)) {
      return InvalidArgument(fmt::format("shadow.name: '{}' is also a variant's name", spec.shadow->name));
    }
  }
  if (body.contains("sticky_header")) {
    WHARF_ASSIGN_OR_RETURN(spec.sticky_header, String(body, "sticky_header", "sticky_header"));
  }
  if (body.contains("aliases")) {
    if (!body["aliases"].is_object()) return InvalidArgument("aliases: must map request fields to model columns");
    for (const auto& [field, column] : body["aliases"].items()) {
      if (!column.is_string()) return InvalidArgument(fmt::format("aliases.{}: must be a column name", field));
      spec.aliases[field] = column.get<std::string>();
    }
  }
  if (body.contains("capture")) {
    const json& c = body["capture"];
    WHARF_RETURN_IF_ERROR(CheckFields(c, "capture", {"mode", "sample_percent"}));
    if (c.contains("mode")) {
      WHARF_ASSIGN_OR_RETURN(spec.capture_mode, String(c, "mode", "capture.mode"));
      if (spec.capture_mode != "off" && spec.capture_mode != "async" && spec.capture_mode != "durable") {
        return InvalidArgument(fmt::format("capture.mode: unknown mode '{}' (known: off, async, durable)", spec.capture_mode));
      }
    }
    if (c.contains("sample_percent")) {
      const json& p = c["sample_percent"];
      if (!p.is_number() || p.get<double>() < 0 || p.get<double>() > 100) {
        return InvalidArgument("capture.sample_percent: must be a number from 0 to 100");
      }
      spec.sample_percent = p.get<double>();
    }
  }
  if (body.contains("batching")) {
    const json& b = body["batching"];
    WHARF_RETURN_IF_ERROR(CheckFields(b, "batching", {"max_batch_size", "max_queue_delay_us"}));
    if (b.contains("max_batch_size")) {
      if (!b["max_batch_size"].is_number_integer() || b["max_batch_size"].get<int>() < 0 ||
          b["max_batch_size"].get<int>() > 4096) {
        return InvalidArgument("batching.max_batch_size: must be an integer from 0 to 4096");
      }
      spec.max_batch_size = b["max_batch_size"].get<int>();
    }
    if (b.contains("max_queue_delay_us")) {
      if (!b["max_queue_delay_us"].is_number_integer() || b["max_queue_delay_us"].get<std::int64_t>() < 0 ||
          b["max_queue_delay_us"].get<std::int64_t>() > 1000000) {
        return InvalidArgument("batching.max_queue_delay_us: must be an integer from 0 to 1000000");
      }
      spec.max_queue_delay_us = b["max_queue_delay_us"].get<std::int64_t>();
    }
  }
  if (body.contains("replicas")) {
    WHARF_ASSIGN_OR_RETURN(spec.replicas, ParseReplicas(body["replicas"]));
  }
  if (body.contains("follow_aliases")) {
    if (!body["follow_aliases"].is_boolean()) return InvalidArgument("follow_aliases: must be true or false");
    spec.follow_aliases = body["follow_aliases"].get<bool>();
  }
  return spec;
}

json EndpointSpecToJson(const EndpointSpec& spec) {
  json variants = json::array();
  for (const auto& v : spec.variants) variants.push_back(VariantToJson(v));
  json out = {{"name", spec.name},
              {"host", spec.host},
              {"port", spec.port},
              {"variants", variants},
              {"capture", {{"mode", spec.capture_mode}, {"sample_percent", spec.sample_percent}}},
              {"replicas",
               {{"min", spec.replicas.min},
                {"max", spec.replicas.max},
                {"cpus", spec.replicas.cpus},
                {"cooldown", fmt::format("{}ms", spec.replicas.cooldown.count())}}}};
  if (spec.replicas.target_in_flight > 0) out["replicas"]["target_in_flight"] = spec.replicas.target_in_flight;
  if (spec.shadow) out["shadow"] = {{"name", spec.shadow->name}, {"model", spec.shadow->model}};
  if (!spec.sticky_header.empty()) out["sticky_header"] = spec.sticky_header;
  if (!spec.aliases.empty()) out["aliases"] = spec.aliases;
  if (!spec.follow_aliases) out["follow_aliases"] = false;
  if (spec.max_batch_size > 1) {
    out["batching"] = {{"max_batch_size", spec.max_batch_size}, {"max_queue_delay_us", spec.max_queue_delay_us}};
  }
  return out;
}

Result<json> ResolveEndpoint(const EndpointSpec& spec, int revision, store::MetadataStore& store) {
  struct Pinned {
    std::string model;
    store::ModelVersion version;
  };
  json aliases_seen = json::object();
  auto pin = [&](const EndpointVariantSpec& v, std::string_view where) -> Result<Pinned> {
    WHARF_ASSIGN_OR_RETURN(ModelRef ref, ParseModelRef(v.model));
    Result<store::ModelVersion> version = ResolveModelRef(store, ref);
    if (!version.ok()) return NotFound(fmt::format("{} '{}' ({}): {}", where, v.name, v.model, version.status().message()));
    if (IsAlias(ref)) aliases_seen[v.model] = version->version;
    return Pinned{ref.model, std::move(*version)};
  };
  std::vector<Pinned> pinned;
  std::set<std::string> model_names;
  for (const auto& v : spec.variants) {
    WHARF_ASSIGN_OR_RETURN(Pinned p, pin(v, "variant"));
    model_names.insert(p.model);
    pinned.push_back(std::move(p));
  }
  std::optional<Pinned> shadow;
  if (spec.shadow) {
    WHARF_ASSIGN_OR_RETURN(shadow, pin(*spec.shadow, "shadow"));
    model_names.insert(shadow->model);
  }
  // A served version is the registry's number when every variant comes from
  // one model, else "MODEL-NUMBER"; either way unique within the endpoint.
  auto version_of = [&](const Pinned& p) {
    return model_names.size() == 1 ? std::to_string(p.version.version)
                                   : fmt::format("{}-{}", p.model, p.version.version);
  };
  std::set<std::string> versions;
  json variants = json::array(), models = json::object();
  for (std::size_t i = 0; i < pinned.size(); ++i) {
    const std::string version = version_of(pinned[i]);
    if (!versions.insert(version).second) {
      return InvalidArgument(fmt::format("variants[{}].model: '{}' is version {}, which another variant already serves",
                                         i, spec.variants[i].model, version));
    }
    variants.push_back({{"name", spec.variants[i].name},
                        {"model", pinned[i].version.modelfile_path},
                        {"version", version},
                        {"weight", spec.variants[i].weight}});
    models[spec.variants[i].name] = fmt::format("{}@{}", pinned[i].model, pinned[i].version.version);
  }
  json endpoint = {{"name", spec.name},
                   {"revision", revision},
                   {"variants", variants},
                   {"capture", {{"mode", spec.capture_mode}, {"sample_percent", spec.sample_percent}}}};
  if (shadow) {
    const std::string version = version_of(*shadow);
    if (versions.count(version)) {
      return InvalidArgument(fmt::format("shadow.model: '{}' is version {}, which a variant already serves",
                                         spec.shadow->model, version));
    }
    endpoint["shadow"] = {{"name", spec.shadow->name}, {"model", shadow->version.modelfile_path}, {"version", version}};
    models[spec.shadow->name] = fmt::format("{}@{}", shadow->model, shadow->version.version);
  }
  if (!spec.sticky_header.empty()) endpoint["sticky_header"] = spec.sticky_header;
  if (!spec.aliases.empty()) endpoint["aliases"] = spec.aliases;
  if (spec.max_batch_size > 1) {
    endpoint["batching"] = {{"max_batch_size", spec.max_batch_size}, {"max_queue_delay_us", spec.max_queue_delay_us}};
  }
  return json{{"serve", {{"endpoints", json::array({endpoint})}}}, {"models", models}, {"aliases_seen", aliases_seen}};
}

Result<std::vector<MovedAlias>> MovedAliases(const json& resolved, store::MetadataStore& store) {
  std::vector<MovedAlias> moved;
  const json aliases_seen = resolved.value("aliases_seen", json::object());
  for (const auto& [reference, seen] : aliases_seen.items()) {
    WHARF_ASSIGN_OR_RETURN(ModelRef ref, ParseModelRef(reference));
    Result<store::ModelVersion> now = ResolveModelRef(store, ref);
    if (!now.ok() && now.status().code() != StatusCode::kNotFound) return now.status();
    if (now.ok() && now->version != seen.get<int>()) moved.push_back({reference, seen.get<int>(), now->version});
  }
  return moved;
}

Result<json> WithAliasesSeenNow(json resolved, store::MetadataStore& store) {
  WHARF_ASSIGN_OR_RETURN(auto moved, MovedAliases(resolved, store));
  for (const auto& m : moved) resolved["aliases_seen"][m.reference] = m.to;
  return resolved;
}

json ServeConfigOf(const json& resolved, int revision) {
  json serve = resolved.at("serve");
  for (auto& e : serve["endpoints"]) e["revision"] = revision;
  return serve;
}

}  // namespace wharf::control
