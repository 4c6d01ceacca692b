#include "ml/pca.h"

#include <algorithm>
#include <cmath>
#include <random>

#include <fmt/format.h>

namespace wharf::ml {

namespace {

using Eigen::MatrixXd;
using Eigen::VectorXd;

// The number of leading variances whose sum reaches `share` of `total`.
std::size_t ComponentsFor(const std::vector<double>& variances, double total, double share) {
  double sum = 0;
  for (std::size_t k = 0; k < variances.size(); ++k) {
    sum += variances[k];
    if (sum >= share * total * (1 - 1e-12)) return k + 1;
  }
  return variances.size();
}

// Orthonormal basis of the columns of `m` (thin QR).
MatrixXd Orthonormal(const MatrixXd& m) {
  Eigen::HouseholderQR<MatrixXd> qr(m);
  return qr.householderQ() * MatrixXd::Identity(m.rows(), m.cols());
}

}  // namespace

Result<Pca> Pca::Fit(const float* x, std::size_t rows, std::size_t cols, const PcaOptions& options) {
  if (rows < 2) return InvalidArgument(fmt::format("PCA needs at least 2 rows, not {}", rows));
  if (cols == 0) return InvalidArgument("PCA needs at least one column");
  if (options.components == 0 && !(options.explained_variance > 0 && options.explained_variance <= 1)) {
    return InvalidArgument("explained variance must be a share in (0, 1]");
  }
  if (options.components > cols) {
    return InvalidArgument(fmt::format("{} components asked of {} columns", options.components, cols));
  }
  MatrixXd data(rows, cols);
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t c = 0; c < cols; ++c) {
      const float v = x[r * cols + c];
      if (!std::isfinite(v)) return InvalidArgument(fmt::format("row {}, column {}: not a finite number", r + 1, c + 1));
      data(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(c)) = v;
    }
  }
  Pca pca;
  pca.mean_ = data.colwise().mean();
  data.rowwise() -= pca.mean_.transpose();
  const double n1 = static_cast<double>(rows - 1);
  const double total = data.squaredNorm() / n1;

  std::vector<double> variances;
  MatrixXd axes;
  if (cols <= options.exact_max_columns) {
    const MatrixXd covariance = (data.transpose() * data) / n1;
    Eigen::SelfAdjointEigenSolver<MatrixXd> eigen(covariance);
    const auto d = static_cast<Eigen::Index>(cols);
    axes.resize(d, d);
    for (Eigen::Index k = 0; k < d; ++k) {  // eigenvalues come smallest first
      variances.push_back(std::max(eigen.eigenvalues()(d - 1 - k), 0.0));
      axes.col(k) = eigen.eigenvectors().col(d - 1 - k);
    }
  } else {
    pca.randomized_ = true;
    const std::size_t wanted = options.components > 0 ? options.components : std::min<std::size_t>(cols, 100);
    const auto sketch = static_cast<Eigen::Index>(std::min(cols, std::min(rows, wanted + options.oversample)));
    std::mt19937_64 rng(options.seed);
    std::normal_distribution<double> normal;
    MatrixXd omega(static_cast<Eigen::Index>(cols), sketch);
    for (Eigen::Index i = 0; i < omega.size(); ++i) omega.data()[i] = normal(rng);
    MatrixXd q = Orthonormal(data * omega);
    for (int i = 0; i < options.power_iterations; ++i) q = Orthonormal(data * Orthonormal(data.transpose() * q));
    const MatrixXd small = q.transpose() * data;  // sketch x cols
    Eigen::JacobiSVD<MatrixXd> svd(small, Eigen::ComputeThinV);
    axes = svd.matrixV();
    for (Eigen::Index k = 0; k < svd.singularValues().size(); ++k) {
      variances.push_back(svd.singularValues()(k) * svd.singularValues()(k) / n1);
    }
  }
  std::size_t keep = options.components > 0 ? options.components : ComponentsFor(variances, total, options.explained_variance);
  keep = std::min(keep, variances.size());
  // A sign convention, so the same data gives the same axes: the largest
  // loading of each component is positive (as scikit-learn's svd_flip).
  for (std::size_t k = 0; k < keep; ++k) {
    Eigen::Index at = 0;
    axes.col(static_cast<Eigen::Index>(k)).cwiseAbs().maxCoeff(&at);
    if (axes(at, static_cast<Eigen::Index>(k)) < 0) axes.col(static_cast<Eigen::Index>(k)) *= -1;
  }
  pca.axes_ = axes.leftCols(static_cast<Eigen::Index>(keep));
  pca.variance_.assign(variances.begin(), variances.begin() + static_cast<std::ptrdiff_t>(keep));
  for (const double v : pca.variance_) pca.ratio_.push_back(total > 0 ? v / total : 0);
  pca.spectrum_ = std::move(variances);
  pca.total_ = total;
  return pca;
}

void Pca::Transform(const float* x, std::size_t rows, float* out) const {
  const auto d = mean_.size();
  const auto k = axes_.cols();
  VectorXd centered(d);
  for (std::size_t r = 0; r < rows; ++r) {
    for (Eigen::Index c = 0; c < d; ++c) centered(c) = x[r * static_cast<std::size_t>(d) + static_cast<std::size_t>(c)] - mean_(c);
    const VectorXd projected = axes_.transpose() * centered;
    for (Eigen::Index j = 0; j < k; ++j) out[r * static_cast<std::size_t>(k) + static_cast<std::size_t>(j)] = static_cast<float>(projected(j));
  }
}

nlohmann::json Pca::ToJson() const {
  std::vector<std::vector<double>> components;
  for (Eigen::Index j = 0; j < axes_.cols(); ++j) {
    components.emplace_back(axes_.col(j).data(), axes_.col(j).data() + axes_.rows());
  }
  return {{"mean", std::vector<double>(mean_.data(), mean_.data() + mean_.size())},
          {"components", components},
          {"explained_variance", variance_},
          {"explained_variance_ratio", ratio_},
          {"spectrum", spectrum_},
          {"total_variance", total_},
          {"randomized", randomized_}};
}

Result<Pca> Pca::FromJson(const nlohmann::json& j) {
  Pca pca;
  try {
    const auto mean = j.at("mean").get<std::vector<double>>();
    const auto components = j.at("components").get<std::vector<std::vector<double>>>();
    pca.variance_ = j.at("explained_variance").get<std::vector<double>>();
    pca.ratio_ = j.at("explained_variance_ratio").get<std::vector<double>>();
    pca.randomized_ = j.value("randomized", false);
    pca.spectrum_ = j.value("spectrum", pca.variance_);
    pca.total_ = j.value("total_variance", 0.0);
    if (mean.empty() || components.empty() || pca.variance_.size() != components.size() ||
        pca.ratio_.size() != components.size()) {
      return InvalidArgument("pca: mean, components and their variances do not match");
    }
    pca.mean_ = Eigen::Map<const VectorXd>(mean.data(), static_cast<Eigen::Index>(mean.size()));
    pca.axes_.resize(static_cast<Eigen::Index>(mean.size()), static_cast<Eigen::Index>(components.size()));
    for (std::size_t c = 0; c < components.size(); ++c) {
      if (components[c].size() != mean.size()) {
        return InvalidArgument(fmt::format("pca: component {} has {} values, not {}", c, components[c].size(), mean.size()));
      }
      pca.axes_.col(static_cast<Eigen::Index>(c)) =
          Eigen::Map<const VectorXd>(components[c].data(), static_cast<Eigen::Index>(mean.size()));
    }
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgument(std::string("pca: ") + e.what());
  }
  return pca;
}

}  // namespace wharf::ml
