#pragma once
// Limited-memory BFGS for smooth unconstrained minimization (the optimizer
// behind the linear estimators).

#include <functional>

#include <Eigen/Dense>

namespace wharf::ml {

// Returns f(x) and writes its gradient into `grad` (already sized like x).
using Objective = std::function<double(const Eigen::VectorXd& x, Eigen::VectorXd& grad)>;

struct LbfgsOptions {
  int max_iterations = 500;
  int history = 10;
  double gradient_tolerance = 1e-6;  // stop when max |grad| <= tol * max(1, |f|)
};

struct LbfgsResult {
  Eigen::VectorXd x;
  double value = 0;
  int iterations = 0;
  bool converged = false;
};

// Minimizes `f` from `x0` with an Armijo backtracking line search. Never
// fails: returns the best point reached, with converged=false if the
// iteration limit was hit first.
LbfgsResult MinimizeLbfgs(const Objective& f, Eigen::VectorXd x0, const LbfgsOptions& options = {});

}  // namespace wharf::ml
