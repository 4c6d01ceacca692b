#include "ml/xgboost.h"

#include <xgboost/c_api.h>

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace wharf::ml {

namespace {

// XGBoost's last error without the stack trace it appends.
std::string LastError() {
  std::string error = XGBGetLastError();
  error = error.substr(0, error.find("\nStack trace"));
  while (!error.empty() && (error.back() == '\n' || error.back() == ' ')) error.pop_back();
  return "xgboost: " + error;
}

// Converts XGBoost's -1 + XGBGetLastError() into a Status.
#define WHARF_XGB(call)                                   \
  do {                                                    \
    if ((call) != 0) return Internal(LastError());        \
  } while (0)

// Owns a BoosterHandle.
class Booster {
 public:
  Booster() = default;
  explicit Booster(BoosterHandle handle) : handle_(handle) {}
  Booster(Booster&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
  Booster& operator=(Booster&&) = delete;
  ~Booster() {
    if (handle_) XGBoosterFree(handle_);
  }
  BoosterHandle get() const { return handle_; }
  BoosterHandle* out() { return &handle_; }

 private:
  BoosterHandle handle_ = nullptr;
};

// Owns a DMatrixHandle.
class DMatrix {
 public:
  DMatrix() = default;
  ~DMatrix() {
    if (handle_) XGDMatrixFree(handle_);
  }
  DMatrix(const DMatrix&) = delete;
  DMatrix& operator=(const DMatrix&) = delete;
  DMatrixHandle get() const { return handle_; }
  DMatrixHandle* out() { return &handle_; }

 private:
  DMatrixHandle handle_ = nullptr;
};

Status SetParam(const Booster& booster, const std::string& name, const std::string& value) {
  WHARF_XGB(XGBoosterSetParam(booster.get(), name.c_str(), value.c_str()));
  return Status::Ok();
}

std::string Num(double v) { return fmt::format("{}", v); }

// Spreads a regression score on the class-index scale over the two nearest classes.
void SoftRound(float score, std::size_t k, float* proba) {
  const float clamped = std::clamp(score, 0.0f, static_cast<float>(k - 1));
  const auto low = static_cast<std::size_t>(std::floor(clamped));
  const float frac = clamped - static_cast<float>(low);
  std::fill(proba, proba + k, 0.0f);
  proba[low] = 1.0f - frac;
  if (low + 1 < k) proba[low + 1] += frac;
}

class XgboostModel final : public FittedEstimator {
 public:
  XgboostModel(Booster booster, std::size_t cols, std::size_t k, bool ordinal)
      : booster_(std::move(booster)), cols_(cols), k_(k), ordinal_(ordinal) {}

  // Thread-safe: XGBoost's in-place prediction keeps per-thread buffers.
  Status PredictProba(const float* x, std::size_t rows, float* out) const override {
    if (rows == 0) return Status::Ok();
    const std::string array = fmt::format(
        R"({{"data": [{}, true], "shape": [{}, {}], "typestr": "<f4", "version": 3}})",
        reinterpret_cast<std::uintptr_t>(x), rows, cols_);
    static constexpr char kConfig[] =
        R"({"type": 0, "training": false, "iteration_begin": 0, "iteration_end": 0, "strict_shape": false, "missing": NaN, "cache_id": 0})";
    const bst_ulong* shape = nullptr;
    bst_ulong dims = 0;
    const float* result = nullptr;
    WHARF_XGB(XGBoosterPredictFromDense(booster_.get(), array.c_str(), kConfig, nullptr, &shape, &dims, &result));
    // A booster that disagrees with the schema's classes (a tampered Modelfile)
    // must not make us read past the end of its answer.
    bst_ulong values = 1;
    for (bst_ulong d = 0; d < dims; ++d) values *= shape[d];
    const std::size_t width = ordinal_ ? 1 : k_;
    if (values != rows * width) {
      return DataLoss(fmt::format("xgboost: the booster gives {} values per row, the model's schema expects {}",
                                  values / rows, width));
    }
    if (ordinal_) {
      for (std::size_t r = 0; r < rows; ++r) SoftRound(result[r], k_, out + r * k_);
    } else {
      std::copy_n(result, rows * k_, out);
    }
    return Status::Ok();
  }

  Status Save(nlohmann::json& state, std::vector<artifact::Section>& sections) const override {
    bst_ulong length = 0;
    const char* bytes = nullptr;
    WHARF_XGB(XGBoosterSaveModelToBuffer(booster_.get(), R"({"format": "ubj"})", &length, &bytes));
    sections.push_back({kBoosterSection, std::string(bytes, length)});
    state = {{"ordinal", ordinal_}, {"section", kBoosterSection}};
    return Status::Ok();
  }

 private:
  Booster booster_;
  std::size_t cols_, k_;
  bool ordinal_;
};

// Fits with the common parameters plus `extra` (the family's own).
Result<std::unique_ptr<FittedEstimator>> Fit(const TrainingData& data, const Params& params,
                                             const FitContext& context,
                                             const std::vector<std::pair<std::string, std::string>>& extra,
                                             int rounds) {
  const bool ordinal = params.count("ordinal") && params.at("ordinal") != 0;
  if (context.collective != nullptr && context.collective->size() > 1 && XGCommunicatorIsDistributed() == 0) {
    // Each rank would grow its own trees from its shard alone.
    return FailedPrecondition("xgboost across ranks needs XGBoost's collective started (a tracker) before the fit");
  }
  DMatrix matrix;
  WHARF_XGB(XGDMatrixCreateFromMat(data.x.data(), data.rows, data.cols, std::nanf(""), matrix.out()));
  std::vector<float> labels(data.y.begin(), data.y.end());
  WHARF_XGB(XGDMatrixSetFloatInfo(matrix.get(), "label", labels.data(), labels.size()));

  Booster booster;
  const DMatrixHandle handles[] = {matrix.get()};
  WHARF_XGB(XGBoosterCreate(handles, 1, booster.out()));
  std::vector<std::pair<std::string, std::string>> settings = {
      {"verbosity", "0"},
      {"tree_method", "hist"},
      {"nthread", std::to_string(std::max(context.threads, 1))},
      {"seed", std::to_string(context.seed)},
      {"max_depth", Num(params.at("max_depth"))},
      {"min_child_weight", Num(params.at("min_child_weight"))},
      {"subsample", Num(params.at("subsample"))},
      {"lambda", Num(params.at("lambda"))},
  };
  if (ordinal) {
    // The mean label, over every rank's rows in a data-parallel fit.
    double moments[2] = {0, static_cast<double>(labels.size())};
    for (float l : labels) moments[0] += l;
    if (context.collective != nullptr) WHARF_RETURN_IF_ERROR(context.collective->Sum(moments));
    settings.push_back({"objective", "reg:squarederror"});
    settings.push_back({"base_score", Num(moments[0] / moments[1])});
  } else {
    settings.push_back({"objective", "multi:softprob"});
    settings.push_back({"num_class", std::to_string(data.num_classes)});
  }
  settings.insert(settings.end(), extra.begin(), extra.end());
  for (const auto& [name, value] : settings) WHARF_RETURN_IF_ERROR(SetParam(booster, name, value));
  for (int i = 0; i < rounds; ++i) WHARF_XGB(XGBoosterUpdateOneIter(booster.get(), i, matrix.get()));
  return std::unique_ptr<FittedEstimator>(
      std::make_unique<XgboostModel>(std::move(booster), data.cols, data.num_classes, ordinal));
}

}  // namespace

Result<std::unique_ptr<FittedEstimator>> FitBoostedTrees(const TrainingData& data, const Params& params,
                                                         const FitContext& context) {
  return Fit(data, params, context,
             {{"eta", Num(params.at("eta"))}, {"colsample_bytree", Num(params.at("colsample_bytree"))}},
             static_cast<int>(params.at("num_round")));
}

Result<std::unique_ptr<FittedEstimator>> FitRandomForest(const TrainingData& data, const Params& params,
                                                         const FitContext& context) {
  return Fit(data, params, context,
             {{"eta", "1"},
              {"num_parallel_tree", Num(params.at("num_parallel_tree"))},
              {"colsample_bynode", Num(params.at("colsample_bynode"))}},
             1);
}

Result<std::unique_ptr<FittedEstimator>> LoadXgboost(const nlohmann::json& state, const artifact::Modelfile& file,
                                                     const ModelShape& shape) {
  const auto* section = file.Find(kBoosterSection);
  if (section == nullptr) return InvalidArgument(std::string("Modelfile has no '") + kBoosterSection + "' section");
  const bool ordinal = state.is_object() && state.value("ordinal", false);
  Booster booster;
  WHARF_XGB(XGBoosterCreate(nullptr, 0, booster.out()));
  WHARF_XGB(XGBoosterLoadModelFromBuffer(booster.get(), section->bytes.data(), section->bytes.size()));
  if (shape.threads > 0) WHARF_RETURN_IF_ERROR(SetParam(booster, "nthread", std::to_string(shape.threads)));
  bst_ulong features = 0;
  WHARF_XGB(XGBoosterGetNumFeature(booster.get(), &features));
  if (features != shape.cols) {
    return InvalidArgument(fmt::format("booster expects {} features, the schema lists {}", features, shape.cols));
  }
  return std::unique_ptr<FittedEstimator>(
      std::make_unique<XgboostModel>(std::move(booster), shape.cols, shape.num_classes, ordinal));
}

Result<std::string> BoosterToJson(const std::string& ubjson) {
  Booster booster;
  WHARF_XGB(XGBoosterCreate(nullptr, 0, booster.out()));
  WHARF_XGB(XGBoosterLoadModelFromBuffer(booster.get(), ubjson.data(), ubjson.size()));
  bst_ulong length = 0;
  const char* bytes = nullptr;
  WHARF_XGB(XGBoosterSaveModelToBuffer(booster.get(), R"({"format": "json"})", &length, &bytes));
  return std::string(bytes, length);
}

}  // namespace wharf::ml
