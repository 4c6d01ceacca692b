#pragma once
// The predict job: stream a CSV (or a query's rows) through a loaded model in batches and write
// a predictions CSV; when the input has the label column, also score it.
// Memory stays bounded by the batch size, so inputs larger than memory work.

#include <cstddef>
#include <filesystem>
#include <optional>

#include "artifact/model.h"
#include "core/status.h"
#include "data/query_source.h"
#include "ml/metrics.h"

namespace wharf::ml {

struct PredictOptions {
  std::filesystem::path input;                  // a CSV, or a database query (data/query_source.h)
  std::optional<std::filesystem::path> output;  // none: score only ("-" writes to stdout; table= a database table)
  bool probabilities = false;  // add proba_<class> columns
  std::size_t top_k = 0;       // add top1,top1_proba,... columns
  std::size_t batch_rows = 8192;
  data::SecretLookup secrets;  // resolves a database location's password_secret
};

struct PredictResult {
  std::size_t rows = 0;
  std::optional<Metrics> metrics;  // when the input has the model's label column
};

// The output is written to a temporary file and renamed into place, so a
// failed run never leaves a truncated predictions file behind.
Result<PredictResult> PredictCsv(const artifact::Model& model, const PredictOptions& options);

// Predicts an image model's inputs: an IDX images file (scored when its
// labels file is beside it), a folder with one subfolder per class (scored
// by folder name), or a folder of image files. Output rows: image[,label],
// then the columns PredictCsv writes. Images are decoded by the model
// (Model::DecodeImage): they must have its size.
Result<PredictResult> PredictImages(const artifact::Model& model, const PredictOptions& options);

}  // namespace wharf::ml
