#pragma once
// Estimator families: what can be trained, with which hyperparameters, and
// how a fitted estimator is saved into and loaded from a Modelfile.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "artifact/modelfile.h"
#include "core/status.h"
#include "ml/collective.h"
#include "ml/training_data.h"

namespace wharf::ml {

// Hyperparameters by name. Every hyperparameter wharf exposes is numeric
// (flags such as `ordinal` are 0 or 1).
using Params = std::map<std::string, double>;

// A trained estimator. Immutable: PredictProba is const and thread-safe.
class FittedEstimator {
 public:
  virtual ~FittedEstimator() = default;
  // `x` is rows x cols, already preprocessed; writes rows x num_classes
  // probabilities to `out`.
  virtual Status PredictProba(const float* x, std::size_t rows, float* out) const = 0;
  // Writes what Load needs: small state into `state` (stored in the header),
  // large payloads as named sections.
  virtual Status Save(nlohmann::json& state, std::vector<artifact::Section>& sections) const = 0;
};

struct FitContext {
  std::uint64_t seed = 0;
  int threads = 1;
  // Set for a data-parallel fit: the data is this rank's shard, and the
  // family combines what it learns from it with the other ranks'.
  Collective* collective = nullptr;
};

// How a family trains on rows spread over ranks (FitContext::collective).
enum class DataParallel {
  kNo,         // one process sees every row
  kCollective, // sums through FitContext::collective (logistic: gradients)
  kXgboost,    // XGBoost's own collective, initialized before the fit (trees)
};

// How search draws one hyperparameter.
struct ParamRange {
  enum class Scale { kLinear, kLog, kInteger, kChoice };
  std::string name;
  Scale scale = Scale::kLinear;
  double low = 0, high = 0;     // inclusive bounds (kLinear, kLog, kInteger)
  std::vector<double> choices;  // kChoice
};

// What a loader needs besides the payload: shapes to validate it against
// the header, and how many threads one prediction may use (0 = all cores).
struct ModelShape {
  std::size_t cols = 0;
  std::size_t num_classes = 0;
  int threads = 0;
};

// One kind of estimator. Families are immutable values in a constant table.
struct EstimatorFamily {
  std::string kind;
  std::string description;
  bool standardize = false;  // whether the pipeline standardizes inputs first
  DataParallel data_parallel = DataParallel::kNo;
  Params defaults;
  std::vector<ParamRange> space;  // what hyperparameter search explores
  std::function<Result<std::unique_ptr<FittedEstimator>>(const TrainingData&, const Params&, const FitContext&)> fit;
  std::function<Result<std::unique_ptr<FittedEstimator>>(const nlohmann::json& state, const artifact::Modelfile& file,
                                                        const ModelShape& shape)>
      load;
};

// Every family wharf knows, in a fixed order.
const std::vector<EstimatorFamily>& Families();

// The family called `kind`; InvalidArgument listing the known kinds if none.
Result<const EstimatorFamily*> FindFamily(std::string_view kind);

// `defaults` overridden by `overrides`. InvalidArgument naming an unknown
// parameter and the family's known ones.
Result<Params> ResolveParams(const EstimatorFamily& family, const Params& overrides);

}  // namespace wharf::ml
