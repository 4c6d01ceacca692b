#pragma once
// An endpoint as users write it (`wharf endpoint apply spec.yaml`): variants
// naming registered models by version or alias, shadow, routing, capture,
// where it listens and how many replicas serve it. docs/control-plane.md
// lists the fields. Resolving a spec pins every model reference to a
// version and Modelfile, giving the configuration replicas load.
// Free functions; thread-safe.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "store/metadata_store.h"

namespace wharf::control {

// A variant rolled out step by step. Its share of traffic climbs through
// `steps` (percent; the last is 100, the promotion). A step lasts at least
// `step_duration`, and until the canary and the baseline (the other
// variants) have each served `min_requests` in it; the canary fails a step
// when its error rate exceeds the baseline's by more than
// `max_error_rate_increase`, or its p99 latency exceeds `max_p99_ratio`
// times the baseline's (never judged below `p99_floor_ms`, where
// histogram buckets are noise). A failure rolls the endpoint back.
struct CanarySpec {
  std::vector<double> steps{5, 25, 50, 100};
  std::chrono::milliseconds step_duration{60000};
  std::uint64_t min_requests = 100;
  double max_error_rate_increase = 0.01;
  double max_p99_ratio = 1.5;
  double p99_floor_ms = 5;
};

// One model version behind an endpoint: `model` is "NAME@VERSION" or "NAME@ALIAS".
struct EndpointVariantSpec {
  std::string name;
  std::string model;
  double weight = 1;
  std::optional<CanarySpec> canary;  // at most one variant of an endpoint
};

// How many replicas serve an endpoint, and when to add or remove one.
struct ReplicaSpec {
  int min = 1;
  int max = 1;
  double cpus = 0.5;            // declared per replica (the scheduler reserves them)
  double target_in_flight = 0;  // per replica; 0: no autoscaling (min replicas)
  std::chrono::milliseconds cooldown{30000};  // between two scaling decisions
};

struct EndpointSpec {
  std::string name;
  std::string host = "127.0.0.1";
  int port = 8080;  // shared by the replicas (SO_REUSEPORT)
  std::vector<EndpointVariantSpec> variants;
  std::optional<EndpointVariantSpec> shadow;
  std::string sticky_header;
  std::map<std::string, std::string> aliases;
  std::string capture_mode = "async";  // off | async | durable
  double sample_percent = 100;
  // Dynamic batching of each replica's variants (0: off): serve's `batching`.
  int max_batch_size = 0;
  std::int64_t max_queue_delay_us = 1000;
  ReplicaSpec replicas;
  // A new revision follows a model alias a variant names when the alias moves.
  bool follow_aliases = true;

  // The canary variant, or null.
  const EndpointVariantSpec* Canary() const;
};

// Parses and checks a spec (with its "name"). InvalidArgument naming the
// field, e.g. "variants[1].weight: must be a number > 0".
Result<EndpointSpec> ParseEndpointSpec(const nlohmann::json& body);

// The canonical JSON of `spec`: every field in one order, durations in
// milliseconds, so equal specs are equal bytes.
nlohmann::json EndpointSpecToJson(const EndpointSpec& spec);

// What replicas load for `spec` at `revision`: the serve configuration
// (serve/config.h) with each model reference resolved in `store`, plus
// "models": variant name -> "NAME@VERSION" pinned, and "aliases_seen":
// "NAME@ALIAS" -> the version it named then. NotFound naming the variant
// and reference that resolves to nothing.
Result<nlohmann::json> ResolveEndpoint(const EndpointSpec& spec, int revision, store::MetadataStore& store);

// A model alias that names another version than when a revision was resolved.
struct MovedAlias {
  std::string reference;  // "NAME@ALIAS"
  int from = 0, to = 0;
};
// The aliases in `resolved`'s "aliases_seen" that have moved since (an
// alias since removed has not moved: serving stays as it is).
Result<std::vector<MovedAlias>> MovedAliases(const nlohmann::json& resolved, store::MetadataStore& store);
// `resolved` with "aliases_seen" brought up to date, its models unchanged:
// an older resolution re-used (a rollback) follows only later moves.
Result<nlohmann::json> WithAliasesSeenNow(nlohmann::json resolved, store::MetadataStore& store);

// The serve configuration inside a resolved document, with its revision
// set to `revision` (a rollback re-uses an older revision's resolution).
nlohmann::json ServeConfigOf(const nlohmann::json& resolved, int revision);

}  // namespace wharf::control
