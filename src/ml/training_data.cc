#include "ml/training_data.h"

#include <algorithm>

namespace wharf::ml {

TrainingData TrainingData::Subset(const std::vector<std::size_t>& indexes) const {
  TrainingData out;
  out.rows = indexes.size();
  out.cols = cols;
  out.num_classes = num_classes;
  out.x.resize(out.rows * cols);
  out.y.resize(out.rows);
  for (std::size_t i = 0; i < indexes.size(); ++i) {
    std::copy_n(row(indexes[i]), cols, out.x.data() + i * cols);
    out.y[i] = y[indexes[i]];
  }
  return out;
}

}  // namespace wharf::ml
