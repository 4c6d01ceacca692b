#pragma once
// Stratified k-fold cross-validation of one estimator configuration.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/status.h"
#include "ml/estimator.h"
#include "ml/training_data.h"

namespace wharf::ml {

// How rows are dealt into folds.
enum class CvSplit {
  kStratified,  // shuffled, each class spread evenly: rows are exchangeable
  kBlocked,     // contiguous blocks in file order: rows come in segments
                // (time, batches, sources), so each fold is an unseen segment
};

// Assigns each row a fold in [0, k) so that every class is spread evenly
// across folds; deterministic for a given seed.
std::vector<int> StratifiedFolds(const std::vector<int>& y, std::size_t num_classes, int k, std::uint64_t seed);

// Assigns row i of n to fold i * k / n.
std::vector<int> BlockedFolds(std::size_t rows, int k);

// The folds for `split`.
std::vector<int> MakeFolds(CvSplit split, const std::vector<int>& y, std::size_t num_classes, int k,
                           std::uint64_t seed);

struct CvScore {
  double weighted_f1 = 0;      // mean over folds
  double weighted_f1_std = 0;  // standard deviation over folds
  double accuracy = 0;         // mean over folds
};

// Fits the pipeline (family + params) on k-1 folds and scores the held-out
// fold, for each fold.
Result<CvScore> CrossValidate(const EstimatorFamily& family, const Params& params, const TrainingData& data,
                              const std::vector<int>& folds, int k, const FitContext& context);

}  // namespace wharf::ml
