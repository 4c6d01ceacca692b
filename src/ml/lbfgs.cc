#include "ml/lbfgs.h"

#include <cmath>
#include <deque>

namespace wharf::ml {

namespace {

struct Correction {
  Eigen::VectorXd s, y;
  double rho;
};

// Two-loop recursion: returns H * g for the implicit inverse-Hessian H.
Eigen::VectorXd ApplyInverseHessian(const std::deque<Correction>& history, const Eigen::VectorXd& g) {
  Eigen::VectorXd q = g;
  std::vector<double> alpha(history.size());
  for (std::size_t i = history.size(); i-- > 0;) {
    alpha[i] = history[i].rho * history[i].s.dot(q);
    q -= alpha[i] * history[i].y;
  }
  if (!history.empty()) {
    const auto& last = history.back();
    q *= last.s.dot(last.y) / last.y.squaredNorm();
  }
  for (std::size_t i = 0; i < history.size(); ++i) {
    double beta = history[i].rho * history[i].y.dot(q);
    q += (alpha[i] - beta) * history[i].s;
  }
  return q;
}

}  // namespace

LbfgsResult MinimizeLbfgs(const Objective& f, Eigen::VectorXd x0, const LbfgsOptions& options) {
  LbfgsResult result;
  result.x = std::move(x0);
  Eigen::VectorXd grad(result.x.size());
  result.value = f(result.x, grad);
  std::deque<Correction> history;
  Eigen::VectorXd next_grad(result.x.size());

  for (result.iterations = 0; result.iterations < options.max_iterations; ++result.iterations) {
    if (grad.lpNorm<Eigen::Infinity>() <= options.gradient_tolerance * std::max(1.0, std::abs(result.value))) {
      result.converged = true;
      break;
    }
    Eigen::VectorXd direction = -ApplyInverseHessian(history, grad);
    double slope = grad.dot(direction);
    if (slope >= 0) {  // not a descent direction: restart from steepest descent
      history.clear();
      direction = -grad;
      slope = -grad.squaredNorm();
    }
    double step = history.empty() ? 1.0 / std::max(1.0, grad.norm()) : 1.0;
    Eigen::VectorXd next;
    double next_value = 0;
    bool accepted = false;
    for (int tries = 0; tries < 60; ++tries, step *= 0.5) {
      next = result.x + step * direction;
      next_value = f(next, next_grad);
      if (std::isfinite(next_value) && next_value <= result.value + 1e-4 * step * slope) {
        accepted = true;
        break;
      }
    }
    if (!accepted) {  // no decrease possible along the direction: at machine precision
      result.converged = true;
      break;
    }
    Correction c{next - result.x, next_grad - grad, 0};
    const double sy = c.s.dot(c.y);
    const double change = result.value - next_value;
    result.x = std::move(next);
    grad = next_grad;
    result.value = next_value;
    if (sy > 1e-12) {
      c.rho = 1.0 / sy;
      history.push_back(std::move(c));
      if (static_cast<int>(history.size()) > options.history) history.pop_front();
    }
    if (change <= 1e-12 * std::max(1.0, std::abs(result.value))) {
      result.converged = true;
      ++result.iterations;
      break;
    }
  }
  return result;
}

}  // namespace wharf::ml
