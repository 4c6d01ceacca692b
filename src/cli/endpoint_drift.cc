#include "cli/endpoint_drift.h"

#include <filesystem>
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "artifact/modelfile.h"
#include "control/endpoint_spec.h"
#include "serve/endpoint.h"
#include "serve/inference.h"
#include "store/capture_store.h"
#include "store/location.h"
#include "store/metadata_store.h"

namespace wharf::cli {

namespace {

// The variant whose Modelfile's training data the captures are compared
// with: `name`, else the first.
Result<const serve::Variant*> ChooseVariant(const serve::Endpoint& endpoint, const std::string& name) {
  if (name.empty()) return &endpoint.variants().front();
  std::vector<std::string> names;
  for (const auto& v : endpoint.variants()) {
    if (v.name == name) return &v;
    names.push_back(v.name);
  }
  return NotFound(fmt::format("endpoint '{}' has no variant '{}'; its variants: {}", endpoint.name(), name,
                              fmt::join(names, ", ")));
}

// The training summary of each of `features`, from the Modelfile at `path`.
Result<std::vector<data::FeatureSummary>> TrainingSummaries(const std::filesystem::path& path,
                                                            const std::vector<std::string>& features) {
  WHARF_ASSIGN_OR_RETURN(artifact::Modelfile file, artifact::ReadModelfile(path));
  const auto stored = file.header.find("feature_summary");
  if (stored == file.header.end() || !stored->is_array()) {
    return FailedPrecondition(fmt::format("{} holds no training data summary (written by an older wharf?); retrain "
                                          "the model to compare its inputs",
                                          path.string()));
  }
  std::map<std::string, data::FeatureSummary> by_name;
  for (const auto& j : *stored) {
    Result<data::FeatureSummary> summary = data::FeatureSummaryFromJson(j);
    if (!summary.ok()) return summary.status().WithContext(path.string());
    by_name[summary->name] = std::move(*summary);
  }
  std::vector<data::FeatureSummary> out;
  for (const auto& name : features) {
    auto it = by_name.find(name);
    if (it == by_name.end()) {
      return FailedPrecondition(fmt::format("{}: the training data summary lacks column '{}'", path.string(), name));
    }
    out.push_back(std::move(it->second));
  }
  return out;
}

// The server picks a parser by route, which a capture does not record: a
// /run/ body's "inputs" is an object of named values, a KServe body's an array.
bool IsRunBody(const std::string& body) {
  const auto j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  return j.is_object() && j.contains("inputs") && j["inputs"].is_object();
}

// Parses the primary captures answered with 200 in the report's range (of
// its variant, if any) into `columns` (one per feature), counting them in
// `report`.
Status ReadCaptures(store::CaptureStore& captures, const serve::Endpoint& endpoint, DriftReport& report,
                    std::vector<std::vector<double>>& columns) {
  store::CaptureQuery query{.endpoint = endpoint.name(),
                            .since_us = report.since_us,
                            .until_us = report.until_us,
                            .variant = report.variant.empty() ? std::nullopt : std::optional(report.variant),
                            .include_shadow = false,
                            .limit = 0};
  std::string body;  // reused: the parsers pad it in place
  return captures.ForEach(query, [&](const store::CaptureRecord& r) {
    if (r.status != 200) return Status::Ok();
    ++report.captures;
    if (!report.first_us) report.first_us = r.time_us;
    report.last_us = r.time_us;
    body.assign(r.inputs);
    Result<serve::FeatureBatch> batch =
        IsRunBody(body) ? serve::ParseRunRequest(body, endpoint) : serve::ParseInferRequest(body, endpoint);
    if (!batch.ok()) {
      if (report.unparsed++ == 0) report.first_unparsed = fmt::format("id {}: {}", r.id, batch.status().message());
      return Status::Ok();
    }
    const std::size_t cols = columns.size();
    for (std::size_t row = 0; row < batch->rows; ++row) {
      for (std::size_t c = 0; c < cols; ++c) columns[c].push_back(batch->x[row * cols + c]);
    }
    report.rows += batch->rows;
    return Status::Ok();
  });
}

}  // namespace

Result<serve::EndpointConfig> RevisionConfig(const std::string& location, const std::string& endpoint,
                                             std::optional<int> revision, std::string_view hint) {
  WHARF_ASSIGN_OR_RETURN(auto metadata, store::OpenMetadataStore(location));
  const std::string where = store::DisplayLocation(location);
  Result<store::EndpointRevision> latest = metadata->GetEndpointRevision(endpoint, std::nullopt);
  if (!latest.ok() && latest.status().code() == StatusCode::kNotFound) {
    WHARF_ASSIGN_OR_RETURN(auto endpoints, metadata->ListEndpoints(/*include_inactive=*/true));
    std::vector<std::string> names;
    for (const auto& e : endpoints) names.push_back(e.endpoint);
    return NotFound(fmt::format("no endpoint '{}' in {} (applied endpoints: {}){}{}", endpoint, where,
                                names.empty() ? "none" : fmt::format("{}", fmt::join(names, ", ")),
                                hint.empty() ? "" : "; ", hint));
  }
  if (!latest.ok()) return latest.status();
  store::EndpointRevision chosen = *latest;
  if (revision && *revision != latest->revision) {
    Result<store::EndpointRevision> asked = metadata->GetEndpointRevision(endpoint, revision);
    if (!asked.ok() && asked.status().code() == StatusCode::kNotFound) {
      return NotFound(fmt::format("endpoint '{}' has no revision {}; its revisions: 1 to {}", endpoint, *revision,
                                  latest->revision));
    }
    if (!asked.ok()) return asked.status();
    chosen = std::move(*asked);
  }
  const std::string origin = fmt::format("endpoint '{}' revision {} in {}", endpoint, chosen.revision, where);
  const auto resolved = nlohmann::json::parse(chosen.resolved_json, nullptr, /*allow_exceptions=*/false);
  if (!resolved.is_object() || !resolved.contains("serve")) {
    return DataLoss(fmt::format("{}: its resolved configuration holds no \"serve\" document", origin));
  }
  WHARF_ASSIGN_OR_RETURN(serve::ServeConfig config,
                         serve::ParseServeConfig(control::ServeConfigOf(resolved, chosen.revision).dump(), origin,
                                                 std::filesystem::path()));
  for (auto& e : config.endpoints) {
    if (e.name == endpoint) return std::move(e);
  }
  return DataLoss(fmt::format("{}: its serve document lacks the endpoint", origin));
}

Result<DriftReport> BuildDriftReport(const DriftRequest& request, const serve::EndpointConfig& config,
                                     const artifact::ModelRegistry& registry) {
  DriftReport report;
  report.endpoint = request.endpoint;
  report.variant = request.variant;
  report.thresholds = request.thresholds;
  report.since_us = request.since_us;
  report.until_us = request.until_us;
  const std::string location = store::CaptureLocation(request.store);
  report.store = store::DisplayLocation(location);
  report.revision = config.revision;
  WHARF_ASSIGN_OR_RETURN(auto endpoint, serve::Endpoint::Load(config, registry));
  WHARF_ASSIGN_OR_RETURN(const serve::Variant* variant, ChooseVariant(*endpoint, request.variant));
  report.modelfile = variant->path.string();
  report.model_variant = variant->name;
  report.model_version = variant->version;
  WHARF_ASSIGN_OR_RETURN(std::vector<data::FeatureSummary> training,
                         TrainingSummaries(variant->path, endpoint->features()));
  report.training_rows = training.empty() ? 0 : training.front().count + training.front().missing;

  std::error_code ec;
  if (!store::IsServerLocation(location) && !std::filesystem::exists(location, ec)) {
    return NotFound(fmt::format("no captures yet at {}", location));
  }
  WHARF_ASSIGN_OR_RETURN(auto captures, store::OpenCaptureStore(location));
  std::vector<std::vector<double>> columns(endpoint->features().size());
  WHARF_RETURN_IF_ERROR(ReadCaptures(*captures, *endpoint, report, columns));
  if (report.captures > 0 && report.unparsed == report.captures) {
    return InvalidArgument(fmt::format(
        "none of the {} captures of endpoint '{}' parsed for {} (first: {}); give the revision, config or model "
        "the endpoint was served with (its aliases too)",
        report.captures, request.endpoint, report.modelfile, report.first_unparsed));
  }
  for (std::size_t c = 0; c < columns.size(); ++c) {
    report.features.push_back(monitor::MeasureDrift(training[c], columns[c], request.thresholds));
  }
  return report;
}

control::DriftReporter MakeDriftReporter(const artifact::ModelRegistry& registry) {
  return [&registry](const control::DriftQuery& query) -> Result<nlohmann::ordered_json> {
    WHARF_ASSIGN_OR_RETURN(serve::EndpointConfig config, RevisionConfig(query.store, query.endpoint, query.revision));
    const DriftRequest request{.store = query.store,
                               .endpoint = query.endpoint,
                               .variant = query.variant,
                               .since_us = query.since_us,
                               .until_us = query.until_us,
                               .thresholds = {}};
    WHARF_ASSIGN_OR_RETURN(DriftReport report, BuildDriftReport(request, config, registry));
    report.models_from = fmt::format("endpoint revision {}{}", report.revision, query.revision ? "" : " (latest)");
    return DriftJson(report);
  };
}

}  // namespace wharf::cli
