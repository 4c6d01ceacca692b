#pragma once
// Hyperparameter search: N configurations (random draws or a grid over each
// family's declared space), each scored by k-fold CV on the
// training data, P at a time. Reproducible: the same seed gives the same
// configurations, folds and scores whatever P is.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/status.h"
#include "ml/cross_validation.h"
#include "ml/estimator.h"

namespace wharf::ml {

enum class SearchStrategy { kRandom, kGrid };

struct Trial;
// Evaluates every planned trial somewhere else (as tasks on an executor):
// sets each one's score and seconds, or its status when it failed. An error
// means the search itself could not go on.
using TrialRunner = std::function<Status(std::vector<Trial>& trials)>;

struct SearchOptions {
  std::vector<const EstimatorFamily*> families;  // which estimators to try
  Params fixed;                 // parameters the user pinned (applied to families that have them)
  std::size_t trials = 1;       // the first trial of each family is its defaults
  int parallel = 1;             // trials at a time
  int threads = 0;              // cores in all; 0: every hardware thread
  int folds = 5;
  CvSplit split = CvSplit::kStratified;
  std::uint64_t seed = 0;
  SearchStrategy strategy = SearchStrategy::kRandom;
  TrialRunner runner;  // empty: in this process, `parallel` at a time
};

// One evaluated configuration.
struct Trial {
  std::size_t index = 0;
  const EstimatorFamily* family = nullptr;
  Params params;
  CvScore score;
  double seconds = 0;
  Status status;  // non-OK if fitting failed; such trials rank last
};

// Called after each trial finishes (from one thread at a time).
using TrialCallback = std::function<void(const Trial& trial, std::size_t done, std::size_t total)>;

// The configurations a search will evaluate, in trial order.
Result<std::vector<Trial>> PlanTrials(const SearchOptions& options);

// Evaluates every planned trial; returns them best first (by mean CV
// weighted F1, ties broken by trial order). InvalidArgument if every trial failed.
Result<std::vector<Trial>> RunSearch(const TrainingData& data, const SearchOptions& options,
                                     const TrialCallback& on_trial);

}  // namespace wharf::ml
