#include "ml/standardizer.h"

#include <cmath>

namespace wharf::ml {

Result<Standardizer> Standardizer::Fit(const float* x, std::size_t rows, std::size_t cols, Collective* across) {
  // Two passes, each summed across ranks when there are several: counts and
  // sums give the means, then squared deviations from them the scales.
  std::vector<double> sums(2 * cols, 0.0);  // non-missing count, sum
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t c = 0; c < cols; ++c) {
      const double v = x[r * cols + c];
      if (std::isnan(v)) continue;
      sums[2 * c] += 1;
      sums[2 * c + 1] += v;
    }
  }
  if (across != nullptr) WHARF_RETURN_IF_ERROR(across->Sum(sums));
  Standardizer s;
  s.mean_.assign(cols, 0.0);
  s.scale_.assign(cols, 1.0);
  for (std::size_t c = 0; c < cols; ++c) {
    if (sums[2 * c] > 0) s.mean_[c] = sums[2 * c + 1] / sums[2 * c];
  }
  std::vector<double> squares(cols, 0.0);
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t c = 0; c < cols; ++c) {
      const double v = x[r * cols + c];
      if (!std::isnan(v)) squares[c] += (v - s.mean_[c]) * (v - s.mean_[c]);
    }
  }
  if (across != nullptr) WHARF_RETURN_IF_ERROR(across->Sum(squares));
  for (std::size_t c = 0; c < cols; ++c) {
    if (sums[2 * c] == 0) continue;
    const double sd = std::sqrt(squares[c] / sums[2 * c]);
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
