#include "dl/network.h"

#include <sstream>

#include <fmt/format.h>

namespace wharf::dl {

namespace nn = torch::nn;

ResidualImpl::ResidualImpl(std::int64_t in, std::int64_t out, std::int64_t stride) {
  conv1_ = register_module("conv1", nn::Conv2d(nn::Conv2dOptions(in, out, 3).stride(stride).padding(1).bias(false)));
  bn1_ = register_module("bn1", nn::BatchNorm2d(out));
  conv2_ = register_module("conv2", nn::Conv2d(nn::Conv2dOptions(out, out, 3).stride(1).padding(1).bias(false)));
  bn2_ = register_module("bn2", nn::BatchNorm2d(out));
  if (stride != 1 || in != out) {
    down_conv_ = register_module("down_conv", nn::Conv2d(nn::Conv2dOptions(in, out, 1).stride(stride).bias(false)));
    down_bn_ = register_module("down_bn", nn::BatchNorm2d(out));
  }
}

torch::Tensor ResidualImpl::forward(const torch::Tensor& x) {
  torch::Tensor y = torch::relu(bn1_(conv1_(x)));
  y = bn2_(conv2_(y));
  return torch::relu(y + (down_conv_ ? down_bn_(down_conv_(x)) : x));
}

NetworkImpl::NetworkImpl(Architecture architecture) : architecture_(std::move(architecture)) {
  layers_.resize(architecture_.layers.size());
  for (std::size_t i = 0; i < architecture_.layers.size(); ++i) {
    const Layer& l = architecture_.layers[i];
    const std::string name = fmt::format("l{}", i);
    Slot& slot = layers_[i];
    switch (l.kind) {
      case LayerKind::kConv:
        slot.conv = register_module(
            name, nn::Conv2d(nn::Conv2dOptions(l.in, l.out, l.kernel).stride(l.stride).padding(l.padding).bias(l.bias)));
        break;
      case LayerKind::kBatchNorm: slot.batch_norm = register_module(name, nn::BatchNorm2d(l.out)); break;
      case LayerKind::kLinear: slot.linear = register_module(name, nn::Linear(l.in, l.out)); break;
      case LayerKind::kResidual: slot.residual = register_module(name, Residual(l.in, l.out, l.stride)); break;
      case LayerKind::kRelu:
      case LayerKind::kMaxPool:
      case LayerKind::kDropout:
      case LayerKind::kFlatten:
      case LayerKind::kGlobalAvgPool: break;
    }
  }
}

torch::Tensor NetworkImpl::forward(torch::Tensor x) {
  for (std::size_t i = 0; i < architecture_.layers.size(); ++i) {
    const Layer& l = architecture_.layers[i];
    Slot& slot = layers_[i];
    switch (l.kind) {
      case LayerKind::kConv: x = slot.conv(x); break;
      case LayerKind::kBatchNorm: x = slot.batch_norm(x); break;
      case LayerKind::kLinear: x = slot.linear(x); break;
      case LayerKind::kResidual: x = slot.residual(x); break;
      case LayerKind::kRelu: x = torch::relu(x); break;
      case LayerKind::kMaxPool: x = torch::max_pool2d(x, {l.kernel, l.kernel}, {l.kernel, l.kernel}); break;
      case LayerKind::kDropout: x = torch::dropout(x, l.p, is_training()); break;
      case LayerKind::kFlatten: x = torch::flatten(x, 1); break;
      case LayerKind::kGlobalAvgPool: x = x.mean({2, 3}); break;
    }
  }
  return x;
}

std::vector<std::pair<std::string, torch::Tensor>> FlatTensors(Network& network) {
  std::vector<std::pair<std::string, torch::Tensor>> flat;
  auto add = [&](const std::string& dotted, const torch::Tensor& t) {
    std::string name = dotted;
    for (char& c : name) c = c == '.' ? '_' : c;
    flat.emplace_back(std::move(name), t.detach().to(torch::kCPU).contiguous().clone());
  };
  for (const auto& p : network->named_parameters(true)) add(p.key(), p.value());
  for (const auto& b : network->named_buffers(true)) {
    if (b.key().ends_with("num_batches_tracked")) continue;
    add(b.key(), b.value());
  }
  return flat;
}

namespace {

std::string BatchNorm(const std::string& x, const std::string& p) {
  return fmt::format(
      "torch.batch_norm({0}, self.{1}_weight, self.{1}_bias, self.{1}_running_mean, self.{1}_running_var, False, 0.1, "
      "1e-05, False)",
      x, p);
}

}  // namespace

std::string ForwardSource(const Architecture& a) {
  std::ostringstream s;
  s << "def forward(self, x: Tensor) -> Tensor:\n";
  for (std::size_t i = 0; i < a.layers.size(); ++i) {
    const Layer& l = a.layers[i];
    const std::string p = fmt::format("l{}", i);
    switch (l.kind) {
      case LayerKind::kConv:
        s << fmt::format("    x = torch.conv2d(x, self.{0}_weight, {1}, [{2}, {2}], [{3}, {3}])\n", p,
                         l.bias ? "self." + p + "_bias" : "None", l.stride, l.padding);
        break;
      case LayerKind::kBatchNorm: s << "    x = " << BatchNorm("x", p) << "\n"; break;
      case LayerKind::kLinear: s << fmt::format("    x = torch.linear(x, self.{0}_weight, self.{0}_bias)\n", p); break;
      case LayerKind::kRelu: s << "    x = torch.relu(x)\n"; break;
      case LayerKind::kMaxPool: s << fmt::format("    x = torch.max_pool2d(x, [{0}, {0}], [{0}, {0}])\n", l.kernel); break;
      case LayerKind::kDropout: break;
      case LayerKind::kFlatten: s << "    x = torch.flatten(x, 1)\n"; break;
      case LayerKind::kGlobalAvgPool: s << "    x = torch.mean(x, [2, 3])\n"; break;
      case LayerKind::kResidual:
        s << fmt::format("    y = torch.conv2d(x, self.{0}_conv1_weight, None, [{1}, {1}], [1, 1])\n", p, l.stride);
        s << "    y = torch.relu(" << BatchNorm("y", p + "_bn1") << ")\n";
        s << fmt::format("    y = torch.conv2d(y, self.{0}_conv2_weight, None, [1, 1], [1, 1])\n", p);
        s << "    y = " << BatchNorm("y", p + "_bn2") << "\n";
        if (l.stride != 1 || l.in != l.out) {
          s << fmt::format("    s = torch.conv2d(x, self.{0}_down_conv_weight, None, [{1}, {1}], [0, 0])\n", p, l.stride);
          s << "    s = " << BatchNorm("s", p + "_down_bn") << "\n";
          s << "    x = torch.relu(y + s)\n";
        } else {
          s << "    x = torch.relu(y + x)\n";
        }
        break;
    }
  }
  s << "    return x\n";
  return s.str();
}

torch::jit::Module ToTorchScript(Network& network) {
  const Architecture& a = network->architecture();
  torch::jit::Module module("__torch__.wharf." + std::string(a.name == "lenet" ? "LeNet" : "ResNetSmall"));
  for (auto& [name, tensor] : FlatTensors(network)) module.register_parameter(name, tensor, /*is_buffer=*/false);
  module.define(ForwardSource(a));
  module.eval();
  return module;
}

}  // namespace wharf::dl
