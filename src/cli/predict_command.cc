// `wharf predict` (write predictions, score if labelled) and `wharf evaluate`
// (score only).

#include <memory>

#include <fmt/format.h>

#include "cli/local_secrets.h"
#include "cli/commands.h"
#include "cli/exit_code.h"
#include "ml/predict.h"

namespace wharf::cli {

namespace {

struct PredictFlags {
  std::string model, input, output, device = "cpu", engine;
  std::size_t image_batch = 64;
  bool proba = false, json = false;
  std::size_t top_k = 0, batch_rows = 8192;
};

void PrintMetrics(const ml::Metrics& m, bool json) {
  if (json) {
    fmt::print("{}\n", ml::ToJson(m).dump(2));
    return;
  }
  fmt::print("Weighted F1 score: {:.4f}\nAccuracy:          {:.4f}\nMacro F1 score:    {:.4f}\nRows:              {}\n\n{}",
             m.weighted_f1, m.accuracy, m.macro_f1, m.rows, ml::FormatClassReport(m));
}

Status RunPredict(const PredictFlags& f, const artifact::ModelRegistry& registry, bool evaluate) {
  artifact::LoadOptions load;
  load.device = f.device;
  load.engine = f.engine;
  WHARF_ASSIGN_OR_RETURN(auto model, artifact::LoadModel(f.model, registry, load));
  if (model->schema().kind == artifact::ModelKind::kTransformer) {
    return InvalidArgument(fmt::format("--model {}: a transformer (PCA), not a classifier: apply it with wharf pca "
                                       "transform",
                                       f.model));
  }
  ml::PredictOptions options;
  options.input = f.input;
  options.secrets = LocalSecretLookup("wharf predict");
  if (!evaluate) options.output = f.output;
  options.probabilities = f.proba;
  options.top_k = f.top_k;
  options.batch_rows = std::max<std::size_t>(f.batch_rows, 1);
  if (model->schema().is_image()) options.batch_rows = std::min<std::size_t>(options.batch_rows, f.image_batch);
  WHARF_ASSIGN_OR_RETURN(ml::PredictResult result, model->schema().is_image() ? ml::PredictImages(*model, options)
                                                                              : ml::PredictCsv(*model, options));
  if (evaluate) {
    if (!result.metrics) {
      return InvalidArgument(fmt::format("{}: no '{}' to evaluate against", f.input, model->schema().label));
    }
    PrintMetrics(*result.metrics, f.json);
    return Status::Ok();
  }
  if (f.output != "-") {
    fmt::print("Predicted {} rows -> {}\n", result.rows, f.output);
    if (result.metrics) PrintMetrics(*result.metrics, false);
  }
  return Status::Ok();
}

}  // namespace

void AddPredictCommand(CLI::App& app, const CommandContext& context) {
  auto flags = std::make_shared<PredictFlags>();
  auto* cmd = app.add_subcommand("predict", "Predict a CSV in batch with a Modelfile; write a predictions CSV");
  cmd->add_option("--model", flags->model, "Modelfile")->required();
  cmd->add_option("--input", flags->input,
                  "Input CSV or database query (sqlite:///db?query=SELECT ..., postgresql://...?query=...; the label "
                  "column is optional; if present, metrics print); for an image model: an IDX images file, a folder "
                  "of class subfolders, or a folder of images")
      ->required();
  cmd->add_option("--output", flags->output, "Predictions CSV ('-' for stdout), or a new database table: sqlite:///db?table=NAME[&if_exists=replace|append]")
      ->required();
  cmd->add_flag("--proba", flags->proba, "Add a proba_<class> column per class");
  cmd->add_option("--top-k", flags->top_k, "Add the k most probable classes with their probabilities");
  cmd->add_option("--batch-rows", flags->batch_rows, "Rows per batch (bounds memory)")->capture_default_str();
  cmd->add_option("--image-batch", flags->image_batch, "Image models: images per forward pass")->capture_default_str();
  cmd->add_option("--device", flags->device, "Image models: cpu | cuda | cuda:N")->capture_default_str();
  cmd->add_option("--engine", flags->engine, "Image models: torchscript | onnx (default: the Modelfile's own)")
      ->check(CLI::IsMember({"torchscript", "onnx"}));
  cmd->callback([flags, context] { *context.exit_code = ExitWith(RunPredict(*flags, *context.registry, false)); });
}

void AddEvaluateCommand(CLI::App& app, const CommandContext& context) {
  auto flags = std::make_shared<PredictFlags>();
  auto* cmd = app.add_subcommand("evaluate", "Score a Modelfile on a labelled CSV");
  cmd->add_option("--model", flags->model, "Modelfile")->required();
  cmd->add_option("--input", flags->input, "Labelled CSV or database query")->required();
  cmd->add_flag("--json", flags->json, "Print metrics as JSON");
  cmd->add_option("--device", flags->device, "Image models: cpu | cuda | cuda:N")->capture_default_str();
  cmd->add_option("--engine", flags->engine, "Image models: torchscript | onnx (default: the Modelfile's own)")
      ->check(CLI::IsMember({"torchscript", "onnx"}));
  cmd->callback([flags, context] { *context.exit_code = ExitWith(RunPredict(*flags, *context.registry, true)); });
}

}  // namespace wharf::cli
