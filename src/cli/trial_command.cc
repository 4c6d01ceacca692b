// `wharf trial` (hidden): one search trial's k-fold cross-validation, as a
// task of `wharf train --trials N --executor ...`; writes the score as JSON.

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/local_secrets.h"
#include "cli/commands.h"
#include "cli/exit_code.h"
#include "core/file.h"
#include "ml/train.h"

namespace wharf::cli {

namespace {

struct TrialFlags {
  std::string train, label = "quality", estimator, params = "{}", cv_split = "stratified", out;
  std::vector<std::string> ignore;
  int folds = 5, threads = 1;
  std::uint64_t seed = 1;
};

Status Run(const TrialFlags& f) {
  ml::TrainOptions options;
  options.train = f.train;
  options.secrets = LocalSecretLookup("wharf trial");
  options.label = f.label;
  options.ignore = f.ignore;
  options.folds = f.folds;
  options.cv_split = f.cv_split == "blocked" ? ml::CvSplit::kBlocked : ml::CvSplit::kStratified;
  options.seed = f.seed;
  options.threads = f.threads;
  WHARF_ASSIGN_OR_RETURN(const ml::EstimatorFamily* family, ml::FindFamily(f.estimator));
  const nlohmann::json params = nlohmann::json::parse(f.params, nullptr, false);
  if (!params.is_object()) return InvalidArgument("--params: must be a JSON object of numbers");
  ml::Params values;
  for (const auto& [name, value] : params.items()) {
    if (!value.is_number()) return InvalidArgument(fmt::format("--params: '{}' must be a number", name));
    values[name] = value.get<double>();
  }
  WHARF_ASSIGN_OR_RETURN(ml::CvScore score, ml::CrossValidateTrial(options, *family, values));
  return WriteFileAtomically(f.out, nlohmann::json{{"weighted_f1", score.weighted_f1},
                                                   {"weighted_f1_std", score.weighted_f1_std},
                                                   {"accuracy", score.accuracy}}
                                        .dump() +
                                        "\n");
}

}  // namespace

void AddTrialCommand(CLI::App& app, const CommandContext& context) {
  auto f = std::make_shared<TrialFlags>();
  auto* cmd = app.add_subcommand("trial", "One search trial's cross-validation (a task of train --executor)");
  cmd->group("");  // internal: not in --help
  cmd->add_option("--train", f->train, "Training CSV")->required();
  cmd->add_option("--label", f->label, "Label column");
  cmd->add_option("--ignore", f->ignore, "A column that is not a feature (repeatable)");
  cmd->add_option("--estimator", f->estimator, "Estimator family")->required();
  cmd->add_option("--params", f->params, "Hyperparameters, a JSON object");
  cmd->add_option("--folds", f->folds, "Cross-validation folds");
  cmd->add_option("--cv-split", f->cv_split, "stratified | blocked")->check(CLI::IsMember({"stratified", "blocked"}));
  cmd->add_option("--seed", f->seed, "Seed for folds and estimators");
  cmd->add_option("--threads", f->threads, "Cores the fits may use");
  cmd->add_option("--out", f->out, "Where the score goes (JSON)")->required();
  cmd->callback([f, context] { *context.exit_code = ExitWith(Run(*f)); });
}

}  // namespace wharf::cli
