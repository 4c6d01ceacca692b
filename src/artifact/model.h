#pragma once
// A loaded model: what it expects, what it produces, and Predict().

#include <cstddef>
#include <string>
#include <vector>

#include "core/status.h"

namespace wharf::artifact {

enum class ModelKind { kClassifier, kRegressor, kTransformer };

// The contract between a model and its callers, read from the Modelfile header.
struct ModelSchema {
  ModelKind kind = ModelKind::kClassifier;
  std::vector<std::string> features;  // input columns, in the order Predict expects
  std::string label;                  // the label column's name when trained
  std::vector<std::string> classes;   // classifier output i is the probability of classes[i]
};

// A model ready to predict. Implementations are immutable once loaded:
// Predict is const and thread-safe, so one loaded model serves many threads.
class Model {
 public:
  virtual ~Model() = default;

  virtual const ModelSchema& schema() const = 0;

  // Values Predict writes per row: the number of classes for a classifier
  // (probabilities summing to 1), 1 for a regressor, the output dimension of
  // a transformer.
  virtual std::size_t output_width() const = 0;

  // `x` holds rows * schema().features.size() floats, row-major, NaN for a
  // missing value; `out` receives rows * output_width() floats.
  virtual Status Predict(const float* x, std::size_t rows, float* out) const = 0;
};

}  // namespace wharf::artifact
