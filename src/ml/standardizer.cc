#include "ml/standardizer.h"

#include <cmath>

namespace wharf::ml {

Standardizer Standardizer::Fit(const float* x, std::size_t rows, std::size_t cols) {
  Standardizer s;
  s.mean_.assign(cols, 0.0);
  s.scale_.assign(cols, 1.0);
  for (std::size_t c = 0; c < cols; ++c) {
    double sum = 0, sum_sq = 0;
    std::size_t n = 0;
    for (std::size_t r = 0; r < rows; ++r) {
      const double v = x[r * cols + c];
      if (std::isnan(v)) continue;
      sum += v;
      ++n;
    }
    if (n == 0) continue;
    const double mean = sum / static_cast<double>(n);
    for (std::size_t r = 0; r < rows; ++r) {
      const double v = x[r * cols + c];
      if (!std::isnan(v)) sum_sq += (v - mean) * (v - mean);
    }
    const double sd = std::sqrt(sum_sq / static_cast<double>(n));
    s.mean_[c] = mean;
    s.scale_[c] = sd > 1e-12 ? sd : 1.0;
  }
  return s;
}

void Standardizer::Transform(const float* x, std::size_t rows, float* out) const {
  const std::size_t cols = mean_.size();
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t c = 0; c < cols; ++c) {
      const float v = x[r * cols + c];
      out[r * cols + c] = std::isnan(v) ? 0.0f : static_cast<float>((v - mean_[c]) / scale_[c]);
    }
  }
}

nlohmann::json Standardizer::ToJson() const {
  return {{"kind", "standardize"}, {"mean", mean_}, {"scale", scale_}};
}

Result<Standardizer> Standardizer::FromJson(const nlohmann::json& j, std::size_t cols) {
  Standardizer s;
  try {
    s.mean_ = j.at("mean").get<std::vector<double>>();
    s.scale_ = j.at("scale").get<std::vector<double>>();
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgument(std::string("standardize step: ") + e.what());
  }
  if (s.mean_.size() != cols || s.scale_.size() != cols) {
    return InvalidArgument("standardize step: expected " + std::to_string(cols) + " means and scales");
  }
  return s;
}

}  // namespace wharf::ml
