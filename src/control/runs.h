#pragma once
// Starting a run: the tasks one request (`wharf run`, the API, the
// reconciler) makes from a task definition, checked and stored PENDING for
// the scheduler. Free function; thread-safe as far as the store is.

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "control/artifact_store.h"
#include "control/job_registry.h"
#include "core/status.h"
#include "store/metadata_store.h"

namespace wharf::control {

struct RunRequest {
  std::string definition;
  std::optional<int> revision;            // nullopt: the latest (refused when deregistered)
  nlohmann::json overrides = nullptr;     // a JSON merge patch on the definition's spec, or null
  std::optional<int> count;               // nullopt: the definition's count
  std::string group_id;                   // empty: a new group
};

// Stores the run's tasks PENDING (the caller wakes the scheduler) and
// returns them. NotFound for an unknown definition or reference;
// FailedPrecondition for a deregistered one run without a revision;
// InvalidArgument naming the field for a bad override or count.
Result<std::vector<store::TaskRecord>> SubmitRun(store::MetadataStore& store, const JobRegistry& jobs,
                                                 const ArtifactStore& artifacts, const RunRequest& request);

}  // namespace wharf::control
