// `wharf drift`: compares an endpoint's captured inputs with the training
// data summary in its Modelfile, feature by feature (PSI, KS, missing rate).

#include <filesystem>
#include <map>
#include <memory>
#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "artifact/modelfile.h"
#include "cli/commands.h"
#include "cli/drift_report.h"
#include "cli/exit_code.h"
#include "cli/registry_model.h"
#include "control/endpoint_spec.h"
#include "core/clock.h"
#include "serve/config.h"
#include "serve/endpoint.h"
#include "serve/inference.h"
#include "store/capture_store.h"
#include "store/location.h"
#include "store/metadata_store.h"

namespace wharf::cli {

namespace {

struct DriftFlags {
  std::string endpoint, variant, model, config, db;
  std::optional<std::string> since, until;
  std::optional<int> revision;
  monitor::DriftThresholds thresholds;
  bool json = false, fail_on_drift = false;
};

// --model's Modelfile: a path, or model:MODEL[@VERSION|@ALIAS] from the
// registry in the store; either may follow "ENDPOINT=", as `wharf serve
// --model` takes them.
Result<std::string> ModelfileOf(const DriftFlags& f, const std::string& location) {
  std::string_view model = f.model;
  if (model.starts_with(f.endpoint + "=")) model.remove_prefix(f.endpoint.size() + 1);
  if (!model.starts_with("model:")) return std::string(model);
  return RegistryModelfile(model.substr(6), location, f.model);
}

constexpr std::string_view kGiveConfigOrModel =
    "--config FILE (the endpoint YAML it is served with) or --model PATH|model:MODEL[@ALIAS]";

// The serve configuration of the endpoint's revision --revision, else its
// latest, in the control plane's store at `location`: the document its
// replicas were handed, so variants and aliases are theirs. NotFound, naming
// what to give instead, when the store has no such endpoint.
Result<serve::EndpointConfig> RevisionConfig(const DriftFlags& f, const std::string& location) {
  std::error_code ec;
  if (!store::IsServerLocation(location) && !std::filesystem::exists(location, ec)) {
    return NotFound(fmt::format("no endpoint '{}': no store at {}; give --store, or {}", f.endpoint, location,
                                kGiveConfigOrModel));
  }
  WHARF_ASSIGN_OR_RETURN(auto metadata, store::OpenMetadataStore(location));
  const std::string where = store::DisplayLocation(location);
  Result<store::EndpointRevision> latest = metadata->GetEndpointRevision(f.endpoint, std::nullopt);
  if (!latest.ok() && latest.status().code() == StatusCode::kNotFound) {
    WHARF_ASSIGN_OR_RETURN(auto endpoints, metadata->ListEndpoints(/*include_inactive=*/true));
    std::vector<std::string> names;
    for (const auto& e : endpoints) names.push_back(e.endpoint);
    return NotFound(fmt::format("no endpoint '{}' in {} (applied endpoints: {}); for one the control plane does not "
                                "manage, give {}",
                                f.endpoint, where, names.empty() ? "none" : fmt::format("{}", fmt::join(names, ", ")),
                                kGiveConfigOrModel));
  }
  if (!latest.ok()) return latest.status();
  store::EndpointRevision revision = *latest;
  if (f.revision && *f.revision != latest->revision) {
    Result<store::EndpointRevision> asked = metadata->GetEndpointRevision(f.endpoint, f.revision);
    if (!asked.ok() && asked.status().code() == StatusCode::kNotFound) {
      return NotFound(fmt::format("endpoint '{}' has no revision {}; its revisions: 1 to {}", f.endpoint, *f.revision,
                                  latest->revision));
    }
    if (!asked.ok()) return asked.status();
    revision = std::move(*asked);
  }
  const std::string origin = fmt::format("endpoint '{}' revision {} in {}", f.endpoint, revision.revision, where);
  const auto resolved = nlohmann::json::parse(revision.resolved_json, nullptr, /*allow_exceptions=*/false);
  if (!resolved.is_object() || !resolved.contains("serve")) {
    return DataLoss(fmt::format("{}: its resolved configuration holds no \"serve\" document", origin));
  }
  WHARF_ASSIGN_OR_RETURN(serve::ServeConfig config,
                         serve::ParseServeConfig(control::ServeConfigOf(resolved, revision.revision).dump(), origin,
                                                 std::filesystem::path()));
  for (auto& e : config.endpoints) {
    if (e.name == f.endpoint) return std::move(e);
  }
  return DataLoss(fmt::format("{}: its serve document lacks the endpoint", origin));
}

// The configuration the endpoint was served with: its models, and the
// aliases its request bodies may use. The one place that decides it:
// --config, --model, else the control plane's revision of it.
Result<serve::EndpointConfig> ChooseEndpointConfig(const DriftFlags& f, const std::string& location) {
  if (!f.config.empty() && !f.model.empty()) {
    return InvalidArgument(
        "give at most one of --config and --model, not both (without either: the endpoint's revision in the store)");
  }
  if (f.revision && (!f.config.empty() || !f.model.empty())) {
    return InvalidArgument(fmt::format("--revision {} reads the endpoint's models from the store; it does not go with "
                                       "--{}",
                                       *f.revision, f.config.empty() ? "model" : "config"));
  }
  if (!f.config.empty()) {
    WHARF_ASSIGN_OR_RETURN(serve::ServeConfig config, serve::LoadServeConfig(f.config));
    std::vector<std::string> names;
    for (auto& e : config.endpoints) {
      if (e.name == f.endpoint) return std::move(e);
      names.push_back(e.name);
    }
    return NotFound(
        fmt::format("{} has no endpoint '{}'; its endpoints: {}", f.config, f.endpoint, fmt::join(names, ", ")));
  }
  if (!f.model.empty()) {
    WHARF_ASSIGN_OR_RETURN(std::string modelfile, ModelfileOf(f, location));
    WHARF_ASSIGN_OR_RETURN(serve::ServeConfig config,
                           serve::ServeConfigFromModelFlags({f.endpoint + "=" + modelfile}));
    return std::move(config.endpoints.front());
  }
  return RevisionConfig(f, location);
}

// Where ChooseEndpointConfig took the models from, for the report.
std::string ModelsFrom(const DriftFlags& f, const serve::EndpointConfig& config) {
  if (!f.config.empty()) return "--config " + f.config;
  if (!f.model.empty()) return "--model " + f.model;
  return fmt::format("endpoint revision {}{}", config.revision, f.revision ? "" : " (latest)");
}

// The variant whose Modelfile's training data the captures are compared
// with: --variant, else the first.
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

// Parses the primary captures answered with 200 in the report's range into
// `columns` (one per feature), counting them in `report`.
Status ReadCaptures(store::CaptureStore& captures, const serve::Endpoint& endpoint, DriftReport& report,
                    std::vector<std::vector<double>>& columns) {
  store::CaptureQuery query{.endpoint = endpoint.name(), .since_us = report.since_us, .include_shadow = false,
                            .limit = 0};
  std::string body;  // reused: the parsers pad it in place
  return captures.ForEach(query, [&](const store::CaptureRecord& r) {
    if (r.shadow || r.status != 200 || (report.until_us && r.time_us >= *report.until_us) ||
        (!report.variant.empty() && r.variant != report.variant)) {
      return Status::Ok();
    }
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

Result<DriftReport> Run(const DriftFlags& f, const artifact::ModelRegistry& registry) {
  DriftReport report;
  report.endpoint = f.endpoint;
  report.variant = f.variant;
  report.thresholds = f.thresholds;
  const std::int64_t now = NowMicros();
  if (f.since) {
    WHARF_ASSIGN_OR_RETURN(report.since_us, ParseTimeOrAge(*f.since, now, "--since"));
  }
  if (f.until) {
    WHARF_ASSIGN_OR_RETURN(report.until_us, ParseTimeOrAge(*f.until, now, "--until"));
  }
  if (report.since_us && report.until_us && *report.since_us >= *report.until_us) {
    return InvalidArgument(fmt::format("--since {} is not before --until {}", *f.since, *f.until));
  }

  const std::string location = store::StoreLocation(f.db);
  report.store = store::DisplayLocation(location);
  WHARF_ASSIGN_OR_RETURN(serve::EndpointConfig config, ChooseEndpointConfig(f, location));
  report.models_from = ModelsFrom(f, config);
  report.revision = config.revision;
  WHARF_ASSIGN_OR_RETURN(auto endpoint, serve::Endpoint::Load(config, registry));
  WHARF_ASSIGN_OR_RETURN(const serve::Variant* variant, ChooseVariant(*endpoint, f.variant));
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
        "none of the {} captures of endpoint '{}' parsed for {} (first: {}); give the --revision, --config or "
        "--model the endpoint was served with (its aliases too)",
        report.captures, f.endpoint, report.modelfile, report.first_unparsed));
  }
  for (std::size_t c = 0; c < columns.size(); ++c) {
    report.features.push_back(monitor::MeasureDrift(training[c], columns[c], f.thresholds));
  }
  return report;
}

}  // namespace

void AddDriftCommand(CLI::App& app, const CommandContext& context) {
  auto flags = std::make_shared<DriftFlags>();
  auto* cmd = app.add_subcommand(
      "drift", "Compare an endpoint's captured inputs with its model's training data (PSI, KS, missing rate)");
  cmd->add_option("--endpoint", flags->endpoint, "Endpoint name")->required();
  cmd->add_option("--since", flags->since,
                  "Only captures at or after this UTC time (2026-11-23T12:00:00Z, 2026-11-23) or age (30s, 15m, 2h, 7d)");
  cmd->add_option("--until", flags->until, "Only captures before this time (same forms as --since)");
  cmd->add_option("--variant", flags->variant,
                  "Only this variant's captures, compared with its own Modelfile (default: every variant's, compared "
                  "with the first variant's)");
  cmd->add_option("--revision", flags->revision,
                  "Compare with the models of this revision of the endpoint in the store (default: its latest)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--model", flags->model,
                  "For an endpoint the control plane does not manage: its Modelfile, PATH or "
                  "model:MODEL[@VERSION|@ALIAS] (registry), optionally after ENDPOINT= as in wharf serve");
  cmd->add_option("--config", flags->config,
                  "For an endpoint the control plane does not manage: the endpoint YAML it is served with (for "
                  "variants and aliases)");
  cmd->add_option("--store,--db", flags->db,
                  "Capture and endpoint store: a SQLite file or postgresql:// URL (default: $WHARF_STORE, else "
                  "$WHARF_HOME/wharf.db, else ~/.wharf/wharf.db)");
  cmd->add_option("--psi-threshold", flags->thresholds.psi, "Flag a feature whose PSI is at least this")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--ks-threshold", flags->thresholds.ks_d,
                  "Flag a feature whose KS D is at least this (with p < 0.01)")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  cmd->add_option("--missing-threshold", flags->thresholds.missing_rate,
                  "Flag a feature whose live missing rate exceeds training's by at least this")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  cmd->add_option("--min-rows", flags->thresholds.min_rows, "Judge a feature only with at least this many live rows")
      ->capture_default_str();
  cmd->add_flag("--json", flags->json, "Print the report as one JSON object");
  cmd->add_flag("--fail-on-drift", flags->fail_on_drift, "Exit with 3 when any feature is flagged");
  cmd->callback([flags, context] {
    Result<DriftReport> report = Run(*flags, *context.registry);
    if (!report.ok()) {
      *context.exit_code = ExitWith(report.status());
      return;
    }
    fmt::print("{}", flags->json ? DriftJson(*report).dump(2) + "\n" : FormatDriftTable(*report));
    *context.exit_code = flags->fail_on_drift && CountDrifted(*report) > 0 ? kExitDrift : kExitOk;
  });
}

}  // namespace wharf::cli
