// `wharf pca fit|transform`: reduces a feature table (e.g. what `wharf
// featurize` wrote) to its principal components, keeping text columns such
// as path and label alongside.

#include <chrono>
#include <filesystem>
#include <optional>
#include <set>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/exit_code.h"
#include "core/file.h"
#include "data/feature_table.h"
#include "data/text.h"
#include "ml/pca_model.h"
#include "ml/pca_report.h"

namespace wharf::cli {

namespace {

namespace fs = std::filesystem;

// Text columns carried along unless --keep says otherwise.
const std::vector<std::string> kDefaultKeep = {"path", "label"};

struct PcaFitFlags {
  std::string input, out;
  std::vector<std::string> keep, transform;
  std::size_t components = 0;
  std::optional<double> explained_variance;
  std::size_t exact_max_columns = ml::PcaOptions{}.exact_max_columns;
  std::uint64_t seed = 42;
};

struct PcaTransformFlags {
  std::string input, model, out;
  std::vector<std::string> keep;
};

data::MixedColumns Columns(const std::vector<std::string>& keep, std::vector<std::string> features = {}) {
  return {keep.empty() ? kDefaultKeep : keep, keep.empty(), std::move(features)};
}

// The table's kept columns and components as CSV.
std::string ProjectedCsv(const data::MixedTable& table, const ml::PcaModel& model, const std::vector<float>& projected) {
  std::string out;
  for (const auto& name : table.kept_names) out += data::CsvField(name) + ",";
  for (const auto& name : model.outputs()) out += name + ",";
  out.back() = '\n';
  const std::size_t k = model.output_width(), kept = table.kept_names.size();
  for (std::size_t r = 0; r < table.rows; ++r) {
    for (std::size_t c = 0; c < kept; ++c) out += data::CsvField(table.kept[r * kept + c]) + ",";
    for (std::size_t j = 0; j < k; ++j) fmt::format_to(std::back_inserter(out), "{},", projected[r * k + j]);
    out.back() = '\n';
  }
  return out;
}

// Projects `path` through `model` (its features by name) into `out`.
Result<std::size_t> Project(const std::string& path, const ml::PcaModel& model, const std::vector<std::string>& keep,
                            const fs::path& out) {
  WHARF_ASSIGN_OR_RETURN(const data::MixedTable table,
                         data::ReadMixedTable(path, Columns(keep, model.schema().features)));
  std::vector<float> projected(table.rows * model.output_width());
  WHARF_RETURN_IF_ERROR(model.Predict(table.x.data(), table.rows, projected.data()));
  WHARF_RETURN_IF_ERROR(WriteFileAtomically(out, ProjectedCsv(table, model, projected)));
  return table.rows;
}

std::string ResultsText(const PcaFitFlags& f, const data::MixedTable& table, const ml::Pca& pca, double seconds) {
  double kept = 0;
  for (const double r : pca.explained_variance_ratio()) kept += r;
  std::string text = fmt::format("PCA of {} ({} rows x {} features, sha256 {})\n", f.input, table.rows,
                                 table.feature_names.size(), table.sha256);
  text += fmt::format("Method:     {}\n", pca.randomized() ? fmt::format("randomized SVD (more than {} columns)",
                                                                        f.exact_max_columns)
                                                         : "exact (eigen-decomposition of the covariance)");
  text += fmt::format("Kept:       {} component{}, {:.2f}% of the variance ({})\n", pca.components(),
                      pca.components() == 1 ? "" : "s", 100 * kept,
                      f.components > 0 ? fmt::format("--components {}", f.components)
                                       : fmt::format("target {:.4g}%", 100 * f.explained_variance.value_or(0.95)));
  text += fmt::format("Fit in:     {:.3f} s\n\n{:<10} {:>14} {:>9} {:>11}\n", seconds, "component", "variance", "share",
                      "cumulative");
  double cumulative = 0;
  for (std::size_t k = 0; k < pca.components(); ++k) {
    cumulative += pca.explained_variance_ratio()[k];
    text += fmt::format("pc{:<8} {:>14.6g} {:>8.2f}% {:>10.2f}%\n", k + 1, pca.explained_variance()[k],
                        100 * pca.explained_variance_ratio()[k], 100 * cumulative);
  }
  return text;
}

Status Fit(const PcaFitFlags& f) {
  ml::PcaOptions options;
  options.components = f.components;
  options.explained_variance = f.explained_variance.value_or(0.95);
  options.exact_max_columns = f.exact_max_columns;
  options.seed = f.seed;
  // Every output's name, before any work: two inputs must not land on one file.
  std::vector<std::pair<std::string, fs::path>> tables = {{f.input, fs::path(f.out) / fs::path(f.input).filename()}};
  std::set<fs::path> names = {tables.front().second.filename()};
  for (const auto& other : f.transform) {
    fs::path target = fs::path(f.out) / fs::path(other).filename();
    if (!names.insert(target.filename()).second) {
      return InvalidArgument(fmt::format("--transform {}: its projection would overwrite {} (inputs need distinct file names)",
                                         other, target.string()));
    }
    tables.emplace_back(other, std::move(target));
  }
  if (names.count("explained_variance.csv")) {
    return InvalidArgument("an input named explained_variance.csv would overwrite the report; rename it");
  }

  WHARF_ASSIGN_OR_RETURN(const data::MixedTable table, data::ReadMixedTable(f.input, Columns(f.keep)));
  const auto start = std::chrono::steady_clock::now();
  Result<ml::Pca> fitted = ml::Pca::Fit(table.x.data(), table.rows, table.feature_names.size(), options);
  if (!fitted.ok()) return InvalidArgument(fmt::format("{}: {}", f.input, fitted.status().message()));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const ml::PcaModel model(std::move(*fitted), table.feature_names);
  const ml::Pca& pca = model.pca();

  std::error_code ec;
  fs::create_directories(f.out, ec);
  if (ec) return IoError(fmt::format("--out {}: {}", f.out, ec.message()));
  nlohmann::json params = {{"input", f.input}, {"rows", table.rows}, {"sha256", table.sha256}, {"seed", f.seed}};
  if (f.components > 0) {
    params["components"] = f.components;
  } else {
    params["explained_variance"] = options.explained_variance;
  }
  WHARF_RETURN_IF_ERROR(artifact::WriteModelfile(model.ToModelfile(params), fs::path(f.out) / "Modelfile"));
  WHARF_RETURN_IF_ERROR(WriteFileAtomically(fs::path(f.out) / "explained_variance.csv", ml::ExplainedVarianceCsv(pca)));
  const std::optional<double> target =
      f.components > 0 ? std::nullopt : std::optional<double>(options.explained_variance);
  WHARF_RETURN_IF_ERROR(
      WriteFileAtomically(fs::path(f.out) / "explained_variance.svg", ml::ExplainedVarianceSvg(pca, target)));
  const std::string results = ResultsText(f, table, pca, seconds);
  WHARF_RETURN_IF_ERROR(WriteFileAtomically(fs::path(f.out) / "results.txt", results));

  std::vector<float> projected(table.rows * model.output_width());
  pca.Transform(table.x.data(), table.rows, projected.data());
  WHARF_RETURN_IF_ERROR(WriteFileAtomically(tables.front().second, ProjectedCsv(table, model, projected)));
  std::string written = fmt::format("  {} ({} rows)\n", tables.front().second.string(), table.rows);
  for (std::size_t i = 1; i < tables.size(); ++i) {
    WHARF_ASSIGN_OR_RETURN(const std::size_t rows, Project(tables[i].first, model, f.keep, tables[i].second));
    written += fmt::format("  {} ({} rows)\n", tables[i].second.string(), rows);
  }
  double kept = 0;
  for (const double r : pca.explained_variance_ratio()) kept += r;
  fmt::print("PCA: {} features -> {} component{} ({:.2f}% of the variance, {}) in {:.2f} s\n",
             table.feature_names.size(), pca.components(), pca.components() == 1 ? "" : "s", 100 * kept, pca.randomized() ? "randomized SVD" : "exact", seconds);
  fmt::print("Model:   {}\nReport:  {} (curve: explained_variance.csv, explained_variance.svg)\nTables:\n{}",
             (fs::path(f.out) / "Modelfile").string(), (fs::path(f.out) / "results.txt").string(), written);
  return Status::Ok();
}

Status Transform(const PcaTransformFlags& f) {
  WHARF_ASSIGN_OR_RETURN(const artifact::Modelfile file, artifact::ReadModelfile(f.model));
  const std::string kind = file.header.value("estimator", nlohmann::json::object()).value("kind", "");
  if (kind != ml::kPcaKind) {
    return InvalidArgument(fmt::format("--model {}: a '{}' model, not a PCA (made by wharf pca fit)", f.model, kind));
  }
  Result<std::unique_ptr<ml::PcaModel>> model = ml::PcaModel::Load(file);
  if (!model.ok()) return InvalidArgument(fmt::format("--model {}: {}", f.model, model.status().message()));
  WHARF_ASSIGN_OR_RETURN(const std::size_t rows, Project(f.input, **model, f.keep, f.out));
  fmt::print("{} rows -> {} ({} components)\n", rows, f.out, (*model)->output_width());
  return Status::Ok();
}

}  // namespace

void AddPcaCommand(CLI::App& app, const CommandContext& context) {
  auto* pca = app.add_subcommand("pca", "Principal component analysis of a feature table (Eigen)");
  pca->require_subcommand(1);

  auto fit = std::make_shared<PcaFitFlags>();
  auto* fit_cmd = pca->add_subcommand("fit", "Fit a PCA; write its Modelfile, the explained-variance curve and the reduced table");
  fit_cmd->add_option("table", fit->input, "Feature table (CSV): numeric columns, plus text columns to keep")->required();
  fit_cmd->add_option("--out", fit->out, "Output directory")->required();
  auto* components = fit_cmd->add_option("--components,-k", fit->components, "Keep exactly this many components")
                         ->check(CLI::PositiveNumber);
  fit_cmd->add_option("--explained-variance", fit->explained_variance,
                      "Keep the fewest components explaining this share of the variance (default 0.95)")
      ->check(CLI::Range(1e-9, 1.0))
      ->excludes(components);
  fit_cmd->add_option("--keep", fit->keep, "A text column carried along, not reduced (repeatable; default: path, label)");
  fit_cmd->add_option("--transform", fit->transform, "Another table to project with the fitted PCA (repeatable)");
  fit_cmd->add_option("--exact-max-columns", fit->exact_max_columns,
                      "Above this many columns, use the randomized SVD")->capture_default_str();
  fit_cmd->add_option("--seed", fit->seed, "Seed of the randomized SVD")->capture_default_str();
  fit_cmd->callback([fit, context] { *context.exit_code = ExitWith(Fit(*fit)); });

  auto transform = std::make_shared<PcaTransformFlags>();
  auto* transform_cmd = pca->add_subcommand("transform", "Project a feature table with a fitted PCA Modelfile");
  transform_cmd->add_option("table", transform->input, "Feature table (CSV) with the PCA's feature columns")->required();
  transform_cmd->add_option("--model", transform->model, "The PCA's Modelfile")->required();
  transform_cmd->add_option("--out", transform->out, "Output CSV")->required();
  transform_cmd->add_option("--keep", transform->keep, "A text column carried along (repeatable; default: path, label)");
  transform_cmd->callback([transform, context] { *context.exit_code = ExitWith(Transform(*transform)); });
}

}  // namespace wharf::cli
