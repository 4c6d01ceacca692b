#include "ml/pipeline.h"

#include <algorithm>

namespace wharf::ml {

namespace {

// Rows per Predict chunk: bounds the scratch buffer for standardized inputs.
constexpr std::size_t kChunkRows = 4096;

Result<artifact::ModelSchema> SchemaFromJson(const nlohmann::json& header) {
  artifact::ModelSchema schema;
  try {
    const auto& s = header.at("schema");
    schema.features = s.at("features").get<std::vector<std::string>>();
    schema.label = s.at("label").get<std::string>();
    schema.classes = s.at("classes").get<std::vector<std::string>>();
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgument(std::string("Modelfile header schema: ") + e.what());
  }
  if (schema.features.empty() || schema.classes.size() < 2) {
    return InvalidArgument("Modelfile header schema: needs at least one feature and two classes");
  }
  return schema;
}

}  // namespace

Result<std::unique_ptr<Pipeline>> Pipeline::Fit(const EstimatorFamily& family, const Params& params,
                                                const TrainingData& data, const FitContext& context,
                                                artifact::ModelSchema schema) {
  std::unique_ptr<Pipeline> p(new Pipeline());
  p->family_ = &family;
  p->params_ = params;
  p->schema_ = std::move(schema);
  p->num_classes_ = data.num_classes;
  if (family.standardize) {
    WHARF_ASSIGN_OR_RETURN(p->standardizer_, Standardizer::Fit(data.x.data(), data.rows, data.cols, context.collective));
    TrainingData scaled = data;
    p->standardizer_->Transform(data.x.data(), data.rows, scaled.x.data());
    WHARF_ASSIGN_OR_RETURN(p->estimator_, family.fit(scaled, params, context));
  } else {
    WHARF_ASSIGN_OR_RETURN(p->estimator_, family.fit(data, params, context));
  }
  return p;
}

Status Pipeline::Predict(const float* x, std::size_t rows, float* out) const {
  if (!standardizer_) return estimator_->PredictProba(x, rows, out);
  const std::size_t cols = standardizer_->cols();
  std::vector<float> scaled(std::min(rows, kChunkRows) * cols);
  for (std::size_t start = 0; start < rows; start += kChunkRows) {
    const std::size_t n = std::min(kChunkRows, rows - start);
    standardizer_->Transform(x + start * cols, n, scaled.data());
    WHARF_RETURN_IF_ERROR(estimator_->PredictProba(scaled.data(), n, out + start * num_classes_));
  }
  return Status::Ok();
}

Result<std::vector<int>> Pipeline::PredictClasses(const float* x, std::size_t rows) const {
  std::vector<float> proba(rows * num_classes_);
  WHARF_RETURN_IF_ERROR(Predict(x, rows, proba.data()));
  std::vector<int> classes(rows);
  for (std::size_t r = 0; r < rows; ++r) {
    const float* row = proba.data() + r * num_classes_;
    classes[r] = static_cast<int>(std::max_element(row, row + num_classes_) - row);
  }
  return classes;
}

Status Pipeline::SaveTo(artifact::Modelfile& file) const {
  nlohmann::json state;
  WHARF_RETURN_IF_ERROR(estimator_->Save(state, file.sections));
  auto& h = file.header;
  h["kind"] = "classifier";
  h["schema"] = {{"features", schema_.features}, {"label", schema_.label}, {"classes", schema_.classes}};
  h["preprocessing"] = nlohmann::json::array();
  if (standardizer_) h["preprocessing"].push_back(standardizer_->ToJson());
  h["estimator"] = {{"kind", family_->kind}, {"params", params_}, {"state", state}};
  return Status::Ok();
}

Result<std::unique_ptr<Pipeline>> Pipeline::Load(const artifact::Modelfile& file,
                                                 const artifact::LoadOptions& options) {
  const auto& h = file.header;
  std::unique_ptr<Pipeline> p(new Pipeline());
  WHARF_ASSIGN_OR_RETURN(p->schema_, SchemaFromJson(h));
  p->num_classes_ = p->schema_.classes.size();
  nlohmann::json state;
  try {
    const auto& estimator = h.at("estimator");
    WHARF_ASSIGN_OR_RETURN(p->family_, FindFamily(estimator.at("kind").get<std::string>()));
    p->params_ = estimator.value("params", Params{});
    state = estimator.value("state", nlohmann::json());
    for (const auto& step : h.value("preprocessing", nlohmann::json::array())) {
      const std::string kind = step.value("kind", "");
      if (kind != "standardize") return InvalidArgument("unknown preprocessing step '" + kind + "'; known: standardize");
      WHARF_ASSIGN_OR_RETURN(p->standardizer_, Standardizer::FromJson(step, p->schema_.features.size()));
    }
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgument(std::string("Modelfile header: ") + e.what());
  }
  if (p->family_->standardize != p->standardizer_.has_value()) {
    return InvalidArgument("Modelfile header: preprocessing does not match estimator '" + p->family_->kind + "'");
  }
  const ModelShape shape{p->schema_.features.size(), p->num_classes_, options.threads};
  WHARF_ASSIGN_OR_RETURN(p->estimator_, p->family_->load(state, file, shape));
  return p;
}

void Register(artifact::ModelRegistry& registry) {
  for (const auto& family : Families()) {
    registry.Register(family.kind, [](const artifact::Modelfile& file, const artifact::LoadOptions& options)
                                       -> Result<std::unique_ptr<artifact::Model>> {
      WHARF_ASSIGN_OR_RETURN(auto pipeline, Pipeline::Load(file, options));
      return std::unique_ptr<artifact::Model>(std::move(pipeline));
    });
  }
}

}  // namespace wharf::ml
