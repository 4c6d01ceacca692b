#pragma once
// The LibTorch forms of an Architecture: the module that trains, and the
// TorchScript module (eval mode, logits out) that a Modelfile keeps.

#include <string>
#include <vector>

#include <torch/torch.h>
#include <torch/script.h>

#include "dl/architecture.h"

namespace wharf::dl {

// conv3x3-bn-relu-conv3x3-bn + shortcut, relu: Architecture's kResidual.
class ResidualImpl : public torch::nn::Module {
 public:
  ResidualImpl(std::int64_t in, std::int64_t out, std::int64_t stride);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr}, down_conv_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr}, bn2_{nullptr}, down_bn_{nullptr};
};
TORCH_MODULE(Residual);

// A trainable network built from an Architecture. Layer i's parameters are
// registered under "l<i>" (e.g. "l0.weight", "l4.conv1.weight"), the names
// the TorchScript and ONNX forms use too.
class NetworkImpl : public torch::nn::Module {
 public:
  explicit NetworkImpl(Architecture architecture);
  // [N, C, H, W] floats, normalized -> [N, classes] logits.
  torch::Tensor forward(torch::Tensor x);
  const Architecture& architecture() const { return architecture_; }

 private:
  // Layer i's module, in the member its kind uses (none for stateless layers).
  struct Slot {
    torch::nn::Conv2d conv{nullptr};
    torch::nn::BatchNorm2d batch_norm{nullptr};
    torch::nn::Linear linear{nullptr};
    Residual residual{nullptr};
  };

  Architecture architecture_;
  std::vector<Slot> layers_;
};
TORCH_MODULE(Network);

// The network as TorchScript for inference: its weights copied (on the CPU)
// into a script module whose forward maps normalized [N, C, H, W] floats
// to logits, without dropout and with batch norm's running statistics.
// Loadable by torch::jit::load and Python's torch.jit.load.
torch::jit::Module ToTorchScript(Network& network);

// TorchScript source of forward(self, x) running `a`'s layers in eval mode
// (no dropout, batch norm's running statistics) over attributes named as
// FlatTensors names them.
std::string ForwardSource(const Architecture& a);

// The tensors of `network` by their flat names ("l4.conv1.weight" ->
// "l4_conv1_weight"), on the CPU: parameters and batch norm's running
// statistics. What the TorchScript and ONNX exports are made of.
std::vector<std::pair<std::string, torch::Tensor>> FlatTensors(Network& network);

}  // namespace wharf::dl
