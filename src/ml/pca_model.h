#pragma once
// A fitted PCA as a Modelfile (estimator kind "pca"): a transformer from the
// feature columns it was fitted on to the components pc1..pck.
//
// Header:
//   "kind": "transformer"
//   "schema": {"features": [input columns], "outputs": ["pc1", ...]}
//   "estimator": {"kind": "pca", "params": {...}, "explained_variance_ratio": [...]}
// Section "pca.json": Pca::ToJson (mean, components, variances).
// Immutable once loaded: Predict is const and thread-safe.

#include <memory>
#include <string>
#include <vector>

#include "artifact/model.h"
#include "artifact/modelfile.h"
#include "artifact/registry.h"
#include "ml/pca.h"

namespace wharf::ml {

inline constexpr char kPcaKind[] = "pca";
inline constexpr char kPcaSection[] = "pca.json";

class PcaModel final : public artifact::Model {
 public:
  // `features` names the pca's input columns, in order.
  PcaModel(Pca pca, std::vector<std::string> features);
  // InvalidArgument naming what is wrong for a Modelfile that is not a PCA's.
  static Result<std::unique_ptr<PcaModel>> Load(const artifact::Modelfile& file);

  const artifact::ModelSchema& schema() const override { return schema_; }
  std::size_t output_width() const override { return pca_.components(); }
  // InvalidArgument for a missing value (NaN): a projection has no default for it.
  Status Predict(const float* x, std::size_t rows, float* out) const override;

  const Pca& pca() const { return pca_; }
  // "pc1" .. "pc<k>".
  const std::vector<std::string>& outputs() const { return outputs_; }

  // The Modelfile: header (with `params`, what the fit was asked) and section.
  artifact::Modelfile ToModelfile(const nlohmann::json& params) const;

 private:
  Pca pca_;
  artifact::ModelSchema schema_;
  std::vector<std::string> outputs_;
};

// Registers the "pca" kind's loader.
void RegisterPca(artifact::ModelRegistry& registry);

}  // namespace wharf::ml
