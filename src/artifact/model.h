#pragma once
// A loaded model: what it expects, what it produces, and Predict().

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
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
  // An image model's input, {channels, height, width}: each row holds that
  // many pixel intensities in [0, 1], channel-major (CHW). Empty for a
  // tabular model, whose row is one value per feature.
  std::vector<std::int64_t> image_shape;

  bool is_image() const { return !image_shape.empty(); }
  // Floats per input row.
  std::size_t input_width() const;
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

  // An image model decodes one encoded image (PNG or JPEG) into one input
  // row of schema().input_width() floats. InvalidArgument, fit for a client,
  // when the bytes are not such an image, are too large, or have another
  // size than the model takes; Unimplemented for tabular models.
  virtual Status DecodeImage(std::string_view encoded, float* row) const;
};

}  // namespace wharf::artifact
