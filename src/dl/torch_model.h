#pragma once
// An image classifier run by LibTorch from a TorchScript archive: loaded,
// frozen and optimized for inference once, then shared by every thread.

#include <memory>

#include <torch/script.h>

#include "artifact/modelfile.h"
#include "artifact/registry.h"
#include "dl/image_model.h"

namespace wharf::dl {

// The torch device named by `name` ("cpu", "cuda", "cuda:1"): InvalidArgument
// for another name, FailedPrecondition for CUDA when this LibTorch has none.
Result<torch::Device> ParseDevice(const std::string& name);

class TorchScriptModel final : public artifact::Model {
 public:
  // From the Modelfile's model.pt section.
  static Result<std::unique_ptr<TorchScriptModel>> Load(const artifact::Modelfile& file,
                                                        const artifact::LoadOptions& options);
  // From a TorchScript archive's bytes and a spec (`wharf model import`).
  static Result<std::unique_ptr<TorchScriptModel>> FromBytes(const std::string& archive, ImageModelSpec spec,
                                                             const artifact::LoadOptions& options);

  const artifact::ModelSchema& schema() const override { return spec_.schema; }
  std::size_t output_width() const override { return spec_.schema.classes.size(); }
  Status Predict(const float* x, std::size_t rows, float* out) const override;
  Status DecodeImage(std::string_view encoded, float* row) const override;

 private:
  TorchScriptModel(ImageModelSpec spec, torch::jit::Module module, torch::Device device);

  ImageModelSpec spec_;
  mutable torch::jit::Module module_;  // forward() is not const, but running it is thread-safe
  torch::Device device_;
  torch::Tensor mean_, std_;  // [1, C, 1, 1] on device_
};

}  // namespace wharf::dl
