#include "ml/pca_model.h"

#include <cmath>

#include <fmt/format.h>

#include "core/clock.h"
#include "core/json_depth.h"
#include "core/version.h"

namespace wharf::ml {

PcaModel::PcaModel(Pca pca, std::vector<std::string> features) : pca_(std::move(pca)) {
  schema_.kind = artifact::ModelKind::kTransformer;
  schema_.features = std::move(features);
  for (std::size_t k = 0; k < pca_.components(); ++k) outputs_.push_back(fmt::format("pc{}", k + 1));
}

Result<std::unique_ptr<PcaModel>> PcaModel::Load(const artifact::Modelfile& file) {
  const artifact::Section* section = file.Find(kPcaSection);
  if (section == nullptr) return InvalidArgument(fmt::format("Modelfile has no {} section", kPcaSection));
  WHARF_RETURN_IF_ERROR(CheckJsonDepth(section->bytes, fmt::format("Modelfile section {}", kPcaSection)));
  const auto j = nlohmann::json::parse(section->bytes, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return InvalidArgument(fmt::format("Modelfile section {} is not JSON", kPcaSection));
  WHARF_ASSIGN_OR_RETURN(Pca pca, Pca::FromJson(j));
  std::vector<std::string> features;
  try {
    features = file.header.at("schema").at("features").get<std::vector<std::string>>();
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgument(std::string("Modelfile header: schema.features: ") + e.what());
  }
  if (features.size() != pca.cols()) {
    return InvalidArgument(fmt::format("Modelfile header names {} features but the projection takes {}",
                                       features.size(), pca.cols()));
  }
  return std::make_unique<PcaModel>(std::move(pca), std::move(features));
}

Status PcaModel::Predict(const float* x, std::size_t rows, float* out) const {
  const std::size_t cols = pca_.cols();
  for (std::size_t i = 0; i < rows * cols; ++i) {
    if (std::isnan(x[i])) {
      return InvalidArgument(fmt::format("row {}, feature '{}': missing; PCA needs every value", i / cols + 1,
                                         schema_.features[i % cols]));
    }
  }
  pca_.Transform(x, rows, out);
  return Status::Ok();
}

artifact::Modelfile PcaModel::ToModelfile(const nlohmann::json& params) const {
  artifact::Modelfile file;
  auto& h = file.header;
  h["format"] = "wharf.modelfile";
  h["wharf_version"] = kVersion;
  h["created_at"] = FormatTimeUtc(NowMicros());
  h["kind"] = "transformer";
  h["schema"] = {{"features", schema_.features}, {"outputs", outputs_}};
  h["estimator"] = {{"kind", kPcaKind},
                    {"params", params},
                    {"method", pca_.randomized() ? "randomized-svd" : "exact"},
                    {"explained_variance_ratio", pca_.explained_variance_ratio()}};
  file.sections.push_back({kPcaSection, pca_.ToJson().dump()});
  return file;
}

void RegisterPca(artifact::ModelRegistry& registry) {
  registry.Register(kPcaKind, [](const artifact::Modelfile& file, const artifact::LoadOptions&)
                                  -> Result<std::unique_ptr<artifact::Model>> {
    WHARF_ASSIGN_OR_RETURN(auto model, PcaModel::Load(file));
    return std::unique_ptr<artifact::Model>(std::move(model));
  });
}

}  // namespace wharf::ml
