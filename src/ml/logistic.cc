// Multinomial logistic regression (softmax) with an L2 penalty on the
// weights (not the intercepts), as sklearn's LogisticRegression(C=...).

#include <cmath>

#include "ml/lbfgs.h"
#include "ml/linear.h"

namespace wharf::ml {

namespace {

using RowMatrixF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

class SoftmaxModel final : public FittedEstimator {
 public:
  SoftmaxModel(Eigen::MatrixXf weights, Eigen::VectorXf bias) : weights_(std::move(weights)), bias_(std::move(bias)) {}

  Status PredictProba(const float* x, std::size_t rows, float* out) const override {
    const auto k = weights_.rows();
    Eigen::Map<const RowMatrixF> features(x, static_cast<Eigen::Index>(rows), weights_.cols());
    Eigen::Map<RowMatrixF> proba(out, static_cast<Eigen::Index>(rows), k);
    proba.noalias() = features * weights_.transpose();
    proba.rowwise() += bias_.transpose();
    for (Eigen::Index r = 0; r < proba.rows(); ++r) {
      auto row = proba.row(r);
      row.array() = (row.array() - row.maxCoeff()).exp();
      row /= row.sum();
    }
    return Status::Ok();
  }

  Status Save(nlohmann::json& state, std::vector<artifact::Section>&) const override {
    std::vector<std::vector<float>> w(static_cast<std::size_t>(weights_.rows()));
    for (Eigen::Index c = 0; c < weights_.rows(); ++c) {
      w[static_cast<std::size_t>(c)].resize(static_cast<std::size_t>(weights_.cols()));
      for (Eigen::Index f = 0; f < weights_.cols(); ++f) w[static_cast<std::size_t>(c)][static_cast<std::size_t>(f)] = weights_(c, f);
    }
    state = {{"weights", w}, {"bias", std::vector<float>(bias_.data(), bias_.data() + bias_.size())}};
    return Status::Ok();
  }

 private:
  Eigen::MatrixXf weights_;  // classes x features
  Eigen::VectorXf bias_;
};

}  // namespace

Result<std::unique_ptr<FittedEstimator>> FitLogistic(const TrainingData& data, const Params& params,
                                                     const FitContext& context) {
  const auto n = static_cast<Eigen::Index>(data.rows);
  const auto d = static_cast<Eigen::Index>(data.cols);
  const auto k = static_cast<Eigen::Index>(data.num_classes);
  const double c = params.at("C");
  if (!(c > 0)) return InvalidArgument("logistic: C must be > 0");

  const Eigen::MatrixXd x = Eigen::Map<const RowMatrixF>(data.x.data(), n, d).cast<double>();
  Eigen::MatrixXd onehot = Eigen::MatrixXd::Zero(n, k);
  for (Eigen::Index i = 0; i < n; ++i) onehot(i, data.y[static_cast<std::size_t>(i)]) = 1.0;

  // Parameters: weights (k x d, column-major) then k intercepts. Across
  // ranks, the data term (loss and its gradient) is a sum over every rank's
  // rows; the penalty is added once, after the sum.
  Status collective_status;
  Eigen::VectorXd summed(k * d + k + 1);
  auto objective = [&](const Eigen::VectorXd& p, Eigen::VectorXd& grad) {
    Eigen::Map<const Eigen::MatrixXd> w(p.data(), k, d);
    Eigen::Map<const Eigen::VectorXd> b(p.data() + k * d, k);
    Eigen::MatrixXd scores = x * w.transpose();
    scores.rowwise() += b.transpose();
    double loss = 0;
    for (Eigen::Index i = 0; i < n; ++i) {
      auto row = scores.row(i);
      const double max = row.maxCoeff();
      row.array() = (row.array() - max).exp();
      const double sum = row.sum();
      row /= sum;
      loss -= std::log(std::max(row.dot(onehot.row(i)), 1e-300));
    }
    scores -= onehot;  // now dLoss/dScores
    Eigen::Map<Eigen::MatrixXd> gw(grad.data(), k, d);
    gw.noalias() = scores.transpose() * x;
    grad.tail(k) = scores.colwise().sum().transpose();
    if (context.collective != nullptr && collective_status.ok()) {
      summed.head(k * d + k) = grad;
      summed(k * d + k) = loss;
      collective_status = context.collective->Sum({summed.data(), static_cast<std::size_t>(summed.size())});
      grad = summed.head(k * d + k);
      loss = summed(k * d + k);
    }
    gw += w / c;
    return loss + w.squaredNorm() / (2 * c);
  };
  LbfgsOptions options;
  options.max_iterations = static_cast<int>(params.at("max_iter"));
  auto fit = MinimizeLbfgs(objective, Eigen::VectorXd::Zero(k * d + k), options);
  WHARF_RETURN_IF_ERROR(collective_status);
  Eigen::MatrixXf w = Eigen::Map<const Eigen::MatrixXd>(fit.x.data(), k, d).cast<float>();
  Eigen::VectorXf b = fit.x.tail(k).cast<float>();
  return std::unique_ptr<FittedEstimator>(std::make_unique<SoftmaxModel>(std::move(w), std::move(b)));
}

Result<std::unique_ptr<FittedEstimator>> LoadLogistic(const nlohmann::json& state, const artifact::Modelfile&,
                                                      const ModelShape& shape) {
  std::vector<std::vector<float>> w;
  std::vector<float> b;
  try {
    w = state.at("weights").get<std::vector<std::vector<float>>>();
    b = state.at("bias").get<std::vector<float>>();
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgument(std::string("logistic state: ") + e.what());
  }
  if (w.size() != shape.num_classes || b.size() != shape.num_classes) {
    return InvalidArgument("logistic state: expected " + std::to_string(shape.num_classes) + " classes");
  }
  Eigen::MatrixXf weights(static_cast<Eigen::Index>(w.size()), static_cast<Eigen::Index>(shape.cols));
  for (std::size_t c = 0; c < w.size(); ++c) {
    if (w[c].size() != shape.cols) {
      return InvalidArgument("logistic state: expected " + std::to_string(shape.cols) + " weights per class");
    }
    for (std::size_t f = 0; f < shape.cols; ++f) weights(static_cast<Eigen::Index>(c), static_cast<Eigen::Index>(f)) = w[c][f];
  }
  Eigen::VectorXf bias = Eigen::Map<const Eigen::VectorXf>(b.data(), static_cast<Eigen::Index>(b.size()));
  return std::unique_ptr<FittedEstimator>(std::make_unique<SoftmaxModel>(std::move(weights), std::move(bias)));
}

}  // namespace wharf::ml
