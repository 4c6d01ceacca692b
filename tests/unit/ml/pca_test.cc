#include "ml/pca.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace wharf::ml {
namespace {

using Eigen::MatrixXd;

// rows x cols values: `rank` latent factors with decreasing scales, mixed
// into the columns, plus a little noise; row-major floats.
std::vector<float> LowRank(std::size_t rows, std::size_t cols, std::size_t rank, double noise, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal;
  MatrixXd mix(static_cast<Eigen::Index>(rank), static_cast<Eigen::Index>(cols));
  for (Eigen::Index i = 0; i < mix.size(); ++i) mix.data()[i] = normal(rng);
  std::vector<float> x(rows * cols);
  for (std::size_t r = 0; r < rows; ++r) {
    Eigen::RowVectorXd row = Eigen::RowVectorXd::Constant(static_cast<Eigen::Index>(cols), 3.0);  // an offset
    for (std::size_t f = 0; f < rank; ++f) row += normal(rng) * (10.0 / static_cast<double>(f + 1)) * mix.row(static_cast<Eigen::Index>(f));
    for (std::size_t c = 0; c < cols; ++c) x[r * cols + c] = static_cast<float>(row(static_cast<Eigen::Index>(c)) + noise * normal(rng));
  }
  return x;
}

// The reference: singular values of the centered data, squared over n - 1.
std::vector<double> ReferenceVariances(const std::vector<float>& x, std::size_t rows, std::size_t cols) {
  MatrixXd m(static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(cols));
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t c = 0; c < cols; ++c) m(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(c)) = x[r * cols + c];
  }
  m.rowwise() -= m.colwise().mean();
  Eigen::JacobiSVD<MatrixXd> svd(m);
  std::vector<double> out;
  for (Eigen::Index k = 0; k < svd.singularValues().size(); ++k) {
    out.push_back(svd.singularValues()(k) * svd.singularValues()(k) / static_cast<double>(rows - 1));
  }
  return out;
}

TEST(PcaTest, ComponentsAreOrthonormalAndExplainTheReferenceVariance) {
  const std::size_t rows = 300, cols = 6;
  const auto x = LowRank(rows, cols, 6, 0.1, 1);
  PcaOptions options;
  options.components = cols;
  auto pca = Pca::Fit(x.data(), rows, cols, options);
  ASSERT_TRUE(pca.ok()) << pca.status().message();
  const MatrixXd gram = pca->axes().transpose() * pca->axes();
  EXPECT_TRUE(gram.isApprox(MatrixXd::Identity(6, 6), 1e-9));
  const auto reference = ReferenceVariances(x, rows, cols);
  double ratio_sum = 0;
  for (std::size_t k = 0; k < cols; ++k) {
    EXPECT_NEAR(pca->explained_variance()[k], reference[k], 1e-6 * reference[0]) << k;
    ratio_sum += pca->explained_variance_ratio()[k];
    if (k > 0) {
      EXPECT_LE(pca->explained_variance()[k], pca->explained_variance()[k - 1]);
    }
  }
  EXPECT_NEAR(ratio_sum, 1.0, 1e-9);  // every component kept: all of the variance

  // Transform = (x - mean) . axes
  std::vector<float> out(rows * cols);
  pca->Transform(x.data(), rows, out.data());
  for (std::size_t j = 0; j < cols; ++j) {
    double expected = 0;
    for (std::size_t c = 0; c < cols; ++c) expected += (x[c] - pca->mean()(static_cast<Eigen::Index>(c))) * pca->axes()(static_cast<Eigen::Index>(c), static_cast<Eigen::Index>(j));
    EXPECT_NEAR(out[j], expected, 1e-4);
  }
}

TEST(PcaTest, KeepsTheFewestComponentsReachingTheAskedShare) {
  const auto x = LowRank(400, 12, 4, 0.05, 2);  // four strong directions, little noise
  auto pca = Pca::Fit(x.data(), 400, 12, {});   // 95%
  ASSERT_TRUE(pca.ok()) << pca.status().message();
  const auto reference = ReferenceVariances(x, 400, 12);
  double total = 0, sum = 0;
  for (const double v : reference) total += v;
  std::size_t expected = 0;
  while (sum < 0.95 * total) sum += reference[expected++];
  EXPECT_EQ(pca->components(), expected);
  EXPECT_LE(pca->components(), 4u);
  double kept = 0;
  for (const double r : pca->explained_variance_ratio()) kept += r;
  EXPECT_GE(kept, 0.95);
  EXPECT_LT(kept - pca->explained_variance_ratio().back(), 0.95);  // one fewer would not do
  EXPECT_FALSE(pca->randomized());
}

TEST(PcaTest, RandomizedSvdFindsTheLeadingComponentsOfAWideTable) {
  const std::size_t rows = 120, cols = 700;
  const auto x = LowRank(rows, cols, 5, 0.01, 3);
  PcaOptions options;
  options.components = 3;
  options.exact_max_columns = 512;
  auto wide = Pca::Fit(x.data(), rows, cols, options);
  ASSERT_TRUE(wide.ok()) << wide.status().message();
  EXPECT_TRUE(wide->randomized());
  const auto reference = ReferenceVariances(x, rows, cols);
  for (std::size_t k = 0; k < 3; ++k) EXPECT_NEAR(wide->explained_variance()[k], reference[k], 1e-6 * reference[0]) << k;
  options.exact_max_columns = 1000;
  auto exact = Pca::Fit(x.data(), rows, cols, options);
  ASSERT_TRUE(exact.ok());
  for (Eigen::Index k = 0; k < 3; ++k) {
    EXPECT_NEAR(wide->axes().col(k).dot(exact->axes().col(k)), 1.0, 1e-6) << k;  // same axes, same signs
  }
}

TEST(PcaTest, RoundTripsThroughJson) {
  const auto x = LowRank(50, 5, 3, 0.1, 4);
  PcaOptions options;
  options.components = 2;
  auto pca = Pca::Fit(x.data(), 50, 5, options);
  ASSERT_TRUE(pca.ok());
  auto again = Pca::FromJson(nlohmann::json::parse(pca->ToJson().dump()));
  ASSERT_TRUE(again.ok()) << again.status().message();
  std::vector<float> a(50 * 2), b(50 * 2);
  pca->Transform(x.data(), 50, a.data());
  again->Transform(x.data(), 50, b.data());
  EXPECT_EQ(a, b);
  auto broken = pca->ToJson();
  broken["components"][1].erase(0);
  EXPECT_FALSE(Pca::FromJson(broken).ok());
}

TEST(PcaTest, BadInputIsRefused) {
  const std::vector<float> one = {1, 2, 3};
  EXPECT_FALSE(Pca::Fit(one.data(), 1, 3).ok());
  const std::vector<float> nan = {1, 2, NAN, 4};
  auto with_nan = Pca::Fit(nan.data(), 2, 2);
  ASSERT_FALSE(with_nan.ok());
  EXPECT_NE(with_nan.status().message().find("row 2, column 1"), std::string::npos) << with_nan.status().message();
  PcaOptions too_many;
  too_many.components = 3;
  const std::vector<float> two = {1, 2, 3, 4};
  EXPECT_FALSE(Pca::Fit(two.data(), 2, 2, too_many).ok());
  PcaOptions share;
  share.explained_variance = 1.5;
  EXPECT_FALSE(Pca::Fit(two.data(), 2, 2, share).ok());
}

}  // namespace
}  // namespace wharf::ml
