#pragma once
// Small synthetic classification sets for estimator tests.

#include <random>

#include "ml/training_data.h"

namespace wharf::ml::testdata {

// `classes` ordered Gaussian blobs along every feature (class c centred at
// 2c), so both nominal and ordinal models separate them well.
inline TrainingData Blobs(std::size_t rows, std::size_t cols, std::size_t classes, unsigned seed = 7) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> noise(0.0f, 0.6f);
  TrainingData d;
  d.rows = rows;
  d.cols = cols;
  d.num_classes = classes;
  for (std::size_t r = 0; r < rows; ++r) {
    const int c = static_cast<int>(r % classes);
    d.y.push_back(c);
    for (std::size_t f = 0; f < cols; ++f) d.x.push_back(2.0f * static_cast<float>(c) + noise(rng) + static_cast<float>(f));
  }
  return d;
}

}  // namespace wharf::ml::testdata
