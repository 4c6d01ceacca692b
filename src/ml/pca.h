#pragma once
// Principal component analysis: the directions of largest variance of a
// feature table, to reduce CNN features (hundreds of columns) to the few
// that carry most of their variance. Exact (eigen-decomposition of the
// covariance matrix) for tables with few columns; randomized SVD (Halko,
// Martinsson and Tropp, 2011) when the columns are many, which needs only a
// few passes over the data.

#include <cstddef>
#include <cstdint>
#include <vector>

#include <Eigen/Dense>
#include <nlohmann/json.hpp>

#include "core/status.h"

namespace wharf::ml {

// How many components to keep: a fixed count, or the fewest whose explained
// variance reaches a share of the total.
struct PcaOptions {
  std::size_t components = 0;      // > 0: keep exactly this many (at most the columns)
  double explained_variance = 0.95;  // used when components is 0: a share in (0, 1]
  // Above this many columns the randomized SVD is used (with `oversample`
  // extra directions and `power_iterations` passes for accuracy).
  std::size_t exact_max_columns = 512;
  std::size_t oversample = 10;
  int power_iterations = 4;
  std::uint64_t seed = 42;
};

// A fitted projection. Immutable once fitted; Transform is thread-safe.
class Pca {
 public:
  // Fits on `rows` x `cols` row-major values (no NaN). InvalidArgument for
  // fewer than 2 rows, no columns, NaN, or options out of range.
  static Result<Pca> Fit(const float* x, std::size_t rows, std::size_t cols, const PcaOptions& options = {});

  // Projects rows onto the kept components: `out` gets rows x components().
  void Transform(const float* x, std::size_t rows, float* out) const;

  std::size_t cols() const { return static_cast<std::size_t>(mean_.size()); }
  std::size_t components() const { return static_cast<std::size_t>(axes_.cols()); }
  // cols x components; column j is component j (unit length, orthogonal to the others).
  const Eigen::MatrixXd& axes() const { return axes_; }
  const Eigen::VectorXd& mean() const { return mean_; }
  // Variance along each kept component, largest first, and each one's share
  // of the total variance of the data (all columns).
  const std::vector<double>& explained_variance() const { return variance_; }
  const std::vector<double>& explained_variance_ratio() const { return ratio_; }
  // Variance along every component the fit computed (all of them when
  // exact; the sketch's when randomized), largest first: the curve a
  // report plots, of which the kept components are the first components().
  const std::vector<double>& spectrum() const { return spectrum_; }
  // The data's total variance (the sum over all columns), exact either way.
  double total_variance() const { return total_; }
  bool randomized() const { return randomized_; }

  nlohmann::json ToJson() const;
  // InvalidArgument naming the field for a malformed or inconsistent object.
  static Result<Pca> FromJson(const nlohmann::json& j);

 private:
  Eigen::VectorXd mean_;
  Eigen::MatrixXd axes_;
  std::vector<double> variance_, ratio_, spectrum_;
  double total_ = 0;
  bool randomized_ = false;
};

}  // namespace wharf::ml
