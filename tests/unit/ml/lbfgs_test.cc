#include "ml/lbfgs.h"

#include <gtest/gtest.h>

namespace wharf::ml {
namespace {

TEST(LbfgsTest, FindsTheMinimumOfAnIllConditionedQuadratic) {
  // f(x) = sum_i w_i (x_i - i)^2 with weights spanning four orders of magnitude.
  const Eigen::VectorXd w = Eigen::VectorXd::LinSpaced(6, 0.01, 100);
  const Eigen::VectorXd target = Eigen::VectorXd::LinSpaced(6, 0, 5);
  auto f = [&](const Eigen::VectorXd& x, Eigen::VectorXd& g) {
    const Eigen::VectorXd d = x - target;
    g = 2 * w.cwiseProduct(d);
    return d.cwiseProduct(d).dot(w);
  };
  const auto result = MinimizeLbfgs(f, Eigen::VectorXd::Zero(6), {1000, 10, 1e-10});
  EXPECT_TRUE(result.converged);
  EXPECT_LT((result.x - target).lpNorm<Eigen::Infinity>(), 1e-4);
}

TEST(LbfgsTest, MinimizesRosenbrock) {
  auto f = [](const Eigen::VectorXd& x, Eigen::VectorXd& g) {
    const double a = 1 - x[0], b = x[1] - x[0] * x[0];
    g[0] = -2 * a - 400 * x[0] * b;
    g[1] = 200 * b;
    return a * a + 100 * b * b;
  };
  const auto result = MinimizeLbfgs(f, Eigen::Vector2d(-1.2, 1.0), {2000, 10, 1e-10});
  EXPECT_NEAR(result.x[0], 1.0, 1e-3);
  EXPECT_NEAR(result.x[1], 1.0, 1e-3);
}

}  // namespace
}  // namespace wharf::ml
