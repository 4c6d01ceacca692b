#pragma once
// The CNNs wharf trains, declared as a list of layers. One declaration
// drives the three forms of a network: the LibTorch module that trains
// (network.h), the TorchScript module a Modelfile keeps, and the ONNX graph
// (export.h), so the three cannot drift apart. No LibTorch here.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace wharf::dl {

enum class LayerKind {
  kConv,           // 2-D convolution, `in` -> `out` channels, square `kernel`, `stride`, `padding`; bias unless followed by batch norm
  kBatchNorm,      // over `out` channels
  kRelu,
  kMaxPool,        // `kernel` x `kernel`, stride `kernel`
  kDropout,        // probability `p`; identity when not training
  kFlatten,        // [N, C, H, W] -> [N, C*H*W]
  kGlobalAvgPool,  // [N, C, H, W] -> [N, C]
  kLinear,         // `in` -> `out` features
  kResidual,       // conv3x3(stride)-bn-relu-conv3x3-bn, plus the input (through a 1x1 conv + bn when the shape changes), relu
};

// One layer; fields not used by its kind are zero.
struct Layer {
  LayerKind kind;
  std::int64_t in = 0, out = 0, kernel = 0, stride = 1, padding = 0;
  bool bias = true;
  double p = 0;
};

// A named network for inputs of one shape.
struct Architecture {
  std::string name;
  std::int64_t channels = 1, height = 28, width = 28, classes = 10;
  std::vector<Layer> layers;
};

// The architectures `wharf dl-train --arch` offers.
std::vector<std::string> ArchitectureNames();

// `name`'s layers for images of channels x height x width and `classes`
// outputs. InvalidArgument naming the known architectures for an unknown
// name, or when the image is too small for the network's pooling.
Result<Architecture> MakeArchitecture(std::string_view name, std::int64_t channels, std::int64_t height,
                                      std::int64_t width, std::int64_t classes);

}  // namespace wharf::dl
