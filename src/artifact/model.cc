#include "artifact/model.h"

namespace wharf::artifact {

std::size_t ModelSchema::input_width() const {
  if (!is_image()) return features.size();
  std::size_t width = 1;
  for (const std::int64_t d : image_shape) width *= static_cast<std::size_t>(d);
  return width;
}

Status Model::DecodeImage(std::string_view /*encoded*/, float* /*row*/) const {
  return Unimplemented("this model takes feature rows, not images");
}

}  // namespace wharf::artifact
