#include "dl/onnx_model.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include <fmt/format.h>

namespace wharf::dl {

Result<std::unique_ptr<OnnxModel>> OnnxModel::FromBytes(const std::string& onnx, ImageModelSpec spec) {
  cv::dnn::Net net;
  try {
    net = cv::dnn::readNetFromONNX(onnx.data(), onnx.size());
  } catch (const cv::Exception& e) {
    return InvalidArgument(fmt::format("not an ONNX model OpenCV can run: {}", e.what()));
  }
  if (net.empty()) return InvalidArgument("not an ONNX model OpenCV can run (empty network)");
  net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
  net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
  auto model = std::unique_ptr<OnnxModel>(new OnnxModel(std::move(spec), std::move(net)));
  std::vector<float> probe(model->schema().input_width(), 0.5f), out(model->output_width());
  WHARF_RETURN_IF_ERROR(model->Predict(probe.data(), 1, out.data()));
  return model;
}

Result<std::unique_ptr<OnnxModel>> OnnxModel::Load(const artifact::Modelfile& file, const artifact::LoadOptions& options) {
  if (options.device != "cpu") {
    return FailedPrecondition(fmt::format("the ONNX engine (OpenCV dnn) runs on the cpu, not '{}'", options.device));
  }
  WHARF_ASSIGN_OR_RETURN(ImageModelSpec spec, ImageModelSpec::FromHeader(file.header));
  const artifact::Section* section = file.Find(kOnnxSection);
  if (section == nullptr) return InvalidArgument(fmt::format("Modelfile has no {} section", kOnnxSection));
  return FromBytes(section->bytes, std::move(spec));
}

cv::Mat NormalizedBlob(const ImageModelSpec& spec, const float* x, std::size_t rows) {
  const auto& s = spec.schema.image_shape;
  const std::size_t plane = static_cast<std::size_t>(s[1] * s[2]);
  const std::size_t width = spec.schema.input_width();
  const int dims[4] = {static_cast<int>(rows), static_cast<int>(s[0]), static_cast<int>(s[1]), static_cast<int>(s[2])};
  cv::Mat blob(4, dims, CV_32F);
  float* b = blob.ptr<float>();
  for (std::size_t i = 0; i < rows * width; ++i) {
    const std::size_t c = (i % width) / plane;
    b[i] = (x[i] - spec.mean[c]) / spec.std[c];
  }
  return blob;
}

Status OnnxModel::Predict(const float* x, std::size_t rows, float* out) const {
  if (rows == 0) return Status::Ok();
  const std::size_t classes = output_width();
  const cv::Mat blob = NormalizedBlob(spec_, x, rows);
  cv::Mat y;
  try {
    MutexLock lock(mutex_);
    net_.setInput(blob);
    y = net_.forward().clone();
  } catch (const cv::Exception& e) {
    return InvalidArgument(fmt::format("ONNX forward failed: {}", e.what()));
  }
  if (y.total() != rows * classes) {
    return InvalidArgument(fmt::format("the network answers {} values for {} images, not {} (one score per class)",
                                       y.total(), rows, rows * classes));
  }
  const float* v = y.ptr<float>();
  for (std::size_t r = 0; r < rows; ++r) {
    const float* in = v + r * classes;
    float* o = out + r * classes;
    if (!spec_.logits) {
      std::memcpy(o, in, classes * sizeof(float));
      continue;
    }
    const float top = *std::max_element(in, in + classes);
    float sum = 0;
    for (std::size_t k = 0; k < classes; ++k) sum += o[k] = std::exp(in[k] - top);
    for (std::size_t k = 0; k < classes; ++k) o[k] /= sum;
  }
  return Status::Ok();
}

Status OnnxModel::DecodeImage(std::string_view encoded, float* row) const {
  return DecodeImageRow(encoded, spec_.shape(), row);
}

}  // namespace wharf::dl
