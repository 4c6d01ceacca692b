// Cumulative-link (proportional odds) logistic regression for ordered
// classes: one weight vector w and increasing thresholds theta_0 < ... <
// theta_{K-2}; P(y <= k | x) = sigmoid(theta_k - w.x). Thresholds are
// parametrized as theta_0 and log-gaps so that any parameter vector is valid.

#include <algorithm>
#include <cmath>

#include "ml/lbfgs.h"
#include "ml/linear.h"

namespace wharf::ml {

namespace {

using RowMatrixF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

double Sigmoid(double z) { return z >= 0 ? 1 / (1 + std::exp(-z)) : std::exp(z) / (1 + std::exp(z)); }

class CumulativeLinkModel final : public FittedEstimator {
 public:
  CumulativeLinkModel(Eigen::VectorXf weights, std::vector<double> thresholds)
      : weights_(std::move(weights)), thresholds_(std::move(thresholds)) {}

  Status PredictProba(const float* x, std::size_t rows, float* out) const override {
    const std::size_t k = thresholds_.size() + 1;
    Eigen::Map<const RowMatrixF> features(x, static_cast<Eigen::Index>(rows), weights_.size());
    const Eigen::VectorXf scores = features * weights_;
    for (std::size_t r = 0; r < rows; ++r) {
      double below = 0;
      for (std::size_t c = 0; c < k; ++c) {
        const double cumulative = c + 1 < k ? Sigmoid(thresholds_[c] - scores[static_cast<Eigen::Index>(r)]) : 1.0;
        out[r * k + c] = static_cast<float>(std::max(cumulative - below, 0.0));
        below = cumulative;
      }
    }
    return Status::Ok();
  }

  Status Save(nlohmann::json& state, std::vector<artifact::Section>&) const override {
    state = {{"weights", std::vector<float>(weights_.data(), weights_.data() + weights_.size())},
             {"thresholds", thresholds_}};
    return Status::Ok();
  }

 private:
  Eigen::VectorXf weights_;
  std::vector<double> thresholds_;  // K-1, increasing
};

}  // namespace

Result<std::unique_ptr<FittedEstimator>> FitOrdinalLogistic(const TrainingData& data, const Params& params,
                                                            const FitContext&) {
  const auto n = static_cast<Eigen::Index>(data.rows);
  const auto d = static_cast<Eigen::Index>(data.cols);
  const auto k = static_cast<Eigen::Index>(data.num_classes);
  const double c = params.at("C");
  if (!(c > 0)) return InvalidArgument("ordinal-logistic: C must be > 0");
  if (k < 2) return InvalidArgument("ordinal-logistic: needs at least 2 classes");
  const Eigen::MatrixXd x = Eigen::Map<const RowMatrixF>(data.x.data(), n, d).cast<double>();

  // Parameters: w (d), theta_0, then K-2 log-gaps.
  auto thresholds = [&](const Eigen::VectorXd& p) {
    std::vector<double> t(static_cast<std::size_t>(k - 1));
    t[0] = p[d];
    for (Eigen::Index j = 1; j < k - 1; ++j) t[static_cast<std::size_t>(j)] = t[static_cast<std::size_t>(j - 1)] + std::exp(p[d + j]);
    return t;
  };
  auto objective = [&](const Eigen::VectorXd& p, Eigen::VectorXd& grad) {
    const auto w = p.head(d);
    const std::vector<double> t = thresholds(p);
    const Eigen::VectorXd s = x * w;
    Eigen::VectorXd g_s(n);
    std::vector<double> g_t(t.size(), 0.0);
    double loss = 0;
    for (Eigen::Index i = 0; i < n; ++i) {
      const auto y = static_cast<std::size_t>(data.y[static_cast<std::size_t>(i)]);
      const double upper = y + 1 < static_cast<std::size_t>(k) ? Sigmoid(t[y] - s[i]) : 1.0;
      const double lower = y > 0 ? Sigmoid(t[y - 1] - s[i]) : 0.0;
      const double prob = std::max(upper - lower, 1e-15);
      loss -= std::log(prob);
      const double du = upper * (1 - upper), dl = lower * (1 - lower);  // sigmoid' at each bound
      g_s[i] = (du - dl) / prob;
      if (y + 1 < static_cast<std::size_t>(k)) g_t[y] -= du / prob;
      if (y > 0) g_t[y - 1] += dl / prob;
    }
    grad.head(d) = x.transpose() * g_s + w / c;
    // theta_j = theta_0 + sum_{m<=j} exp(gap_m): chain rule into theta_0 and the gaps.
    double tail = 0;
    for (Eigen::Index j = k - 2; j >= 1; --j) {
      tail += g_t[static_cast<std::size_t>(j)];
      grad[d + j] = std::exp(p[d + j]) * tail;
    }
    grad[d] = tail + g_t[0];
    return loss + w.squaredNorm() / (2 * c);
  };

  // Start from thresholds at the logits of the cumulative class frequencies.
  Eigen::VectorXd start = Eigen::VectorXd::Zero(d + k - 1);
  std::vector<double> counts(static_cast<std::size_t>(k), 0.5);  // +0.5 keeps empty classes finite
  for (int y : data.y) counts[static_cast<std::size_t>(y)] += 1;
  double total = 0, cumulative = 0, previous = 0;
  for (double count : counts) total += count;
  for (Eigen::Index j = 0; j < k - 1; ++j) {
    cumulative += counts[static_cast<std::size_t>(j)];
    const double q = cumulative / total;
    const double theta = std::log(q / (1 - q));
    start[d + j] = j == 0 ? theta : std::log(std::max(theta - previous, 1e-3));
    previous = theta;
  }
  LbfgsOptions options;
  options.max_iterations = static_cast<int>(params.at("max_iter"));
  auto fit = MinimizeLbfgs(objective, start, options);
  Eigen::VectorXf w = fit.x.head(d).cast<float>();
  return std::unique_ptr<FittedEstimator>(std::make_unique<CumulativeLinkModel>(std::move(w), thresholds(fit.x)));
}

Result<std::unique_ptr<FittedEstimator>> LoadOrdinalLogistic(const nlohmann::json& state, const artifact::Modelfile&,
                                                             const ModelShape& shape) {
  std::vector<float> w;
  std::vector<double> t;
  try {
    w = state.at("weights").get<std::vector<float>>();
    t = state.at("thresholds").get<std::vector<double>>();
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgument(std::string("ordinal-logistic state: ") + e.what());
  }
  if (w.size() != shape.cols || t.size() + 1 != shape.num_classes || !std::is_sorted(t.begin(), t.end())) {
    return InvalidArgument("ordinal-logistic state: weights or thresholds do not match the schema");
  }
  Eigen::VectorXf weights = Eigen::Map<const Eigen::VectorXf>(w.data(), static_cast<Eigen::Index>(w.size()));
  return std::unique_ptr<FittedEstimator>(std::make_unique<CumulativeLinkModel>(std::move(weights), std::move(t)));
}

}  // namespace wharf::ml
