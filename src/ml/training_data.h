#pragma once
// A classification training set: features and class indexes.

#include <cstddef>
#include <vector>

namespace wharf::ml {

// Features are row-major floats (NaN = missing); labels are class indexes in
// [0, num_classes), already mapped from the file's labels by a LabelMap.
struct TrainingData {
  std::size_t rows = 0;
  std::size_t cols = 0;
  std::size_t num_classes = 0;
  std::vector<float> x;
  std::vector<int> y;

  const float* row(std::size_t i) const { return x.data() + i * cols; }
  // The rows at `indexes`, in that order.
  TrainingData Subset(const std::vector<std::size_t>& indexes) const;
};

}  // namespace wharf::ml
