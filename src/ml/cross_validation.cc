#include "ml/cross_validation.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "ml/metrics.h"
#include "ml/pipeline.h"

namespace wharf::ml {

std::vector<int> StratifiedFolds(const std::vector<int>& y, std::size_t num_classes, int k, std::uint64_t seed) {
  std::vector<std::vector<std::size_t>> by_class(num_classes);
  for (std::size_t i = 0; i < y.size(); ++i) by_class[static_cast<std::size_t>(y[i])].push_back(i);
  std::mt19937_64 rng(seed);
  std::vector<int> folds(y.size(), 0);
  int next = 0;  // continue the round-robin across classes so fold sizes stay even
  for (auto& rows : by_class) {
    std::shuffle(rows.begin(), rows.end(), rng);
    for (std::size_t row : rows) {
      folds[row] = next;
      next = (next + 1) % k;
    }
  }
  return folds;
}

std::vector<int> BlockedFolds(std::size_t rows, int k) {
  std::vector<int> folds(rows);
  for (std::size_t i = 0; i < rows; ++i) folds[i] = static_cast<int>(i * static_cast<std::size_t>(k) / rows);
  return folds;
}

std::vector<int> MakeFolds(CvSplit split, const std::vector<int>& y, std::size_t num_classes, int k,
                           std::uint64_t seed) {
  return split == CvSplit::kBlocked ? BlockedFolds(y.size(), k) : StratifiedFolds(y, num_classes, k, seed);
}

Result<CvScore> CrossValidate(const EstimatorFamily& family, const Params& params, const TrainingData& data,
                              const std::vector<int>& folds, int k, const FitContext& context) {
  std::vector<std::string> labels(data.num_classes);
  std::vector<double> f1s, accuracies;
  for (int fold = 0; fold < k; ++fold) {
    std::vector<std::size_t> train_rows, test_rows;
    for (std::size_t i = 0; i < data.rows; ++i) (folds[i] == fold ? test_rows : train_rows).push_back(i);
    if (test_rows.empty() || train_rows.empty()) continue;
    const TrainingData train = data.Subset(train_rows);
    const TrainingData test = data.Subset(test_rows);
    WHARF_ASSIGN_OR_RETURN(auto pipeline, Pipeline::Fit(family, params, train, context, {}));
    WHARF_ASSIGN_OR_RETURN(std::vector<int> predicted, pipeline->PredictClasses(test.x.data(), test.rows));
    const Metrics m = ComputeMetrics(test.y, predicted, labels);
    f1s.push_back(m.weighted_f1);
    accuracies.push_back(m.accuracy);
  }
  if (f1s.empty()) return InvalidArgument("cross-validation: too few rows for the number of folds");
  CvScore score;
  const double n = static_cast<double>(f1s.size());
  score.weighted_f1 = std::accumulate(f1s.begin(), f1s.end(), 0.0) / n;
  score.accuracy = std::accumulate(accuracies.begin(), accuracies.end(), 0.0) / n;
  double var = 0;
  for (double f : f1s) var += (f - score.weighted_f1) * (f - score.weighted_f1);
  score.weighted_f1_std = std::sqrt(var / n);
  return score;
}

}  // namespace wharf::ml
