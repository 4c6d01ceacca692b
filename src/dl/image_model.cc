#include "dl/image_model.h"

#include <fmt/format.h>

namespace wharf::dl {

Result<ImageModelSpec> ImageModelSpec::FromHeader(const nlohmann::json& header) {
  ImageModelSpec spec;
  try {
    const auto& s = header.at("schema");
    spec.schema.label = s.value("label", "label");
    spec.schema.classes = s.at("classes").get<std::vector<std::string>>();
    const auto& image = s.at("image");
    spec.schema.image_shape = {image.at("channels").get<std::int64_t>(), image.at("height").get<std::int64_t>(),
                               image.at("width").get<std::int64_t>()};
    for (const auto& step : header.value("preprocessing", nlohmann::json::array())) {
      if (!step.contains("normalize")) continue;
      spec.mean = step["normalize"].at("mean").get<std::vector<float>>();
      spec.std = step["normalize"].at("std").get<std::vector<float>>();
    }
    spec.logits = header.at("estimator").value("outputs", "logits") == "logits";
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgument(std::string("Modelfile header of an image model: ") + e.what());
  }
  const auto& shape = spec.schema.image_shape;
  if (shape[0] < 1 || shape[0] > 4 || shape[1] < 1 || shape[2] < 1 || shape[1] * shape[2] > kMaxImagePixels) {
    return InvalidArgument(fmt::format("Modelfile header: image shape {}x{}x{} is not valid", shape[0], shape[1], shape[2]));
  }
  if (spec.schema.classes.size() < 2) return InvalidArgument("Modelfile header: an image classifier needs two classes or more");
  const auto channels = static_cast<std::size_t>(shape[0]);
  if (spec.mean.empty()) spec.mean.assign(channels, 0.0f);
  if (spec.std.empty()) spec.std.assign(channels, 1.0f);
  if (spec.mean.size() != channels || spec.std.size() != channels) {
    return InvalidArgument(fmt::format("Modelfile header: normalize needs {} means and stds (one per channel)", channels));
  }
  for (const float s : spec.std) {
    if (!(s > 0)) return InvalidArgument("Modelfile header: normalize std must be positive");
  }
  return spec;
}

void ImageModelSpec::WriteHeader(nlohmann::json& header) const {
  header["kind"] = "classifier";
  header["schema"] = {{"features", nlohmann::json::array()},
                      {"label", schema.label},
                      {"classes", schema.classes},
                      {"image",
                       {{"channels", schema.image_shape[0]},
                        {"height", schema.image_shape[1]},
                        {"width", schema.image_shape[2]},
                        {"layout", "CHW"},
                        {"pixels", "intensities in [0, 1]"}}}};
  header["preprocessing"] = nlohmann::json::array({{{"normalize", {{"mean", mean}, {"std", std}}}}});
  header["estimator"]["outputs"] = logits ? "logits" : "probabilities";
}

}  // namespace wharf::dl
