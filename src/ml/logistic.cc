// Multinomial logistic regression (softmax) with an L2 penalty on the
// weights (not the intercepts), as sklearn's LogisticRegression(C=...).

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/parallel.h"

#include "ml/lbfgs.h"
#include "ml/linear.h"

namespace wharf::ml {

namespace {

using RowMatrixF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// Rows per block of the objective's sum: the unit of work of one thread.
constexpr Eigen::Index kBlockRows = 8192;

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

  // Parameters: weights (k x d, column-major) then k intercepts. The data
  // term (loss and its gradient) is a sum over rows, taken in fixed blocks
  // on `threads` cores and added in block order, so the result does not
  // depend on the number of threads. Across ranks it is also summed over
  // every rank's rows; the penalty is added once, after the sums.
  const Eigen::Index blocks = (n + kBlockRows - 1) / kBlockRows;
  std::vector<Eigen::VectorXd> partial(static_cast<std::size_t>(blocks), Eigen::VectorXd(k * d + k + 1));
  Status collective_status;
  Eigen::VectorXd summed(k * d + k + 1);
  auto objective = [&](const Eigen::VectorXd& p, Eigen::VectorXd& grad) {
    Eigen::Map<const Eigen::MatrixXd> w(p.data(), k, d);
    Eigen::Map<const Eigen::VectorXd> b(p.data() + k * d, k);
    ParallelFor(static_cast<std::size_t>(blocks), context.threads, [&](std::size_t block) {
      const Eigen::Index first = static_cast<Eigen::Index>(block) * kBlockRows;
      const Eigen::Index rows = std::min(kBlockRows, n - first);
      const auto xb = x.middleRows(first, rows);
      Eigen::MatrixXd scores = xb * w.transpose();
      scores.rowwise() += b.transpose();
      double loss = 0;
      for (Eigen::Index i = 0; i < rows; ++i) {
        auto row = scores.row(i);
        row.array() = (row.array() - row.maxCoeff()).exp();
        row /= row.sum();
        const int label = data.y[static_cast<std::size_t>(first + i)];
        loss -= std::log(std::max(row(label), 1e-300));
        row(label) -= 1.0;  // now dLoss/dScores
      }
      Eigen::VectorXd& out = partial[block];
      Eigen::Map<Eigen::MatrixXd>(out.data(), k, d).noalias() = scores.transpose() * xb;
      out.segment(k * d, k) = scores.colwise().sum().transpose();
      out(k * d + k) = loss;
    });
    summed.setZero();
    for (const auto& block : partial) summed += block;
    if (context.collective != nullptr && collective_status.ok()) {
      collective_status = context.collective->Sum({summed.data(), static_cast<std::size_t>(summed.size())});
    }
    grad = summed.head(k * d + k);
    Eigen::Map<Eigen::MatrixXd>(grad.data(), k, d) += w / c;
    return summed(k * d + k) + w.squaredNorm() / (2 * c);
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
