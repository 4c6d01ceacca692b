#pragma once
// Linear classifiers on standardized inputs, fitted with L-BFGS:
//   logistic         multinomial logistic regression with L2 penalty 1/(2C)|W|^2
//   ordinal-logistic cumulative-link (proportional odds) logit for ordered
//                    classes: P(y <= k) = sigmoid(theta_k - w.x)

#include <memory>

#include "core/status.h"
#include "ml/estimator.h"

namespace wharf::ml {

Result<std::unique_ptr<FittedEstimator>> FitLogistic(const TrainingData& data, const Params& params,
                                                     const FitContext& context);
Result<std::unique_ptr<FittedEstimator>> LoadLogistic(const nlohmann::json& state, const artifact::Modelfile& file,
                                                      const ModelShape& shape);

Result<std::unique_ptr<FittedEstimator>> FitOrdinalLogistic(const TrainingData& data, const Params& params,
                                                            const FitContext& context);
Result<std::unique_ptr<FittedEstimator>> LoadOrdinalLogistic(const nlohmann::json& state,
                                                             const artifact::Modelfile& file, const ModelShape& shape);

}  // namespace wharf::ml
