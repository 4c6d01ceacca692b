#pragma once
// Human-readable results.txt and machine-readable metrics.json for a training run.

#include <string>

#include <nlohmann/json.hpp>

#include "ml/train.h"

namespace wharf::ml {

// `[Train]` and `[Test]` (the validation file) sections with weighted F1 and
// accuracy, then the model, how it was chosen, per-class metrics, the
// confusion matrix, the best search trials and the train/validation shift.
std::string FormatResults(const TrainResult& result);

nlohmann::json MetricsJson(const TrainResult& result);

// "C=1, max_iter=500"
std::string FormatParams(const Params& params);

}  // namespace wharf::ml
