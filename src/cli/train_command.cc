// `wharf train`: train on a CSV, write DIR/Modelfile, DIR/results.txt and
// DIR/metrics.json.

#include <fstream>
#include <memory>

#include <fmt/format.h>

#include "artifact/modelfile.h"
#include "cli/commands.h"
#include "cli/exit_code.h"
#include "cli/params.h"
#include "cli/progress.h"
#include "cli/trial_tasks.h"
#include "ml/report.h"
#include "ml/train.h"

namespace wharf::cli {

namespace {

struct TrainFlags {
  std::string train, validation, label = "quality", out, estimator = ml::kDefaultEstimator, search = "random",
              cv_split = "stratified";
  std::vector<std::string> params;
  std::string executor, slurm_conf, partition;
  std::size_t trials = 0;
  int parallel = 1, folds = 5, threads = 0;
  bool cv = false;
  std::uint64_t seed = 1;
};

Status WriteText(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) return IoError(path.string() + ": cannot write");
  return Status::Ok();
}

Status Run(const TrainFlags& f) {
  ml::TrainOptions options;
  options.train = f.train;
  if (!f.validation.empty()) options.validation = f.validation;
  options.label = f.label;
  options.estimator = f.estimator;
  WHARF_ASSIGN_OR_RETURN(options.params, ParseParams(f.params));
  options.trials = f.trials;
  options.parallel = f.parallel;
  options.threads = f.threads;
  options.folds = f.folds;
  options.cv_split = f.cv_split == "blocked" ? ml::CvSplit::kBlocked : ml::CvSplit::kStratified;
  options.cross_validate = f.cv;
  options.seed = f.seed;
  options.strategy = f.search == "grid" ? ml::SearchStrategy::kGrid : ml::SearchStrategy::kRandom;
  auto progress = std::make_shared<SearchProgress>();
  options.on_trial = [progress](const ml::Trial& t, std::size_t done, std::size_t total) {
    progress->OnTrial(t, done, total);
  };

  // Trials as tasks: the executor lives until the search is over.
  std::unique_ptr<exec::Executor> executor;
  if (!f.executor.empty()) {
    if (f.trials == 0 && f.estimator != "auto") {
      return InvalidArgument("--executor: runs a search's trials as tasks; give --trials N (or --estimator auto)");
    }
    const TrialTasksOptions tasks{f.executor, f.slurm_conf, f.partition, f.out, std::max(1, f.threads)};
    WHARF_ASSIGN_OR_RETURN(executor, MakeTrialExecutor(tasks));
    options.trial_runner = TrialTasks(*executor, tasks, options);
  }
  WHARF_ASSIGN_OR_RETURN(ml::TrainResult result, ml::Train(options));

  const std::filesystem::path dir = f.out;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return IoError(fmt::format("{}: cannot create directory: {}", dir.string(), ec.message()));
  WHARF_RETURN_IF_ERROR(artifact::WriteModelfile(result.modelfile, dir / "Modelfile"));
  WHARF_RETURN_IF_ERROR(WriteText(dir / "results.txt", ml::FormatResults(result)));
  WHARF_RETURN_IF_ERROR(WriteText(dir / "metrics.json", ml::MetricsJson(result).dump(2) + "\n"));

  fmt::print("Trained {} ({}) in {:.2f} s\n", result.family->kind, ml::FormatParams(result.params), result.seconds);
  if (result.cv) fmt::print("  [CV]    weighted F1 {:.4f} ± {:.4f}\n", result.cv->weighted_f1, result.cv->weighted_f1_std);
  fmt::print("  [Train] weighted F1 {:.4f}  accuracy {:.4f}\n", result.train.weighted_f1, result.train.accuracy);
  if (result.validation) {
    fmt::print("  [Test]  weighted F1 {:.4f}  accuracy {:.4f}\n", result.validation->weighted_f1,
               result.validation->accuracy);
  }
  fmt::print("Model:   {}\nReport:  {}\nMetrics: {}\n", (dir / "Modelfile").string(), (dir / "results.txt").string(),
             (dir / "metrics.json").string());
  return Status::Ok();
}

}  // namespace

void AddTrainCommand(CLI::App& app, const CommandContext& context) {
  auto flags = std::make_shared<TrainFlags>();
  auto* cmd = app.add_subcommand("train", "Train a classifier on a CSV; write Modelfile, results.txt, metrics.json");
  cmd->add_option("--train", flags->train, "Training CSV")->required();
  cmd->add_option("--validation", flags->validation, "Validation CSV, reported as [Test]; never used to choose");
  cmd->add_option("--label", flags->label, "Label column")->capture_default_str();
  cmd->add_option("--out", flags->out, "Output directory")->required();
  cmd->add_option("--estimator", flags->estimator, "logistic | ordinal-logistic | xgboost | rf | auto")
      ->capture_default_str();
  cmd->add_option("--param", flags->params, "Hyperparameter name=value (repeatable), e.g. max_depth=6");
  cmd->add_option("--trials", flags->trials, "Hyperparameter search: configurations to evaluate by k-fold CV");
  cmd->add_option("--parallel", flags->parallel, "Trials evaluated at a time")->capture_default_str();
  cmd->add_option("--search", flags->search, "random | grid")->check(CLI::IsMember({"random", "grid"}))
      ->capture_default_str();
  cmd->add_option("--threads", flags->threads, "Cores the fit may use (default: all)")->check(CLI::NonNegativeNumber);
  cmd->add_option("--folds", flags->folds, "Cross-validation folds")->capture_default_str();
  cmd->add_option("--cv-split", flags->cv_split,
                  "stratified (shuffled) | blocked (contiguous row blocks: for files whose rows come in segments)")
      ->check(CLI::IsMember({"stratified", "blocked"}))
      ->capture_default_str();
  cmd->add_flag("--cv", flags->cv, "Report k-fold CV of the configuration even without a search");
  cmd->add_option("--seed", flags->seed, "Seed for folds, search and estimators")->capture_default_str();
  cmd->add_option("--executor", flags->executor,
                  "Run the search's trials as tasks: local processes, or Slurm jobs (the same best model)")
      ->check(CLI::IsMember({"local", "slurm"}));
  cmd->add_option("--slurm-conf", flags->slurm_conf, "With --executor slurm: the cluster's slurm.conf (default $SLURM_CONF)");
  cmd->add_option("--partition", flags->partition, "With --executor slurm: the partition");
  cmd->callback([flags, context] { *context.exit_code = ExitWith(Run(*flags)); });
}

}  // namespace wharf::cli
