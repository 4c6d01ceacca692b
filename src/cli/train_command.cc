// `wharf train`: train on a CSV, write DIR/Modelfile, DIR/results.txt and
// DIR/metrics.json.

#include <fstream>
#include <memory>

#include <fmt/format.h>

#include "artifact/modelfile.h"
#include "cli/local_secrets.h"
#include "cli/commands.h"
#include "cli/exit_code.h"
#include "cli/params.h"
#include "cli/progress.h"
#include "cli/ranks.h"
#include "cli/trial_tasks.h"
#include "ml/report.h"
#include "ml/train.h"

namespace wharf::cli {

namespace {

struct TrainFlags {
  std::string train, validation, label = "quality", out, estimator = ml::kDefaultEstimator, search = "random",
              cv_split = "stratified";
  std::vector<std::string> params, ignore;
  std::string executor, slurm_conf, partition;
  int ranks = 0;
  std::string launcher, tracker_host;
  std::size_t trials = 0;
  int parallel = 1, folds = 5, threads = 0;
  bool cv = false;
  std::uint64_t seed = 1;
};

// What each rank of `--ranks N` runs, after checking the flags here once.
Result<RanksOptions> RanksFor(const TrainFlags& f, const ml::TrainOptions& options) {
  if (!f.executor.empty()) return InvalidArgument("--ranks trains one model across ranks; --executor runs a search's trials");
  WHARF_ASSIGN_OR_RETURN(const ml::EstimatorFamily* family, ml::DataParallelFamily(options));
  WHARF_RETURN_IF_ERROR(ml::ResolveParams(*family, options.params).status());
  RanksOptions r;
  r.ranks = f.ranks;
  r.launcher = f.launcher;
  r.tracker_host = f.tracker_host;
  r.needs_tracker = family->data_parallel == ml::DataParallel::kXgboost;
  r.out = f.out;
  r.rank_args = {"--train", f.train, "--label", f.label, "--out", f.out, "--estimator", f.estimator,
                 "--seed", std::to_string(f.seed)};
  if (!f.validation.empty()) r.rank_args.insert(r.rank_args.end(), {"--validation", f.validation});
  if (f.threads > 0) r.rank_args.insert(r.rank_args.end(), {"--threads", std::to_string(f.threads)});
  for (const auto& p : f.params) r.rank_args.insert(r.rank_args.end(), {"--param", p});
  for (const auto& column : f.ignore) r.rank_args.insert(r.rank_args.end(), {"--ignore", column});
  return r;
}

Status Run(const TrainFlags& f) {
  ml::TrainOptions options;
  options.train = f.train;
  if (!f.validation.empty()) options.validation = f.validation;
  options.secrets = LocalSecretLookup("wharf train");
  options.label = f.label;
  options.ignore = f.ignore;
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

  if (f.ranks > 0) {
    WHARF_ASSIGN_OR_RETURN(const RanksOptions ranks, RanksFor(f, options));
    return RunRanks(ranks);
  }

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

  WHARF_RETURN_IF_ERROR(ml::WriteTrainOutputs(result, f.out));
  fmt::print("{}", ml::FormatTrainSummary(result, f.out));
  return Status::Ok();
}

}  // namespace

void AddTrainCommand(CLI::App& app, const CommandContext& context) {
  auto flags = std::make_shared<TrainFlags>();
  auto* cmd = app.add_subcommand("train", "Train a classifier on a CSV; write Modelfile, results.txt, metrics.json");
  cmd->add_option("--train", flags->train,
                  "Training CSV, or a database query: sqlite:///path.db?query=SELECT ..., "
                  "postgresql://user@host/db?password_secret=NAME&query=SELECT ...")
      ->required();
  cmd->add_option("--validation", flags->validation, "Validation CSV or database query, reported as [Test]; never used to choose");
  cmd->add_option("--label", flags->label, "Label column")->capture_default_str();
  cmd->add_option("--ignore", flags->ignore, "A column that is not a feature, e.g. path (repeatable)");
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
  cmd->add_option("--ranks", flags->ranks,
                  "Train one model data-parallel across N MPI ranks, each reading its shard of the CSVs "
                  "(logistic, xgboost, rf)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--launcher", flags->launcher, "With --ranks: mpirun (this host) or srun (default inside a Slurm allocation)")
      ->check(CLI::IsMember({"mpirun", "srun"}));
  cmd->add_option("--tracker-host", flags->tracker_host,
                  "With --ranks and xgboost/rf: the address XGBoost's tracker listens on (default 127.0.0.1 for "
                  "mpirun, the host's address for srun)");
  cmd->add_option("--slurm-conf", flags->slurm_conf, "With --executor slurm: the cluster's slurm.conf (default $SLURM_CONF)");
  cmd->add_option("--partition", flags->partition, "With --executor slurm: the partition");
  cmd->callback([flags, context] { *context.exit_code = ExitWith(Run(*flags)); });
}

}  // namespace wharf::cli
