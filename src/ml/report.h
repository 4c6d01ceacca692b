#pragma once
// Human-readable results.txt and machine-readable metrics.json for a training run.

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "ml/train.h"

namespace wharf::ml {

// `[Train]` and `[Test]` (the validation file) sections with weighted F1 and
// accuracy, then the model, how it was chosen, per-class metrics, the
// confusion matrix, the best search trials and the train/validation shift.
std::string FormatResults(const TrainResult& result);
// "[NAME]" then weighted F1, accuracy, macro F1 and rows: a results.txt section.
std::string FormatMetricsSection(const std::string& name, const Metrics& m);

nlohmann::json MetricsJson(const TrainResult& result);

// Writes DIR/Modelfile, DIR/results.txt and DIR/metrics.json, creating DIR.
Status WriteTrainOutputs(const TrainResult& result, const std::filesystem::path& dir);

// What `wharf train` prints when done: the scores and where the files went.
std::string FormatTrainSummary(const TrainResult& result, const std::filesystem::path& dir);

// "C=1, max_iter=500"
std::string FormatParams(const Params& params);

}  // namespace wharf::ml
