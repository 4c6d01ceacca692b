#pragma once
// A classifier pipeline: optional standardization, then one estimator. This
// is what search evaluates, what a Modelfile stores, and what predict runs.

#include <memory>
#include <optional>
#include <vector>

#include "artifact/model.h"
#include "artifact/modelfile.h"
#include "artifact/registry.h"
#include "core/status.h"
#include "ml/estimator.h"
#include "ml/standardizer.h"

namespace wharf::ml {

// Immutable once fitted or loaded: Predict is const and thread-safe.
class Pipeline final : public artifact::Model {
 public:
  // Fits on `data` (standardizing first when the family asks for it).
  static Result<std::unique_ptr<Pipeline>> Fit(const EstimatorFamily& family, const Params& params,
                                               const TrainingData& data, const FitContext& context,
                                               artifact::ModelSchema schema);
  // Rebuilds a pipeline from a Modelfile written by SaveTo.
  static Result<std::unique_ptr<Pipeline>> Load(const artifact::Modelfile& file,
                                                const artifact::LoadOptions& options = {});

  const artifact::ModelSchema& schema() const override { return schema_; }
  std::size_t output_width() const override { return num_classes_; }
  Status Predict(const float* x, std::size_t rows, float* out) const override;

  // The most probable class index of each row.
  Result<std::vector<int>> PredictClasses(const float* x, std::size_t rows) const;

  const EstimatorFamily& family() const { return *family_; }
  const Params& params() const { return params_; }

  // Adds "schema", "preprocessing" and "estimator" to the header and the
  // estimator's payload sections.
  Status SaveTo(artifact::Modelfile& file) const;

 private:
  Pipeline() = default;

  const EstimatorFamily* family_ = nullptr;
  Params params_;
  artifact::ModelSchema schema_;
  std::size_t num_classes_ = 0;
  std::optional<Standardizer> standardizer_;
  std::unique_ptr<FittedEstimator> estimator_;
};

// Registers a loader for every estimator family in `registry`.
void Register(artifact::ModelRegistry& registry);

}  // namespace wharf::ml
