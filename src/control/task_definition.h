#pragma once
// A task definition's body, parsed and checked: either a built-in job with
// parameters or a command, plus resources, environment, artifact inputs and
// outputs, count, retries and timeout (docs/control-plane.md lists the
// fields). Definitions are stored as canonical JSON (DefinitionToJson), so
// an unchanged definition registers as the same revision.
// Plain values and stateless functions: thread-safe.

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "exec/task_spec.h"

namespace wharf::control {

class JobRegistry;

inline constexpr int kMaxCount = 10000;

// The secrets a definition's tasks receive, by secret name (see
// secret::SecretStore): as environment variables, or as files (0600) in
// the directory $WHARF_SECRETS_DIR, which is removed when the task ends.
// Values are read when each attempt starts, so a changed secret reaches
// the next task.
struct SecretRefs {
  std::map<std::string, std::string> env;    // variable -> secret
  std::map<std::string, std::string> files;  // file name -> secret

  bool empty() const { return env.empty() && files.empty(); }
};

// How a definition runs as a service (`wharf service create`): instances
// kept at `desired`, each given a port and watched by a health check.
struct ServiceSpec {
  // What a probe runs: an HTTP GET of `http_path` on the instance's port
  // (any 2xx or 3xx is healthy) or `command` (exit 0 is healthy).
  struct Health {
    std::string http_path;
    std::vector<std::string> command;
    std::chrono::milliseconds interval{10'000};     // between probes
    std::chrono::milliseconds timeout{5'000};       // a probe that takes longer failed
    int retries = 3;                                // consecutive failures that make it unhealthy (then restarted)
    std::chrono::milliseconds start_period{0};      // failures after the start do not count this long
  };
  enum class Restart { kAlways, kOnFailure };
  enum class Port { kNone, kAuto, kFixed };

  int desired = 1;
  Port port = Port::kNone;
  int fixed_port = 0;  // when port is kFixed
  std::optional<Health> health;
  Restart restart = Restart::kAlways;  // on-failure: an instance that exits 0 is not replaced
};

struct DefinitionSpec {
  std::string job;                    // a built-in job's name, or empty when `command` is set
  nlohmann::json params = nlohmann::json::object();  // the job's parameters
  std::vector<std::string> command;   // argv when there is no job
  std::string model;                  // for a job that produces a model: the name it registers under
  exec::Resources resources;
  std::map<std::string, std::string> env;
  std::map<std::string, std::string> inputs;  // variable suffix -> artifact name
  std::vector<std::string> outputs;           // files the task must leave in its output dir
  int count = 1;
  int retries = 0;
  std::chrono::milliseconds retry_backoff{1000};
  std::optional<std::chrono::milliseconds> timeout;
  std::string executor;  // "local" or "slurm"; empty: the server's default
  SecretRefs secrets;
  std::optional<ServiceSpec> service;
};

// Parses and checks a definition body (without "name"). InvalidArgument
// naming the field, e.g. "resources.cpus: must be > 0"; jobs are checked
// against `jobs` (unknown job, missing or unknown params).
Result<DefinitionSpec> ParseDefinition(const nlohmann::json& body, const JobRegistry& jobs);

// The canonical JSON of `spec`: every field, in one order, durations in
// milliseconds and memory in bytes, so equal definitions are equal bytes.
nlohmann::json DefinitionToJson(const DefinitionSpec& spec);

// The canonical JSON of a service block (part of DefinitionToJson).
nlohmann::json ServiceToJson(const ServiceSpec& service);

// RFC 7386 JSON merge patch: `patch`'s members replace `target`'s, null
// deletes, objects merge recursively, anything else replaces.
void MergePatch(nlohmann::json& target, const nlohmann::json& patch);

// "500ms", "30s", "10m", "2h", or a number of seconds. InvalidArgument
// naming `field` otherwise, or for a value <= 0.
Result<std::chrono::milliseconds> ParseDuration(const nlohmann::json& value, std::string_view field);
// Bytes as a number, or "512MiB", "2GiB", "100MB", "64k". InvalidArgument naming `field`.
Result<std::uint64_t> ParseBytes(const nlohmann::json& value, std::string_view field);

// Replaces each "$(NAME)" in `arg` with env[NAME] when NAME is set; "$$(" is
// a literal "$(", and an unset NAME stays as written (as Kubernetes does).
// Nothing else is interpreted: the result is one argv element.
std::string ExpandEnvReferences(std::string_view arg, const std::map<std::string, std::string>& env);

}  // namespace wharf::control
