#pragma once
// An endpoint as users write it (`wharf endpoint apply spec.yaml`): variants
// naming registered models by version or alias, shadow, routing, capture,
// where it listens and how many replicas serve it. docs/control-plane.md
// lists the fields. Resolving a spec pins every model reference to a
// version and Modelfile, giving the configuration replicas load.
// Free functions; thread-safe.

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "store/metadata_store.h"

namespace wharf::control {

// One model version behind an endpoint: `model` is "NAME@VERSION" or "NAME@ALIAS".
struct EndpointVariantSpec {
  std::string name;
  std::string model;
  double weight = 1;
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
  ReplicaSpec replicas;
};

// Parses and checks a spec (with its "name"). InvalidArgument naming the
// field, e.g. "variants[1].weight: must be a number > 0".
Result<EndpointSpec> ParseEndpointSpec(const nlohmann::json& body);

// The canonical JSON of `spec`: every field in one order, durations in
// milliseconds, so equal specs are equal bytes.
nlohmann::json EndpointSpecToJson(const EndpointSpec& spec);

// What replicas load for `spec` at `revision`: the serve configuration
// (serve/config.h) with each model reference resolved in `store`, plus
// "models": variant name -> "NAME@VERSION" pinned. NotFound naming the
// variant and reference that resolves to nothing.
Result<nlohmann::json> ResolveEndpoint(const EndpointSpec& spec, int revision, store::MetadataStore& store);

// The serve configuration inside a resolved document, with its revision
// set to `revision` (a rollback re-uses an older revision's resolution).
nlohmann::json ServeConfigOf(const nlohmann::json& resolved, int revision);

}  // namespace wharf::control
