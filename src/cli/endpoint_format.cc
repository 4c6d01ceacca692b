#include "cli/endpoint_format.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "cli/control_flags.h"

namespace wharf::cli {

namespace {

using nlohmann::json;

const json& Member(const json& j, const char* key) {
  static const json kNull;
  return j.is_object() && j.contains(key) ? j[key] : kNull;
}

const json& Array(const json& j, const char* key) {
  static const json kEmpty = json::array();
  const json& member = Member(j, key);
  return member.is_array() ? member : kEmpty;
}

bool Bool(const json& j, const char* key, bool otherwise) {
  const json& member = Member(j, key);
  return member.is_boolean() ? member.get<bool>() : otherwise;
}

// A number as text: whole numbers without decimals (in flight: 2), others
// with two (p50: 1.25).
std::string Number(const json& j, const char* key) {
  const json& member = Member(j, key);
  if (!member.is_number_float()) return Str(j, key);
  const double value = member.get<double>();
  return value == std::round(value) ? fmt::format("{:.0f}", value) : fmt::format("{:.2f}", value);
}

std::string YesNo(const json& j, const char* key) {
  const json& member = Member(j, key);
  return member.is_boolean() ? (member.get<bool>() ? "yes" : "no") : "";
}

// "4", or "" when there is none.
std::string RevisionText(const json& revision) {
  const long long number = RevisionNumber(revision);
  return number > 0 ? std::to_string(number) : "";
}

// The weight variant `name` is served with: what the revision resolved
// (a canary step sets it), else the spec's.
double Weight(const json& variant, const json& resolved) {
  for (const auto& e : Array(Member(resolved, "serve"), "endpoints")) {
    for (const auto& v : Array(e, "variants")) {
      const json& weight = Member(v, "weight");
      if (Str(v, "name") == Str(variant, "name") && weight.is_number()) return weight.get<double>();
    }
  }
  const json& weight = Member(variant, "weight");
  return weight.is_number() ? weight.get<double>() : 1;  // the server's default weight
}

std::string Percent(double share) {
  const double percent = share * 100;
  return std::abs(percent - std::round(percent)) < 0.05 ? fmt::format("{:.0f}%", percent)
                                                        : fmt::format("{:.1f}%", percent);
}

bool AllDigits(const std::string& s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
}

// The version "resolved" pinned variant (or shadow) `name` to: its "models"
// map holds "NAME@VERSION" per variant. "" when it does not say.
std::string ResolvedVersion(const json& resolved, const std::string& name) {
  const json& pinned = Member(Member(resolved, "models"), name.c_str());
  const std::string model = pinned.is_string() ? pinned.get<std::string>() : "";
  const auto at = model.rfind('@');
  return at != std::string::npos && AllDigits(model.substr(at + 1)) ? model.substr(at + 1) : "";
}

// "wine@3", or "wine@production→5" when an alias was pinned to version 5.
std::string ModelText(const json& variant, const json& resolved) {
  const std::string model = Str(variant, "model");
  const std::string version = ResolvedVersion(resolved, Str(variant, "name"));
  const auto at = model.rfind('@');
  if (version.empty() || (at != std::string::npos && model.substr(at + 1) == version)) return model;
  return model + "→" + version;
}

}  // namespace

long long RevisionNumber(const json& revision) {
  if (revision.is_number_integer()) return revision.get<long long>();
  if (revision.is_object()) return RevisionNumber(Member(revision, "revision"));
  return 0;
}

std::string VariantSummary(const json& revision) {
  const json& spec = Member(revision, "spec");
  const json& resolved = Member(revision, "resolved");
  const json& variants = Array(spec, "variants");
  double total = 0;
  for (const auto& v : variants) total += Weight(v, resolved);
  std::vector<std::string> parts;
  for (const auto& v : variants) {
    parts.push_back(fmt::format("{} {} {}{}", Str(v, "name"), ModelText(v, resolved),
                                total > 0 ? Percent(Weight(v, resolved) / total) : "?",
                                Member(v, "canary").is_object() ? " (canary)" : ""));
  }
  const json& shadow = Member(spec, "shadow");
  if (shadow.is_object()) {
    parts.push_back(fmt::format("shadow {} {}", Str(shadow, "name"), ModelText(shadow, resolved)));
  }
  return fmt::format("{}", fmt::join(parts, ", "));
}

Rollout CheckRollout(const json& status, const json& target) {
  const long long revision = RevisionNumber(target);
  const json& desired = Member(status, "desired_replicas");
  const json& min = Member(Member(Member(target, "spec"), "replicas"), "min");
  Rollout rollout;
  rollout.desired = std::max(desired.is_number_integer() ? desired.get<int>() : 0,
                             min.is_number_integer() ? min.get<int>() : 1);
  for (const auto& replica : Array(status, "replicas")) {
    const long long served = RevisionNumber(Member(replica, "revision"));
    if (served == revision && Bool(replica, "ready", false)) {
      ++rollout.ready;
      continue;
    }
    const std::string state = Str(replica, "state");
    const std::string why = served == 0          ? "starting"
                            : served != revision ? fmt::format("serving revision {}", served)
                                                 : "not ready";
    const std::string error = Str(replica, "error");
    rollout.waiting.push_back(fmt::format("task {} ({}{}){}", Str(replica, "task_id"), state.empty() ? "" : state + ", ",
                                          why, error.empty() ? "" : ": " + error));
  }
  return rollout;
}

void PrintEndpointList(const json& answer, const std::string& url) {
  const json& endpoints = Array(answer, "endpoints");
  if (endpoints.empty()) {
    fmt::print("No endpoints at {}\n", url);
    return;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& e : endpoints) {
    rows.push_back({Str(e, "name") + (Bool(e, "active", true) ? "" : " (deleted)"), RevisionText(Member(e, "revision")),
                    fmt::format("{}/{}", Str(e, "ready_replicas"), Str(e, "desired_replicas")), Str(e, "url")});
  }
  PrintTable({"NAME", "REVISION", "READY", "URL"}, rows);
}

void PrintEndpointStatus(const json& status) {
  const json& revision = Member(status, "revision");
  fmt::print("Endpoint {}{}\n", Str(status, "name"), Bool(status, "active", true) ? "" : " (deleted)");
  fmt::print("  URL:       {}\n", Str(status, "url"));
  fmt::print("  Revision:  {} ({}, created {})\n", RevisionText(revision), Str(revision, "reason"),
             Str(revision, "created"));
  const std::string restarts = Str(status, "restarts");
  fmt::print("  Replicas:  {} ready of {} desired{}\n", Str(status, "ready_replicas"), Str(status, "desired_replicas"),
             restarts.empty() || restarts == "0" ? "" : fmt::format(" ({} restarted)", restarts));
  if (const json& canary = Member(status, "canary"); canary.is_object()) {
    const std::size_t steps = Array(canary, "steps").size();
    fmt::print("  Canary:    {} at {}, step {}/{}{}\n", Str(canary, "variant"), Number(canary, "percent") + "%",
               Str(canary, "step"), steps > 0 ? steps - 1 : 0,
               Str(canary, "from_revision") == "0" ? "" : ", rolls back to revision " + Str(canary, "from_revision"));
    if (const std::string reading = Str(canary, "status"); !reading.empty()) fmt::print("             {}\n", reading);
  }
  const json& replicas = Array(status, "replicas");
  if (replicas.empty()) return;
  std::vector<std::vector<std::string>> rows;
  for (const auto& r : replicas) {
    const std::string served = RevisionText(Member(r, "revision"));
    rows.push_back({Str(r, "task_id"), Str(r, "state"), Str(r, "url"), Str(r, "admin_url"),
                    served.empty() ? "-" : served, YesNo(r, "ready"), Number(r, "in_flight")});
  }
  PrintTable({"TASK", "STATE", "URL", "ADMIN URL", "REVISION", "READY", "IN FLIGHT"}, rows);
  for (const auto& r : replicas) {
    if (const std::string error = Str(r, "error"); !error.empty()) fmt::print("{}: {}\n", Str(r, "task_id"), error);
  }
}

void PrintHistory(const json& answer) {
  const json& revisions = Array(answer, "revisions");
  if (revisions.empty()) {
    fmt::print("No revisions\n");
    return;
  }
  std::vector<std::vector<std::string>> rows;
  for (std::size_t i = 0; i < revisions.size(); ++i) {
    const json& r = revisions[i];
    // Revisions come oldest first: the last one is served unless the endpoint was deleted.
    const bool current = i + 1 == revisions.size() && Bool(r, "active", true);
    rows.push_back({RevisionText(r) + (current ? " (current)" : ""), Str(r, "created"), Str(r, "reason"),
                    VariantSummary(r)});
  }
  PrintTable({"REVISION", "CREATED", "REASON", "VARIANTS"}, rows);
}

void PrintMetrics(const json& metrics) {
  fmt::print("Endpoint {}: revision {}, {} replica{}\n", Str(metrics, "endpoint"), Str(metrics, "revision"),
             Str(metrics, "replicas"), Str(metrics, "replicas") == "1" ? "" : "s");
  fmt::print("  Requests {}, errors {}, in flight {}, p50 {} ms, p99 {} ms\n", Str(metrics, "requests"),
             Str(metrics, "errors"), Number(metrics, "in_flight"), Number(metrics, "p50_ms"), Number(metrics, "p99_ms"));
  std::vector<std::vector<std::string>> rows;
  for (const auto& v : Array(metrics, "variants")) {
    const json& requests = Member(v, "requests");
    const json& errors = Member(v, "errors");
    const bool rate = requests.is_number() && errors.is_number() && requests.get<double>() > 0;
    rows.push_back({Str(v, "name"), Str(v, "version"), Str(v, "requests"), Str(v, "errors"),
                    rate ? Percent(errors.get<double>() / requests.get<double>()) : "-", Number(v, "p50_ms"),
                    Number(v, "p99_ms")});
  }
  if (!rows.empty()) {
    fmt::print("\n");
    PrintTable({"VARIANT", "VERSION", "REQUESTS", "ERRORS", "ERROR RATE", "P50 MS", "P99 MS"}, rows);
  }
  rows.clear();
  for (const auto& r : Array(metrics, "per_replica")) {
    const std::string served = RevisionText(Member(r, "revision"));
    rows.push_back({Str(r, "task_id"), Str(r, "admin_url"), served.empty() ? "-" : served, Str(r, "requests"),
                    Str(r, "errors"), Number(r, "in_flight")});
  }
  if (!rows.empty()) {
    fmt::print("\n");
    PrintTable({"TASK", "ADMIN URL", "REVISION", "REQUESTS", "ERRORS", "IN FLIGHT"}, rows);
  }
}

void PrintEvents(const json& answer) {
  const json& events = Array(answer, "events");
  if (events.empty()) {
    fmt::print("No events\n");
    return;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& e : events) rows.push_back({Str(e, "seq"), Str(e, "time"), Str(e, "kind"), Str(e, "message")});
  PrintTable({"SEQ", "TIME", "KIND", "MESSAGE"}, rows);
}

}  // namespace wharf::cli
