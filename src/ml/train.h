#pragma once
// The train job: read the training (and validation) CSV, choose a model
// (fixed estimator, or a CV search), refit on all training rows, score, and
// assemble the Modelfile. Used by `wharf train` and, later, by task runners.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "artifact/modelfile.h"
#include "core/status.h"
#include "data/query_source.h"
#include "ml/collective.h"
#include "ml/metrics.h"
#include "ml/search.h"

namespace wharf::ml {

// The estimator `wharf train` uses when none is named (see docs/training.md
// for how it was chosen).
inline constexpr char kDefaultEstimator[] = "rf";

struct TrainOptions {
  std::filesystem::path train;  // a CSV, or a database query (data/query_source.h)
  std::optional<std::filesystem::path> validation;
  data::SecretLookup secrets;   // resolves a database location's password_secret
  std::string label;
  std::vector<std::string> ignore;  // columns that are not features (an id, an image's path)
  std::string estimator = kDefaultEstimator;  // a family kind, or "auto" (all families)
  Params params;                              // pinned hyperparameters
  std::size_t trials = 0;   // 0: fit the estimator's defaults (auto: compare every family's defaults by CV)
  int parallel = 1;
  int threads = 0;  // cores the fit may use; 0: every hardware thread
  int folds = 5;
  CvSplit cv_split = CvSplit::kStratified;
  bool cross_validate = false;  // also report CV of a single fixed configuration
  std::uint64_t seed = 1;
  SearchStrategy strategy = SearchStrategy::kRandom;
  TrialCallback on_trial;  // progress of a search
  TrialRunner trial_runner;  // runs a search's trials elsewhere (tasks); empty: in this process
};

// How far the validation file's mean of one feature is from the training
// file's, in training standard deviations.
struct FeatureShift {
  std::string feature;
  double train_mean = 0, validation_mean = 0, standardized_difference = 0;
};

struct TrainResult {
  artifact::Modelfile modelfile;
  const EstimatorFamily* family = nullptr;
  Params params;
  std::optional<CvScore> cv;  // of the chosen configuration, when CV ran
  std::vector<Trial> trials;  // best first, when a search ran
  Metrics train;
  std::optional<Metrics> validation;
  std::vector<FeatureShift> shift;  // every feature, largest |difference| first
  std::string label;
  std::filesystem::path train_path;
  std::optional<std::filesystem::path> validation_path;
  double seconds = 0;
};

Result<TrainResult> Train(const TrainOptions& options);

// Trains one configuration (options.estimator with options.params; no
// search, no CV) on rows spread over the ranks of `collective`: each rank
// reads its shard of the training and validation files (data/shard.h), and
// the ranks agree on the classes, the fit and the metrics, so every rank
// returns the same model and metrics. The header's feature summaries are
// rank 0's shard (a sample of the rows); the data hashes are filled on rank 0
// only. InvalidArgument for a family that cannot train across ranks.
Result<TrainResult> TrainDataParallel(const TrainOptions& options, Collective& collective);

// The family TrainDataParallel would fit: InvalidArgument when `options`
// asks for a search or CV, or names a family that cannot train across ranks.
Result<const EstimatorFamily*> DataParallelFamily(const TrainOptions& options);

// One configuration's cross-validation exactly as a search in Train scores
// it (the same rows, labels, folds and seed), for a trial run as a task.
Result<CvScore> CrossValidateTrial(const TrainOptions& options, const EstimatorFamily& family, const Params& params);

}  // namespace wharf::ml
