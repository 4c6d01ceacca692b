#pragma once
// An image classifier run from an ONNX graph by OpenCV's dnn module, so a
// model exported elsewhere (or wharf's own ONNX form) predicts without
// LibTorch's interpreter. Built only with OpenCV.

#include <memory>

#include <opencv2/dnn.hpp>

#include "artifact/modelfile.h"
#include "artifact/registry.h"
#include "core/mutex.h"
#include "dl/image_model.h"

namespace wharf::dl {

// rows images (the spec's CHW floats in [0, 1]) as a normalized [N, C, H, W] blob.
cv::Mat NormalizedBlob(const ImageModelSpec& spec, const float* x, std::size_t rows);

class OnnxModel final : public artifact::Model {
 public:
  // From the Modelfile's model.onnx section.
  static Result<std::unique_ptr<OnnxModel>> Load(const artifact::Modelfile& file, const artifact::LoadOptions& options);
  // From an ONNX ModelProto's bytes and a spec (`wharf model import`).
  static Result<std::unique_ptr<OnnxModel>> FromBytes(const std::string& onnx, ImageModelSpec spec);

  const artifact::ModelSchema& schema() const override { return spec_.schema; }
  std::size_t output_width() const override { return spec_.schema.classes.size(); }
  Status Predict(const float* x, std::size_t rows, float* out) const override;
  Status DecodeImage(std::string_view encoded, float* row) const override;

 private:
  OnnxModel(ImageModelSpec spec, cv::dnn::Net net) : spec_(std::move(spec)), net_(std::move(net)) {}

  ImageModelSpec spec_;
  // cv::dnn::Net keeps its input and activations inside: one forward at a time.
  mutable Mutex mutex_;
  mutable cv::dnn::Net net_;
};

}  // namespace wharf::dl
