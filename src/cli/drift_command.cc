// `wharf drift`: compares an endpoint's captured inputs with the training
// data summary in its Modelfile, feature by feature (PSI, KS, missing rate).

#include <filesystem>
#include <memory>
#include <optional>
#include <vector>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/drift_report.h"
#include "cli/endpoint_drift.h"
#include "cli/exit_code.h"
#include "cli/registry_model.h"
#include "core/clock.h"
#include "serve/config.h"
#include "store/location.h"

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

// The endpoint's revision --revision, else its latest, in the control
// plane's store at `location`. NotFound, naming what to give instead, when
// the store has no such endpoint.
Result<serve::EndpointConfig> StoredRevisionConfig(const DriftFlags& f, const std::string& location) {
  std::error_code ec;
  if (!store::IsServerLocation(location) && !std::filesystem::exists(location, ec)) {
    return NotFound(fmt::format("no endpoint '{}': no store at {}; give --store, or {}", f.endpoint, location,
                                kGiveConfigOrModel));
  }
  return RevisionConfig(location, f.endpoint, f.revision,
                        fmt::format("for one the control plane does not manage, give {}", kGiveConfigOrModel));
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
  return StoredRevisionConfig(f, location);
}

// Where ChooseEndpointConfig took the models from, for the report.
std::string ModelsFrom(const DriftFlags& f, const serve::EndpointConfig& config) {
  if (!f.config.empty()) return "--config " + f.config;
  if (!f.model.empty()) return "--model " + f.model;
  return fmt::format("endpoint revision {}{}", config.revision, f.revision ? "" : " (latest)");
}

Result<DriftReport> Run(const DriftFlags& f, const artifact::ModelRegistry& registry) {
  DriftRequest request{.store = store::StoreLocation(f.db),
                       .endpoint = f.endpoint,
                       .variant = f.variant,
                       .thresholds = f.thresholds};
  const std::int64_t now = NowMicros();
  if (f.since) {
    WHARF_ASSIGN_OR_RETURN(request.since_us, ParseTimeOrAge(*f.since, now, "--since"));
  }
  if (f.until) {
    WHARF_ASSIGN_OR_RETURN(request.until_us, ParseTimeOrAge(*f.until, now, "--until"));
  }
  if (request.since_us && request.until_us && *request.since_us >= *request.until_us) {
    return InvalidArgument(fmt::format("--since {} is not before --until {}", *f.since, *f.until));
  }
  WHARF_ASSIGN_OR_RETURN(serve::EndpointConfig config, ChooseEndpointConfig(f, request.store));
  WHARF_ASSIGN_OR_RETURN(DriftReport report, BuildDriftReport(request, config, registry));
  report.models_from = ModelsFrom(f, config);
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
