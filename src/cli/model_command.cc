// `wharf model inspect` and `wharf model export`.

#include <filesystem>
#include <fstream>
#include <memory>

#include <fmt/format.h>

#include "artifact/modelfile.h"
#include "cli/commands.h"
#include "cli/dl_plugin.h"
#include "cli/exit_code.h"
#include "dl/plugin_api.h"
#include "ml/xgboost.h"

namespace wharf::cli {

namespace {

struct ModelFlags {
  std::string path, format = "xgboost-json", output;
  bool json = false;
};

std::string MetricsLine(const nlohmann::json& m) {
  return fmt::format("weighted F1 {:.4f}  accuracy {:.4f}  ({} rows)", m.value("weighted_f1", 0.0),
                     m.value("accuracy", 0.0), m.value("rows", 0));
}

void PrintHuman(const std::string& path, std::uintmax_t size, const artifact::Modelfile& file) {
  const auto& h = file.header;
  const auto schema = h.value("schema", nlohmann::json::object());
  const auto estimator = h.value("estimator", nlohmann::json::object());
  fmt::print("Modelfile:  {} ({} bytes, format version {})\n", path, size, artifact::kModelfileFormatVersion);
  fmt::print("Written by: wharf {} at {}\n", h.value("wharf_version", "?"), h.value("created_at", "?"));
  fmt::print("Kind:       {}\n", h.value("kind", "?"));
  fmt::print("Estimator:  {} {}\n", estimator.value("kind", "?"), estimator.value("params", nlohmann::json::object()).dump());
  if (h.value("kind", "") == "transformer") {
    const auto outputs = schema.value("outputs", std::vector<std::string>{});
    fmt::print("Outputs:    {}: {}\n", outputs.size(), fmt::join(outputs, ", "));
  } else {
    fmt::print("Label:      {} (classes {})\n", schema.value("label", "?"),
               fmt::join(schema.value("classes", std::vector<std::string>{}), ", "));
  }
  const auto features = schema.value("features", std::vector<std::string>{});
  if (schema.contains("image")) {
    const auto& image = schema["image"];
    const auto normalize = h.value("preprocessing", nlohmann::json::array());
    fmt::print("Input:      image {}x{}x{} (channels x height x width, pixels in [0, 1]){}\n",
               image.value("channels", 0), image.value("height", 0), image.value("width", 0),
               normalize.empty() ? "" : ", normalized by " + normalize[0].value("normalize", nlohmann::json::object()).dump());
  } else {
    fmt::print("Features:   {}: {}\n", features.size(), fmt::join(features, ", "));
  }
  const auto data = h.value("data", nlohmann::json::object());
  for (const auto& [name, d] : data.items()) {
    fmt::print("Data:       {} {} ({} rows, sha256 {})\n", name, d.value("path", "?"), d.value("rows", 0),
               d.value("sha256", "?"));
  }
  const auto metrics = h.value("metrics", nlohmann::json::object());
  for (const auto& [name, m] : metrics.items()) {
    if (name == "cv") {
      fmt::print("Metrics:    cv     weighted F1 {:.4f} ± {:.4f} ({} folds)\n", m.value("weighted_f1", 0.0),
                 m.value("weighted_f1_std", 0.0), m.value("folds", 0));
    } else {
      fmt::print("Metrics:    {:<6} {}\n", name, MetricsLine(m));
    }
  }
  for (const auto& s : file.sections) fmt::print("Section:    {} ({} bytes)\n", s.name, s.bytes.size());
  const auto summaries = h.value("feature_summary", nlohmann::json::array());
  if (summaries.empty()) return;
  fmt::print("\nTraining data summary\n{:<24} {:>7} {:>7} {:>10} {:>10} {:>10} {:>10} {:>10}\n", "feature", "count",
             "missing", "mean", "std", "min", "median", "max");
  for (const auto& s : summaries) {
    const auto q = s.value("quantiles", std::vector<double>{});
    fmt::print("{:<24} {:>7} {:>7} {:>10.4g} {:>10.4g} {:>10.4g} {:>10.4g} {:>10.4g}\n", s.value("name", "?"),
               s.value("count", 0), s.value("missing", 0), s.value("mean", 0.0), s.value("std", 0.0),
               s.value("min", 0.0), q.size() > 3 ? q[3] : 0.0, s.value("max", 0.0));
  }
}

Status Inspect(const ModelFlags& f) {
  WHARF_ASSIGN_OR_RETURN(artifact::Modelfile file, artifact::ReadModelfile(f.path));
  std::error_code ec;
  const auto size = std::filesystem::file_size(f.path, ec);
  try {
    if (f.json) {
      nlohmann::json sections = nlohmann::json::array();
      for (const auto& s : file.sections) sections.push_back({{"name", s.name}, {"bytes", s.bytes.size()}});
      fmt::print("{}\n", nlohmann::json{{"path", f.path},
                                        {"size_bytes", size},
                                        {"format_version", artifact::kModelfileFormatVersion},
                                        {"header", file.header},
                                        {"sections", sections}}
                             .dump(2));
    } else {
      PrintHuman(f.path, size, file);
    }
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgument(fmt::format("{}: unexpected header layout: {}", f.path, e.what()));
  }
  return Status::Ok();
}

Status WriteOutput(const std::string& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) return IoError(path + ": cannot write");
  return Status::Ok();
}

Status Export(const ModelFlags& f) {
  WHARF_ASSIGN_OR_RETURN(artifact::Modelfile file, artifact::ReadModelfile(f.path));
  const std::string kind = file.header.value("estimator", nlohmann::json::object()).value("kind", "?");
  if (f.format == "torchscript" || f.format == "onnx") {
    const auto* section = file.Find(f.format == "onnx" ? dl::kOnnxSection : dl::kTorchScriptSection);
    if (section == nullptr) {
      return FailedPrecondition(fmt::format("{}: estimator '{}' has no {} form to export", f.path, kind, f.format));
    }
    WHARF_RETURN_IF_ERROR(WriteOutput(f.output, section->bytes));
    fmt::print("Exported the {} model to {} (inputs: [N, C, H, W] normalized floats, outputs: {})\n", f.format,
               f.output, file.header["estimator"].value("outputs", "logits"));
    return Status::Ok();
  }
  const auto* booster = file.Find(ml::kBoosterSection);
  if (booster == nullptr) {
    return FailedPrecondition(fmt::format("{}: estimator '{}' has no XGBoost booster to export; only xgboost and rf "
                                          "models export to --format xgboost-json",
                                          f.path, kind));
  }
  WHARF_ASSIGN_OR_RETURN(std::string json, ml::BoosterToJson(booster->bytes));
  WHARF_RETURN_IF_ERROR(WriteOutput(f.output, json));
  const bool ordinal = file.header["estimator"].value("state", nlohmann::json::object()).value("ordinal", false);
  fmt::print("Exported the booster to {}{}\n", f.output,
             ordinal ? " (an ordinal model: it predicts the class index as a number; round it)" : "");
  return Status::Ok();
}

}  // namespace

void AddModelCommand(CLI::App& app, const CommandContext& context) {
  auto* model = app.add_subcommand("model", "Inspect, export and register models");
  model->require_subcommand(1);

  auto inspect_flags = std::make_shared<ModelFlags>();
  auto* inspect = model->add_subcommand("inspect", "Describe a Modelfile: schema, estimator, metrics, data");
  inspect->add_option("modelfile", inspect_flags->path, "Modelfile")->required();
  inspect->add_flag("--json", inspect_flags->json, "Print the header as JSON");
  inspect->callback([inspect_flags, context] { *context.exit_code = ExitWith(Inspect(*inspect_flags)); });

  auto export_flags = std::make_shared<ModelFlags>();
  auto* exp = model->add_subcommand("export", "Write a model's payload in another tool's format");
  exp->add_option("modelfile", export_flags->path, "Modelfile")->required();
  exp->add_option("--format", export_flags->format, "xgboost-json | torchscript | onnx")
      ->check(CLI::IsMember({"xgboost-json", "torchscript", "onnx"}))
      ->capture_default_str();
  exp->add_option("--output", export_flags->output, "Output file")->required();
  exp->callback([export_flags, context] { *context.exit_code = ExitWith(Export(*export_flags)); });

  AddPluginCommand(*model, "import", "Make a Modelfile from a TorchScript or ONNX image classifier and its labels",
                   "model import", context.exit_code);
  AddModelRegistryCommands(*model, context);
}

}  // namespace wharf::cli
