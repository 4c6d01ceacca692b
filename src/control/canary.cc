#include "control/canary.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>

namespace wharf::control {

using nlohmann::json;

void Tally::Add(const json& metric) {
  requests += metric.value("requests", std::uint64_t{0});
  errors += metric.value("errors", std::uint64_t{0});
  const json& b = metric.at("latency_buckets");
  buckets.resize(std::max(buckets.size(), b.size()));
  for (std::size_t i = 0; i < b.size(); ++i) buckets[i] += b[i].get<std::uint64_t>();
}

void Tally::Add(const Tally& other) {
  requests += other.requests;
  errors += other.errors;
  buckets.resize(std::max(buckets.size(), other.buckets.size()));
  for (std::size_t i = 0; i < other.buckets.size(); ++i) buckets[i] += other.buckets[i];
}

Tally Tally::Since(const Tally& earlier) const {
  // Counters only grow while a replica lives; clamp anyway, never wrap.
  auto minus = [](std::uint64_t a, std::uint64_t b) { return a > b ? a - b : 0; };
  Tally out{minus(requests, earlier.requests), minus(errors, earlier.errors), buckets};
  for (std::size_t i = 0; i < out.buckets.size() && i < earlier.buckets.size(); ++i) {
    out.buckets[i] = minus(out.buckets[i], earlier.buckets[i]);
  }
  return out;
}

double Tally::ErrorRate() const {
  return requests ? static_cast<double>(errors) / static_cast<double>(requests) : 0.0;
}

json Tally::ToJson(const std::vector<double>& bounds) const {
  return {{"requests", requests},
          {"errors", errors},
          {"error_rate", ErrorRate()},
          {"p50_ms", QuantileMs(buckets, bounds, 0.5)},
          {"p99_ms", QuantileMs(buckets, bounds, 0.99)}};
}

double QuantileMs(const std::vector<std::uint64_t>& counts, const std::vector<double>& bounds, double q) {
  std::uint64_t total = 0;
  for (auto c : counts) total += c;
  if (total == 0 || bounds.empty()) return 0;
  const double rank = q * static_cast<double>(total);
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    if (static_cast<double>(seen + counts[i]) >= rank && counts[i] > 0) {
      if (i >= bounds.size()) return bounds.back() * 1e3;
      const double lo = i == 0 ? 0 : bounds[i - 1];
      const double within = (rank - static_cast<double>(seen)) / static_cast<double>(counts[i]);
      return (lo + (bounds[i] - lo) * within) * 1e3;
    }
    seen += counts[i];
  }
  return bounds.back() * 1e3;
}

json CanaryState::ToJson() const {
  return {{"variant", variant}, {"steps", steps}, {"step", step}, {"from_revision", from_revision}};
}

std::optional<CanaryState> CanaryOf(const json& resolved) {
  if (!resolved.is_object() || !resolved.contains("canary")) return std::nullopt;
  const json& c = resolved["canary"];
  CanaryState state{c.at("variant").get<std::string>(), c.at("steps").get<std::vector<double>>(),
                    c.at("step").get<int>(), c.value("from_revision", 0)};
  if (state.step < 1 || state.step > static_cast<int>(state.steps.size())) return std::nullopt;
  return state;
}

json AtCanaryStep(json resolved, const EndpointSpec& spec, const CanaryState& state) {
  double baseline_weight = 0;
  for (const auto& v : spec.variants) baseline_weight += v.name == state.variant ? 0 : v.weight;
  for (auto& variant : resolved["serve"]["endpoints"][0]["variants"]) {
    const std::string name = variant.at("name").get<std::string>();
    if (name == state.variant) {
      variant["weight"] = state.percent();
      continue;
    }
    for (const auto& v : spec.variants) {
      if (v.name == name) variant["weight"] = (100 - state.percent()) * v.weight / baseline_weight;
    }
  }
  resolved["canary"] = state.ToJson();
  return resolved;
}

EndpointSpec PromotedSpec(EndpointSpec spec) {
  const EndpointVariantSpec* canary = spec.Canary();
  spec.variants = {EndpointVariantSpec{.name = canary->name, .model = canary->model, .weight = 1, .canary = std::nullopt}};
  return spec;
}

EndpointSpec BaselineSpec(EndpointSpec spec) {
  std::erase_if(spec.variants, [](const EndpointVariantSpec& v) { return v.canary.has_value(); });
  return spec;
}

json NarrowedTo(json resolved, const EndpointSpec& narrowed) {
  std::map<std::string, double> weights;
  std::set<std::string> names, references;
  for (const auto& v : narrowed.variants) {
    weights[v.name] = v.weight;
    names.insert(v.name);
    references.insert(v.model);
  }
  if (narrowed.shadow) {
    names.insert(narrowed.shadow->name);
    references.insert(narrowed.shadow->model);
  }
  json& variants = resolved["serve"]["endpoints"][0]["variants"];
  json kept = json::array();
  for (auto& variant : variants) {
    auto it = weights.find(variant.at("name").get<std::string>());
    if (it == weights.end()) continue;
    variant["weight"] = it->second;
    kept.push_back(std::move(variant));
  }
  variants = std::move(kept);
  json models = json::object(), seen = json::object();
  for (const auto& [name, model] : resolved["models"].items()) {
    if (names.count(name)) models[name] = model;
  }
  const json aliases_seen = resolved.value("aliases_seen", json::object());
  for (const auto& [reference, version] : aliases_seen.items()) {
    if (references.count(reference)) seen[reference] = version;
  }
  resolved["models"] = std::move(models);
  resolved["aliases_seen"] = std::move(seen);
  resolved.erase("canary");
  return resolved;
}

CanaryVerdict JudgeCanaryStep(const CanarySpec& spec, const Tally& canary, const Tally& baseline,
                              const std::vector<double>& bounds, std::chrono::milliseconds elapsed) {
  CanaryVerdict verdict;
  const json c = canary.ToJson(bounds), b = baseline.ToJson(bounds);
  verdict.numbers = {{"canary", c},
                     {"baseline", b},
                     {"elapsed_ms", elapsed.count()},
                     {"thresholds",
                      {{"min_requests", spec.min_requests},
                       {"max_error_rate_increase", spec.max_error_rate_increase},
                       {"max_p99_ratio", spec.max_p99_ratio},
                       {"p99_floor_ms", spec.p99_floor_ms}}}};
  if (canary.requests < spec.min_requests || baseline.requests < spec.min_requests) {
    verdict.reason = fmt::format("waiting for traffic: canary {} and baseline {} requests of {} each",
                                 canary.requests, baseline.requests, spec.min_requests);
    return verdict;
  }
  const double c_rate = canary.ErrorRate(), b_rate = baseline.ErrorRate();
  const double c_p99 = c["p99_ms"].get<double>(), b_p99 = b["p99_ms"].get<double>();
  const double p99_limit = std::max(b_p99, spec.p99_floor_ms) * spec.max_p99_ratio;
  const std::string numbers =
      fmt::format("error rate {:.4f} vs baseline {:.4f} (allowed +{:.4f}), p99 {:.2f} ms vs baseline {:.2f} ms "
                  "(allowed {:.2f} ms), {} vs {} requests",
                  c_rate, b_rate, spec.max_error_rate_increase, c_p99, b_p99, p99_limit, canary.requests,
                  baseline.requests);
  if (c_rate - b_rate > spec.max_error_rate_increase) {
    verdict.kind = CanaryVerdict::Kind::kFail;
    verdict.reason = "error rate too high: " + numbers;
  } else if (c_p99 > p99_limit) {
    verdict.kind = CanaryVerdict::Kind::kFail;
    verdict.reason = "p99 latency too high: " + numbers;
  } else if (elapsed < spec.step_duration) {
    verdict.reason = fmt::format("healthy so far, step lasts {} ms more: {}", (spec.step_duration - elapsed).count(),
                                 numbers);
  } else {
    verdict.kind = CanaryVerdict::Kind::kPass;
    verdict.reason = "healthy: " + numbers;
  }
  return verdict;
}

void StepWindow::Observe(const std::vector<std::pair<std::string, json>>& replicas,
                         const std::map<std::string, std::string>& served, const std::string& canary_variant) {
  canary_ = {};
  baseline_ = {};
  for (const auto& [task_id, metrics] : replicas) {
    for (const auto& m : metrics) {
      const std::string variant = m.value("variant", "");
      const auto version = served.find(variant);
      if (m.value("role", "") != "primary" || version == served.end() || m.value("version", "") != version->second) {
        continue;
      }
      Tally now;
      now.Add(m);
      const Tally& then = first_seen_.try_emplace(task_id + "/" + variant, now).first->second;
      (variant == canary_variant ? canary_ : baseline_).Add(now.Since(then));
    }
  }
}

std::map<std::string, std::string> ServedVersions(const json& resolved) {
  std::map<std::string, std::string> served;
  for (const auto& v : resolved.at("serve").at("endpoints").at(0).at("variants")) {
    served[v.at("name").get<std::string>()] = v.at("version").get<std::string>();
  }
  return served;
}

}  // namespace wharf::control
