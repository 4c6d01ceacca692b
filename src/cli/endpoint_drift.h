#pragma once
// Builds `wharf drift`'s report for an endpoint: the training data summary in
// its Modelfile, its captures over a range parsed with the server's own
// parsers, and each feature's drift. `wharf drift` and the control plane's
// GET /api/endpoints/NAME/drift (through MakeDriftReporter) both run it.
// Stateless functions: thread-safe (each call opens its own stores).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "artifact/registry.h"
#include "cli/drift_report.h"
#include "control/drift_reporter.h"
#include "core/status.h"
#include "monitor/drift.h"
#include "serve/config.h"

namespace wharf::cli {

// What to compare.
struct DriftRequest {
  std::string store{};  // where the captures are: a SQLite path or postgresql:// URL
  std::string endpoint{};
  std::string variant{};  // only its captures, compared with its Modelfile; empty: all, with the first variant's
  std::optional<std::int64_t> since_us{}, until_us{};  // [since, until)
  monitor::DriftThresholds thresholds{};
};

// The serve configuration the control plane handed the replicas of revision
// `revision` (nullopt: the latest) of `endpoint`, read from the metadata
// store at `location`: its variants, versions and aliases. NotFound naming
// the endpoints the store has (followed by `hint` when given), or the
// revisions the endpoint has.
Result<serve::EndpointConfig> RevisionConfig(const std::string& location, const std::string& endpoint,
                                             std::optional<int> revision, std::string_view hint = {});

// Compares the endpoint's primary captures answered with 200 in the range
// with the training data of `config`'s variant request.variant (default: the
// first). NotFound for an unknown variant or a store that does not exist;
// FailedPrecondition when the Modelfile holds no training data summary;
// InvalidArgument when captures were read and none parsed for the model.
// The report's models_from is the caller's to say.
Result<DriftReport> BuildDriftReport(const DriftRequest& request, const serve::EndpointConfig& config,
                                     const artifact::ModelRegistry& registry);

// GET /api/endpoints/NAME/drift: BuildDriftReport against the query's
// revision of an endpoint the control plane manages (what `wharf drift
// --endpoint NAME [--revision N]` reports), with the default thresholds, as
// DriftJson. Keeps a reference to `registry`, which must outlive it.
control::DriftReporter MakeDriftReporter(const artifact::ModelRegistry& registry);

}  // namespace wharf::cli
