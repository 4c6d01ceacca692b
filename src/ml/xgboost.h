#pragma once
// Tree ensembles through libxgboost's C API:
//   xgboost  gradient-boosted trees (hist)
//   rf       a random forest (one round of num_parallel_tree trees, eta 1)
// With ordinal=1 both regress on the class index and soft-round the score to
// class probabilities (score 4.3 -> 0.7 on class 4, 0.3 on class 5), which
// respects the order of ordered labels such as wine quality.

#include <memory>
#include <string>

#include "core/status.h"
#include "ml/estimator.h"

namespace wharf::ml {

// The section holding the booster in XGBoost's UBJSON format.
inline constexpr char kBoosterSection[] = "xgboost.ubj";

Result<std::unique_ptr<FittedEstimator>> FitBoostedTrees(const TrainingData& data, const Params& params,
                                                         const FitContext& context);
Result<std::unique_ptr<FittedEstimator>> FitRandomForest(const TrainingData& data, const Params& params,
                                                         const FitContext& context);
Result<std::unique_ptr<FittedEstimator>> LoadXgboost(const nlohmann::json& state, const artifact::Modelfile& file,
                                                     const ModelShape& shape);

// Converts a booster section to XGBoost's JSON model format, which any
// XGBoost (e.g. python3-xgboost) loads.
Result<std::string> BoosterToJson(const std::string& ubjson);

}  // namespace wharf::ml
