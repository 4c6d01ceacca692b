#pragma once
// Standardizes features to zero mean and unit variance, imputing missing
// values with the training mean (0 after scaling). Linear models need it;
// trees do not.

#include <cstddef>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "ml/collective.h"

namespace wharf::ml {

// Immutable once fitted; Transform is thread-safe.
class Standardizer {
 public:
  // Learns per-column mean and standard deviation from `rows` x `cols`
  // row-major values, ignoring NaN. A constant column gets scale 1. With
  // `across`, the rows are this rank's shard and the moments are those of
  // every rank's rows together.
  static Result<Standardizer> Fit(const float* x, std::size_t rows, std::size_t cols, Collective* across = nullptr);

  // Writes standardized rows to `out` (same shape); NaN becomes 0.
  void Transform(const float* x, std::size_t rows, float* out) const;

  std::size_t cols() const { return mean_.size(); }
  nlohmann::json ToJson() const;
  // InvalidArgument when fields are missing or do not have `cols` entries.
  static Result<Standardizer> FromJson(const nlohmann::json& j, std::size_t cols);

 private:
  std::vector<double> mean_, scale_;
};

}  // namespace wharf::ml
