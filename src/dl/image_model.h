#pragma once
// What a Modelfile says about an image classifier, whichever engine runs it
// (TorchScript or ONNX): classes, the input image's shape, the
// normalization applied before the network, and whether the network
// answers logits (softmax applied by wharf) or probabilities.
//
// Header:
//   "schema": {"features": [], "label", "classes", "image": {"channels", "height", "width"}}
//   "preprocessing": [{"normalize": {"mean": [per channel], "std": [per channel]}}]
//   "estimator": {"kind": "torchscript" | "onnx", "outputs": "logits" | "probabilities", ...}
// Sections: "model.pt" (a TorchScript archive), "model.onnx" (an ONNX ModelProto).

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "artifact/model.h"
#include "core/status.h"
#include "dl/image_codec.h"
#include "dl/plugin_api.h"

namespace wharf::dl {

// The engine-independent description of an image classifier.
struct ImageModelSpec {
  artifact::ModelSchema schema;  // classes, label, image_shape {C, H, W}
  std::vector<float> mean, std;  // one per channel: input = (pixel - mean) / std
  bool logits = true;            // the network's outputs need a softmax

  ImageShape shape() const { return {schema.image_shape[0], schema.image_shape[1], schema.image_shape[2]}; }

  // InvalidArgument naming the field when the header is not a valid image model's.
  static Result<ImageModelSpec> FromHeader(const nlohmann::json& header);
  // Writes "schema" and "preprocessing", and "outputs" into header["estimator"].
  void WriteHeader(nlohmann::json& header) const;
};

}  // namespace wharf::dl
