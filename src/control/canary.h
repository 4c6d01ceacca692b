#pragma once
// The canary guard's arithmetic, apart from the loop that drives it
// (EndpointController): what a canary variant and its baseline served
// during one step, counted from the replicas' cumulative counters; the
// verdict on a step; and the resolved documents of a step, a promotion and
// a fall-back to the baseline. Value types and free functions; not
// thread-safe by themselves.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "control/endpoint_spec.h"

namespace wharf::control {

// Requests, errors and a latency histogram of some variants, summed over replicas.
struct Tally {
  std::uint64_t requests = 0, errors = 0;
  std::vector<std::uint64_t> buckets;  // observations per latency bucket, +Inf last

  // Adds one entry of a replica's /admin/status "metrics".
  void Add(const nlohmann::json& metric);
  void Add(const Tally& other);
  // What was counted since `earlier`, a snapshot of the same counters.
  Tally Since(const Tally& earlier) const;
  double ErrorRate() const;
  // {"requests", "errors", "error_rate", "p50_ms", "p99_ms"}; `bounds` are the buckets' upper bounds in seconds.
  nlohmann::json ToJson(const std::vector<double>& bounds) const;
};

// The latency quantile `q` of histogram `counts` over `bounds` (seconds;
// counts has one more entry, the +Inf bucket), in milliseconds, as
// Prometheus' histogram_quantile estimates it. 0 without observations.
double QuantileMs(const std::vector<std::uint64_t>& counts, const std::vector<double>& bounds, double q);

// Where a canary rollout stands: kept in each of its revisions' resolved
// document under "canary", so the rollout outlives a server restart.
struct CanaryState {
  std::string variant;
  std::vector<double> steps;  // percent, the last 100
  int step = 1;               // 1-based: steps[step - 1] is the canary's share now
  int from_revision = 0;      // the revision before the rollout began; 0 when there was none

  double percent() const { return steps[step - 1]; }
  nlohmann::json ToJson() const;
};
// The canary state of a resolved document, or nullopt when it has none.
std::optional<CanaryState> CanaryOf(const nlohmann::json& resolved);

// `resolved` (of `spec`, which has a canary) at `state`'s step: the canary
// gets that percent of traffic and the baseline variants share the rest in
// the proportions of their weights; the state is recorded in it.
nlohmann::json AtCanaryStep(nlohmann::json resolved, const EndpointSpec& spec, const CanaryState& state);

// The endpoint once the canary has passed every step: only the canary
// variant, no longer a canary.
EndpointSpec PromotedSpec(EndpointSpec spec);
// The endpoint without its canary: the baseline variants at their weights.
EndpointSpec BaselineSpec(EndpointSpec spec);
// `resolved` cut down to `narrowed`'s variants (a promoted or baseline spec
// of the spec it was resolved from), at their weights, keeping the models
// pinned then, without canary state.
nlohmann::json NarrowedTo(nlohmann::json resolved, const EndpointSpec& narrowed);

// What one step's counters say.
struct CanaryVerdict {
  enum class Kind { kWait, kPass, kFail };
  Kind kind = Kind::kWait;
  std::string reason;       // the comparison in words, with its numbers
  nlohmann::json numbers;   // {"canary": Tally, "baseline": Tally, "elapsed_ms", "thresholds"}
};
CanaryVerdict JudgeCanaryStep(const CanarySpec& spec, const Tally& canary, const Tally& baseline,
                              const std::vector<double>& bounds, std::chrono::milliseconds elapsed);

// What the canary and the baseline have served since a step's revision
// reached the replicas. Each replica's counters of each variant count from
// when the window first saw them, so traffic routed under the previous
// step's weights is left out; only the versions the step serves count (a
// replica keeps counters of versions it served before).
class StepWindow {
 public:
  StepWindow() = default;
  StepWindow(int revision, std::int64_t started_us) : revision_(revision), started_us_(started_us) {}

  int revision() const { return revision_; }
  std::int64_t started_us() const { return started_us_; }

  // Recounts from `replicas`: (task id, its /admin/status "metrics") of
  // every replica serving the window's revision; `served` maps each
  // variant of the revision to its version.
  void Observe(const std::vector<std::pair<std::string, nlohmann::json>>& replicas,
               const std::map<std::string, std::string>& served, const std::string& canary_variant);
  const Tally& canary() const { return canary_; }
  const Tally& baseline() const { return baseline_; }

 private:
  int revision_ = 0;
  std::int64_t started_us_ = 0;
  std::map<std::string, Tally> first_seen_;  // by "task/variant": its counters then
  Tally canary_, baseline_;
};

// Variant name -> served version, from a resolved document.
std::map<std::string, std::string> ServedVersions(const nlohmann::json& resolved);

}  // namespace wharf::control
