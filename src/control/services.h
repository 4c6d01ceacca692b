#pragma once
// Long-running services (`wharf service`): a task definition with a
// `service` block run as `desired` instances that the control plane keeps
// up. A loop (every `interval`) hands each service to the Reconciler, which
// starts missing instances (with a crash-loop backoff) and stops surplus
// ones; gives each new instance its port ($WHARF_PORT: a free one, never
// one another live instance holds, or the fixed one); probes every running
// instance's health and restarts one that fails `retries` probes in a row
// (after its start period); and keeps what it saw for Describe: instance
// health, restarts and recent events. Endpoints are the other kind of
// service, kept by the same Reconciler (EndpointController).
// Thread-safe: API threads call Create/Scale/Stop/Describe/List while the
// loop thread runs; each side has its own store.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "control/artifact_store.h"
#include "control/job_registry.h"
#include "control/reconciler.h"
#include "control/scheduler.h"
#include "control/task_definition.h"
#include "core/mutex.h"
#include "core/status.h"
#include "store/metadata_store.h"

namespace wharf::control {

struct ServiceOptions {
  std::chrono::milliseconds interval{250};  // how often the loop runs
  std::string probe_host = "127.0.0.1";     // where instances listen (local and this machine's Slurm nodes)
};

// "service:NAME": the group of a service's instances (':' is never in a
// name, so it never meets an endpoint's "service.NAME").
std::string InstanceGroup(std::string_view service);

class ServiceController {
 public:
  ServiceController(std::unique_ptr<store::MetadataStore> api_store, std::unique_ptr<store::MetadataStore> loop_store,
                    Scheduler& scheduler, const JobRegistry& jobs, const ArtifactStore& artifacts,
                    ServiceOptions options);
  ~ServiceController();  // Stop()

  void Start();
  // Ends the loop; instances keep running (a later server adopts them).
  void Stop();

  // Creates (or restarts a stopped) service `name` running `definition`,
  // whose latest revision must have a `service` block; `desired` overrides
  // its count. AlreadyExists for a running service of that name.
  Result<nlohmann::json> Create(const std::string& name, const std::string& definition, std::optional<int> desired);
  Result<nlohmann::json> Scale(const std::string& name, int desired);
  // Stops every instance; the service is kept, inactive, for Describe.
  Result<nlohmann::json> StopService(const std::string& name);
  // {"name", "definition", "active", "desired", "running", "healthy",
  //  "restarts": {"crashed", "unhealthy"}, "instances": [...], "events": [...]}.
  Result<nlohmann::json> Describe(const std::string& name);
  Result<nlohmann::json> List();

 private:
  // What the loop knows of one instance.
  struct Instance {
    std::string task_id;
    std::string state;
    int port = 0;
    std::int64_t started_us = 0;
    std::string health = "starting";  // starting | healthy | unhealthy | none (no check)
    bool answered = false;            // has passed a check: its start period is over
    int failures = 0;                 // consecutive
    std::string last_error;
    std::int64_t last_probe_us = 0;
    bool restarting = false;  // stopped for failing its checks; a replacement follows
  };
  // What the loop keeps per service.
  struct Observed {
    std::vector<Instance> instances;
    std::uint64_t crashed = 0;             // instances that ended in failure and were replaced
    std::uint64_t unhealthy_restarts = 0;  // instances stopped for failing their checks
    std::deque<nlohmann::json> events;  // newest last, at most kMaxEvents
  };

  void Loop();
  void Tick();
  Status TickService(const store::ServiceRecord& record, std::int64_t now_us, Observed& observed);
  // A port for a new instance: free now and held by no live instance.
  Result<int> AllocatePort();
  void Probe(const ServiceSpec& service, const store::TaskRecord& task, std::int64_t now_us, Instance& instance);
  static void Event(Observed& observed, std::int64_t now_us, const std::string& message);

  std::unique_ptr<store::MetadataStore> api_store_, loop_store_;
  Scheduler& scheduler_;
  const JobRegistry& jobs_;
  const ServiceOptions options_;
  Reconciler reconciler_;
  Mutex api_mu_;  // serializes Create/Scale/Stop (read, then write)

  mutable Mutex mu_;
  std::map<std::string, Observed> observed_ WHARF_GUARDED_BY(mu_);
  // Owned by the loop thread.
  std::map<std::string, Instance> health_;    // by task id, across ticks
  std::set<int> ports_in_use_;                // of live instances, as of this tick
  std::map<std::string, std::int64_t> seen_update_;  // updated_us of each service as last ticked
  std::condition_variable wake_;
  bool stopping_ WHARF_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace wharf::control
