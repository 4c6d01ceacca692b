#pragma once
// Served endpoints, managed by the control plane: each change is a new
// revision (apply, rollback); a loop keeps every endpoint's replicas
// running through the Reconciler (as tasks of the `serve` job on the
// executor), hands each replica the latest revision over its admin port
// (the replica switches without dropping a request), scales between the
// spec's min and max on requests in flight, and gathers the replicas'
// metrics for the API. Decisions are recorded as endpoint events.
// Thread-safe: API threads call Apply/Rollback/Delete/Status/Metrics while
// the loop thread runs; each side has its own store.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "control/artifact_store.h"
#include "control/canary.h"
#include "control/endpoint_spec.h"
#include "control/job_registry.h"
#include "control/reconciler.h"
#include "control/scheduler.h"
#include "core/mutex.h"
#include "core/status.h"
#include "net/http_client.h"
#include "store/metadata_store.h"

namespace wharf::control {

struct EndpointOptions {
  std::filesystem::path home;  // replicas' configurations go to HOME/endpoints/NAME/
  std::chrono::milliseconds interval{250};  // how often the loop runs
};

// {"endpoint", "revision", "reason", "created", "active", "spec", "resolved"}.
nlohmann::json EndpointRevisionToJson(const store::EndpointRevision& revision);

class EndpointController {
 public:
  // `api_store` serves the API calls, `loop_store` the loop thread.
  EndpointController(std::unique_ptr<store::MetadataStore> api_store, std::unique_ptr<store::MetadataStore> loop_store,
                     Scheduler& scheduler, const JobRegistry& jobs, const ArtifactStore& artifacts,
                     EndpointOptions options);
  ~EndpointController();  // Stop()

  void Start();
  // Ends the loop; replicas keep running (a later server adopts them).
  void Stop();

  // A new revision for `spec_json` (the spec with its name), or the latest
  // unchanged when the spec is the same; `created` tells which.
  struct Applied {
    store::EndpointRevision revision;
    bool created = false;
  };
  Result<Applied> Apply(const nlohmann::json& spec_json);
  // A new revision carrying revision `to`'s spec and models (default: the
  // one before the latest, or during a canary rollout the one before the
  // rollout). A canary rollout stops there. NotFound / InvalidArgument
  // naming the revision.
  Result<store::EndpointRevision> Rollback(const std::string& endpoint, std::optional<int> to);
  // Marks the endpoint deleted; the loop stops its replicas.
  Status Delete(const std::string& endpoint);

  // {"name", "active", "url", "revision", "desired_replicas", "ready_replicas", "replicas": [...]}.
  Result<nlohmann::json> Describe(const std::string& endpoint);
  Result<nlohmann::json> List();
  Result<nlohmann::json> Metrics(const std::string& endpoint);
  // Prometheus text for the control plane's own /metrics: replicas and scaling per endpoint.
  std::string RenderMetrics() const;

  store::MetadataStore& store() { return *api_store_; }

 private:
  // What the loop last saw of one replica.
  struct Replica {
    std::string task_id;
    std::string state;
    std::string url, admin_url;
    std::optional<int> revision;  // what it serves; nullopt until it answers
    bool ready = false;
    double in_flight = 0;
    nlohmann::json metrics = nlohmann::json::array();  // per variant, from /admin/status
    std::vector<double> latency_bounds;               // of the histograms in `metrics`, seconds
    std::string error;            // its last reload error
  };
  // What the loop keeps per endpoint.
  struct Observed {
    int desired = 0;
    int revision = 0;
    std::vector<Replica> replicas;
    double load = 0;  // requests in flight over all replicas, smoothed
    std::int64_t last_scale_us = 0;
    std::uint64_t scale_ups = 0, scale_downs = 0;
    std::uint64_t restarts = 0;
    StepWindow canary_window;  // of the current canary step
    CanaryVerdict canary;      // the guard's last verdict on it
    std::optional<CanaryState> rollout;  // the latest revision's, if it is a canary step

    // Replicas ready on `revision` (the latest).
    int Ready() const;
  };
  // How the loop reaches one replica: its replica.json, read once, and a
  // kept-alive client for its admin port.
  struct Link {
    std::string url, admin_url;
    std::string admin_token;  // the replica's own, from its announcement: reloads carry it
    std::unique_ptr<net::HttpClient> client;
  };

  void Loop();
  void Tick();
  Status TickEndpoint(const store::EndpointRevision& latest, std::int64_t now_us, Observed& observed);
  Status WriteCurrentConfig(const store::EndpointRevision& latest);
  Status EnsureDefinition(const EndpointSpec& spec);
  int DesiredReplicas(const EndpointSpec& spec, const Observed& observed, std::int64_t now_us, Observed& next);
  // Judges the current step of a canary rollout and, when it is decided,
  // moves on to the next step, promotes, or rolls back.
  Status GuardCanary(const store::EndpointRevision& latest, const EndpointSpec& spec, const nlohmann::json& resolved,
                     const CanaryState& state, std::int64_t now_us, Observed& next);
  Status RollBackCanary(const store::EndpointRevision& latest, const EndpointSpec& spec, const CanaryState& state,
                        const std::string& why, const nlohmann::json& numbers);
  // A new revision re-resolving the spec when a model alias it names has moved.
  Status FollowAliases(const store::EndpointRevision& latest, const EndpointSpec& spec, const nlohmann::json& resolved);
  // Appends a revision the loop decided on, unless the latest revision is no
  // longer `latest` (an API call got there first); records `event` with it.
  Status AppendFromLoop(const store::EndpointRevision& latest, const std::string& spec_json,
                        const nlohmann::json& resolved, const std::string& reason, const std::string& event_kind,
                        const nlohmann::json& details);
  Replica Observe(const store::TaskRecord& task, const store::EndpointRevision& latest);
  // The link to a running replica, or null while it has not announced itself.
  Link* LinkTo(const std::string& task_id);
  void Event(const std::string& endpoint, const std::string& kind, const std::string& message,
             const nlohmann::json& details);

  std::unique_ptr<store::MetadataStore> api_store_, loop_store_;
  const ArtifactStore& artifacts_;
  const EndpointOptions options_;
  Reconciler reconciler_;
  Mutex api_mu_;  // serializes Apply/Rollback (read latest, then append)

  mutable Mutex mu_;
  std::map<std::string, Observed> observed_ WHARF_GUARDED_BY(mu_);
  // Owned by the loop thread.
  std::map<std::string, int> written_;        // revision of current.json per endpoint
  std::set<std::string> stopped_;             // deleted endpoints whose replicas are all stopped
  std::map<std::string, Link> links_;         // by task id, for live replicas
  std::condition_variable wake_;
  bool stopping_ WHARF_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace wharf::control
