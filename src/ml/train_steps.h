#pragma once
// Steps that Train (one process) and TrainDataParallel (ranks) share: the
// classes of a label column, the train/validation shift, and the Modelfile
// header every training run writes. Internal to src/ml.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "data/dataset.h"
#include "data/summary.h"
#include "ml/label_map.h"
#include "ml/pipeline.h"
#include "ml/train.h"

namespace wharf::ml {

// The classes of `labels` (the training file's label column); at least two.
Result<LabelMap> ClassesOf(const TrainOptions& options, const std::vector<std::string>& labels);

TrainingData ToTrainingData(const data::Dataset& dataset, std::vector<int> y, std::size_t num_classes);

// Every feature's validation mean against its training mean, largest
// standardized difference first. Uses each summary's name, mean and std.
std::vector<FeatureShift> CompareMeans(const std::vector<data::FeatureSummary>& train,
                                       const std::vector<data::FeatureSummary>& validation);

// {"path", "sha256", "rows"} of a file the model was trained or validated on.
nlohmann::json DataJson(const std::string& path, const std::string& sha256, std::size_t rows);

// Saves `pipeline` into result.modelfile and writes the header: format and
// versions, `data` ({"train": DataJson, "validation": DataJson}), the
// metrics, CV and search in `result`, `training`, and `summary` as
// feature_summary.
Status FinishModelfile(const Pipeline& pipeline, const TrainOptions& options, nlohmann::json data,
                       nlohmann::json training, const std::vector<data::FeatureSummary>& summary, TrainResult& result);

}  // namespace wharf::ml
