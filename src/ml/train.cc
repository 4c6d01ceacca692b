#include "ml/train.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>

#include <fmt/format.h>

#include "core/parallel.h"
#include "core/version.h"
#include "data/dataset.h"
#include "data/query_source.h"
#include "data/summary.h"
#include "ml/label_map.h"
#include "ml/pipeline.h"
#include "ml/train_steps.h"

namespace wharf::ml {

namespace {

std::string UtcNow() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

nlohmann::json CvJson(const CvScore& s, int folds, CvSplit split) {
  return {{"folds", folds}, {"split", split == CvSplit::kBlocked ? "blocked" : "stratified"}, {"weighted_f1", s.weighted_f1}, {"weighted_f1_std", s.weighted_f1_std},
          {"accuracy", s.accuracy}};
}

// Picks the configuration: the search's best, or the estimator's defaults.
Status Choose(const TrainOptions& options, const TrainingData& train, TrainResult& result) {
  std::vector<const EstimatorFamily*> families;
  if (options.estimator == "auto") {
    for (const auto& family : Families()) families.push_back(&family);
  } else {
    WHARF_ASSIGN_OR_RETURN(const EstimatorFamily* family, FindFamily(options.estimator));
    WHARF_RETURN_IF_ERROR(ResolveParams(*family, options.params).status());
    families.push_back(family);
  }
  const bool search = options.trials > 0 || families.size() > 1;
  if (!search && !options.cross_validate) {
    result.family = families.front();
    WHARF_ASSIGN_OR_RETURN(result.params, ResolveParams(*result.family, options.params));
    return Status::Ok();
  }
  SearchOptions s;
  s.families = families;
  s.fixed = options.params;
  s.trials = std::max(options.trials, families.size());
  s.parallel = options.parallel;
  s.threads = options.threads;
  s.folds = options.folds;
  s.split = options.cv_split;
  s.seed = options.seed;
  s.strategy = options.strategy;
  s.runner = options.trial_runner;
  WHARF_ASSIGN_OR_RETURN(result.trials, RunSearch(train, s, options.on_trial));
  result.family = result.trials.front().family;
  result.params = result.trials.front().params;
  result.cv = result.trials.front().score;
  if (!search) result.trials.clear();  // a single CV'd configuration is not a search
  return Status::Ok();
}

}  // namespace

Result<LabelMap> ClassesOf(const TrainOptions& options, const std::vector<std::string>& labels) {
  LabelMap classes = LabelMap::FromLabels(labels);
  if (classes.size() < 2) {
    return InvalidArgument(fmt::format("{}: label column '{}' has only one class; need at least two",
                                       options.train.string(), options.label));
  }
  return classes;
}

TrainingData ToTrainingData(const data::Dataset& dataset, std::vector<int> y, std::size_t num_classes) {
  return {dataset.rows, dataset.cols(), num_classes, dataset.x, std::move(y)};
}

std::vector<FeatureShift> CompareMeans(const std::vector<data::FeatureSummary>& train,
                                       const std::vector<data::FeatureSummary>& validation) {
  std::vector<FeatureShift> shift;
  for (std::size_t i = 0; i < train.size(); ++i) {
    const double sd = train[i].std > 0 ? train[i].std : 1.0;
    shift.push_back({train[i].name, train[i].mean, validation[i].mean, (validation[i].mean - train[i].mean) / sd});
  }
  std::stable_sort(shift.begin(), shift.end(), [](const auto& a, const auto& b) {
    return std::abs(a.standardized_difference) > std::abs(b.standardized_difference);
  });
  return shift;
}

nlohmann::json DataJson(const std::string& path, const std::string& sha256, std::size_t rows) {
  return {{"path", path}, {"sha256", sha256}, {"rows", rows}};
}

Status FinishModelfile(const Pipeline& pipeline, const TrainOptions& options, nlohmann::json data,
                       nlohmann::json training, const std::vector<data::FeatureSummary>& summary, TrainResult& result) {
  auto& file = result.modelfile;
  WHARF_RETURN_IF_ERROR(pipeline.SaveTo(file));
  auto& h = file.header;
  h["format"] = "wharf.modelfile";
  h["wharf_version"] = kVersion;
  h["created_at"] = UtcNow();
  h["data"] = std::move(data);
  h["metrics"] = {{"train", ToJson(result.train)}};
  if (result.validation) h["metrics"]["validation"] = ToJson(*result.validation);
  if (result.cv) h["metrics"]["cv"] = CvJson(*result.cv, options.folds, options.cv_split);
  if (!result.trials.empty()) {
    h["search"] = {{"trials", result.trials.size()},
                   {"strategy", options.strategy == SearchStrategy::kGrid ? "grid" : "random"},
                   {"folds", options.folds},
                   {"seed", options.seed}};
  }
  h["training"] = std::move(training);
  h["feature_summary"] = nlohmann::json::array();
  for (const auto& s : summary) h["feature_summary"].push_back(data::ToJson(s));
  return Status::Ok();
}

Result<TrainResult> Train(const TrainOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  if (options.folds < 2) return InvalidArgument("--folds must be at least 2");
  if (options.parallel < 1) return InvalidArgument("--parallel must be at least 1");
  TrainResult result;
  result.label = options.label;
  result.train_path = options.train;
  result.validation_path = options.validation;

  WHARF_ASSIGN_OR_RETURN(data::Dataset train_set, data::ReadFeatureSource(options.train.string(), {options.label, true, {}, options.ignore}, options.secrets));
  WHARF_ASSIGN_OR_RETURN(const LabelMap labels, ClassesOf(options, train_set.labels));
  WHARF_ASSIGN_OR_RETURN(std::vector<int> y, labels.EncodeAll(train_set.labels));
  const TrainingData train = ToTrainingData(train_set, std::move(y), labels.size());

  std::optional<data::Dataset> validation_set;
  std::optional<TrainingData> validation;
  if (options.validation) {
    WHARF_ASSIGN_OR_RETURN(validation_set,
                           data::ReadFeatureSource(options.validation->string(), {options.label, true, train_set.features, {}},
                                                   options.secrets));
    auto vy = labels.EncodeAll(validation_set->labels);
    if (!vy.ok()) return vy.status().WithContext(options.validation->string());
    validation = ToTrainingData(*validation_set, std::move(*vy), labels.size());
  }

  WHARF_RETURN_IF_ERROR(Choose(options, train, result));
  const artifact::ModelSchema schema{artifact::ModelKind::kClassifier, train_set.features, options.label,
                                     labels.classes(), {}};
  const FitContext context{options.seed, options.threads > 0 ? options.threads : HardwareThreads()};
  WHARF_ASSIGN_OR_RETURN(auto pipeline, Pipeline::Fit(*result.family, result.params, train, context, schema));

  WHARF_ASSIGN_OR_RETURN(auto train_predicted, pipeline->PredictClasses(train.x.data(), train.rows));
  result.train = ComputeMetrics(train.y, train_predicted, labels.classes());
  const auto train_summary = data::SummarizeAll(train_set);
  if (validation) {
    WHARF_ASSIGN_OR_RETURN(auto predicted, pipeline->PredictClasses(validation->x.data(), validation->rows));
    result.validation = ComputeMetrics(validation->y, predicted, labels.classes());
    result.shift = CompareMeans(train_summary, data::SummarizeAll(*validation_set));
  }

  nlohmann::json data = {{"train", DataJson(train_set.source, train_set.sha256, train_set.rows)}};
  if (validation_set) data["validation"] = DataJson(validation_set->source, validation_set->sha256, validation_set->rows);
  WHARF_RETURN_IF_ERROR(FinishModelfile(*pipeline, options, std::move(data), {{"seed", options.seed}}, train_summary, result));
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

Result<CvScore> CrossValidateTrial(const TrainOptions& options, const EstimatorFamily& family, const Params& params) {
  if (options.folds < 2) return InvalidArgument("--folds must be at least 2");
  WHARF_ASSIGN_OR_RETURN(data::Dataset train_set, data::ReadFeatureSource(options.train.string(), {options.label, true, {}, options.ignore}, options.secrets));
  WHARF_ASSIGN_OR_RETURN(const LabelMap labels, ClassesOf(options, train_set.labels));
  WHARF_ASSIGN_OR_RETURN(std::vector<int> y, labels.EncodeAll(train_set.labels));
  const TrainingData train = ToTrainingData(train_set, std::move(y), labels.size());
  const std::vector<int> folds = MakeFolds(options.cv_split, train.y, train.num_classes, options.folds, options.seed);
  const FitContext context{options.seed, options.threads > 0 ? options.threads : HardwareThreads()};
  return CrossValidate(family, params, train, folds, options.folds, context);
}

}  // namespace wharf::ml
