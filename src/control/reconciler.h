#pragma once
// Keeps long-running services at their replica counts. A service is a task
// definition whose tasks never end on their own (a model server, later any
// daemon) and a number of instances; its tasks share the group id
// "service.NAME". Each pass starts the instances that are missing (one that
// crashed is missing), stops the surplus (newest first), and backs off
// (doubling, up to a minute) while instances keep dying young, so a broken
// service does not spin. Knows nothing of what the tasks do.
// Not thread-safe: one owner thread calls Reconcile.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "control/artifact_store.h"
#include "control/job_registry.h"
#include "control/scheduler.h"
#include "core/status.h"
#include "store/metadata_store.h"

namespace wharf::control {

// What one service should be.
struct ServiceTarget {
  std::string name;        // the service
  std::string definition;  // task definition its instances run (latest revision)
  int replicas = 0;        // 0 stops every instance
  // When set, each new instance is its own run with these overrides (a
  // JSON merge patch: its port); otherwise they start as one run.
  std::function<Result<nlohmann::json>()> instance_overrides = {};
  std::string group = {};  // its tasks' group id; empty: ServiceGroup(name)
};

// "service.NAME": the group of an endpoint's replicas.
std::string ServiceGroup(std::string_view service);

class Reconciler {
 public:
  Reconciler(store::MetadataStore& store, Scheduler& scheduler, const JobRegistry& jobs,
             const ArtifactStore& artifacts);

  // One pass for `target` at `now_us`: returns its live (PENDING or
  // RUNNING) instances after the pass, oldest first, stopping ones excluded.
  Result<std::vector<store::TaskRecord>> Reconcile(const ServiceTarget& target, std::int64_t now_us);

  // Forgets `service`'s crash-loop backoff: its owner changed it (a new
  // revision, a restart), so the next pass starts what is missing at once.
  void ResetBackoff(const std::string& service) { backoff_.erase(service); }

  // The instances started (restarts included) and stopped so far, per service.
  struct Counts {
    std::uint64_t started = 0, stopped = 0, crashed = 0;
  };
  const std::map<std::string, Counts>& counts() const { return counts_; }

 private:
  struct Backoff {
    std::int64_t not_before_us = 0;
    std::chrono::milliseconds delay{0};
    std::int64_t last_failure_seen_us = 0;
  };
  // Notices instances that ended since the last pass and sets the backoff.
  Status NoteFailures(const ServiceTarget& target, Backoff& backoff, std::int64_t now_us);

  store::MetadataStore& store_;
  Scheduler& scheduler_;
  const JobRegistry& jobs_;
  const ArtifactStore& artifacts_;
  std::map<std::string, Backoff> backoff_;
  std::map<std::string, std::int64_t> stopping_;  // task id -> when its stop was requested
  std::map<std::string, Counts> counts_;
};

}  // namespace wharf::control
