#include "dl/torch_model.h"

#include <cstring>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/torch.h>

#include "core/parallel.h"

namespace wharf::dl {

Result<torch::Device> ParseDevice(const std::string& name) {
  try {
    torch::Device device(name);
    if (device.is_cuda() && !torch::cuda::is_available()) {
      return FailedPrecondition(fmt::format(
          "device '{}': this LibTorch has no CUDA (Debian's is CPU-only, or no GPU is visible); build wharf against a "
          "CUDA LibTorch (docs/deep-learning.md) or use --device cpu",
          name));
    }
    if (!device.is_cpu() && !device.is_cuda()) return InvalidArgument(fmt::format("device '{}': use cpu or cuda", name));
    return device;
  } catch (const c10::Error&) {
    return InvalidArgument(fmt::format("device '{}' is not a device (use cpu, cuda or cuda:N)", name));
  }
}

TorchScriptModel::TorchScriptModel(ImageModelSpec spec, torch::jit::Module module, torch::Device device)
    : spec_(std::move(spec)), module_(std::move(module)), device_(device) {
  const auto c = static_cast<std::int64_t>(spec_.mean.size());
  mean_ = torch::tensor(spec_.mean).view({1, c, 1, 1}).to(device_);
  std_ = torch::tensor(spec_.std).view({1, c, 1, 1}).to(device_);
}

Result<std::unique_ptr<TorchScriptModel>> TorchScriptModel::FromBytes(const std::string& archive, ImageModelSpec spec,
                                                                      const artifact::LoadOptions& options) {
  WHARF_ASSIGN_OR_RETURN(torch::Device device, ParseDevice(options.device));
  if (device.is_cpu()) at::set_num_threads(options.threads > 0 ? options.threads : HardwareThreads());
  torch::jit::Module module;
  try {
    std::istringstream in(archive);
    module = torch::jit::load(in, device);
    module.eval();
    module = torch::jit::freeze(module);
    module = torch::jit::optimize_for_inference(module);
  } catch (const c10::Error& e) {
    return InvalidArgument(fmt::format("not a loadable TorchScript module: {}", e.what_without_backtrace()));
  }
  auto model = std::unique_ptr<TorchScriptModel>(new TorchScriptModel(std::move(spec), std::move(module), device));
  // One image through, so a model that does not fit its declared shape or
  // classes fails here rather than on a request.
  std::vector<float> probe(model->schema().input_width(), 0.5f), out(model->output_width());
  WHARF_RETURN_IF_ERROR(model->Predict(probe.data(), 1, out.data()));
  return model;
}

Result<std::unique_ptr<TorchScriptModel>> TorchScriptModel::Load(const artifact::Modelfile& file,
                                                                 const artifact::LoadOptions& options) {
  WHARF_ASSIGN_OR_RETURN(ImageModelSpec spec, ImageModelSpec::FromHeader(file.header));
  const artifact::Section* section = file.Find(kTorchScriptSection);
  if (section == nullptr) return InvalidArgument(fmt::format("Modelfile has no {} section", kTorchScriptSection));
  return FromBytes(section->bytes, std::move(spec), options);
}

Status TorchScriptModel::Predict(const float* x, std::size_t rows, float* out) const {
  if (rows == 0) return Status::Ok();
  const auto& s = spec_.schema.image_shape;
  const auto classes = static_cast<std::int64_t>(output_width());
  try {
    c10::InferenceMode guard;
    torch::Tensor input = torch::from_blob(const_cast<float*>(x), {static_cast<std::int64_t>(rows), s[0], s[1], s[2]},
                                           torch::kFloat32);
    input = (input.to(device_) - mean_) / std_;
    torch::Tensor y = module_.forward({input}).toTensor();
    if (y.dim() != 2 || y.size(0) != static_cast<std::int64_t>(rows) || y.size(1) != classes) {
      return InvalidArgument(fmt::format("the network answers shape [{}] for {} images, not [{}, {}] (one score per class)",
                                         fmt::join(y.sizes().vec(), ", "), rows, rows, classes));
    }
    if (spec_.logits) y = torch::softmax(y, 1);
    y = y.to(torch::kCPU, torch::kFloat32).contiguous();
    std::memcpy(out, y.data_ptr<float>(), rows * static_cast<std::size_t>(classes) * sizeof(float));
  } catch (const c10::Error& e) {
    return InvalidArgument(fmt::format("TorchScript forward failed: {}", e.what_without_backtrace()));
  }
  return Status::Ok();
}

Status TorchScriptModel::DecodeImage(std::string_view encoded, float* row) const {
  return DecodeImageRow(encoded, spec_.shape(), row);
}

}  // namespace wharf::dl
