#include "dl/architecture.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace wharf::dl {

namespace {

Layer Conv(std::int64_t in, std::int64_t out, std::int64_t kernel, std::int64_t stride, std::int64_t padding,
           bool bias) {
  return {.kind = LayerKind::kConv, .in = in, .out = out, .kernel = kernel, .stride = stride, .padding = padding,
          .bias = bias};
}

// LeNet's shape with today's parts: conv32-pool-conv64-pool-fc128, ReLU, dropout.
Architecture LeNet(std::int64_t c, std::int64_t h, std::int64_t w, std::int64_t classes) {
  Architecture a{.name = "lenet", .channels = c, .height = h, .width = w, .classes = classes, .layers = {}};
  a.layers = {
      Conv(c, 32, 3, 1, 1, true),
      {.kind = LayerKind::kRelu},
      {.kind = LayerKind::kMaxPool, .kernel = 2},
      Conv(32, 64, 3, 1, 1, true),
      {.kind = LayerKind::kRelu},
      {.kind = LayerKind::kMaxPool, .kernel = 2},
      {.kind = LayerKind::kFlatten},
      {.kind = LayerKind::kLinear, .in = 64 * (h / 4) * (w / 4), .out = 128},
      {.kind = LayerKind::kRelu},
      {.kind = LayerKind::kDropout, .p = 0.25},
      {.kind = LayerKind::kLinear, .in = 128, .out = classes},
  };
  return a;
}

// A small ResNet: a 3x3 stem, three residual stages (16, 32, 64 channels;
// the last two halve the resolution), global average pooling.
Architecture ResNetSmall(std::int64_t c, std::int64_t h, std::int64_t w, std::int64_t classes) {
  Architecture a{.name = "resnet-small", .channels = c, .height = h, .width = w, .classes = classes, .layers = {}};
  a.layers = {
      Conv(c, 16, 3, 1, 1, false),
      {.kind = LayerKind::kBatchNorm, .out = 16},
      {.kind = LayerKind::kRelu},
      {.kind = LayerKind::kResidual, .in = 16, .out = 16, .stride = 1},
      {.kind = LayerKind::kResidual, .in = 16, .out = 32, .stride = 2},
      {.kind = LayerKind::kResidual, .in = 32, .out = 64, .stride = 2},
      {.kind = LayerKind::kGlobalAvgPool},
      {.kind = LayerKind::kLinear, .in = 64, .out = classes},
  };
  return a;
}

}  // namespace

std::vector<std::string> ArchitectureNames() { return {"lenet", "resnet-small"}; }

Result<Architecture> MakeArchitecture(std::string_view name, std::int64_t channels, std::int64_t height,
                                      std::int64_t width, std::int64_t classes) {
  if (channels < 1 || channels > 4) return InvalidArgument(fmt::format("images must have 1 to 4 channels, not {}", channels));
  if (classes < 2) return InvalidArgument(fmt::format("a classifier needs at least 2 classes, not {}", classes));
  if (height < 8 || width < 8) {
    return InvalidArgument(fmt::format("images of {}x{} are too small for a CNN (at least 8x8)", height, width));
  }
  if (height > 1024 || width > 1024) {
    return InvalidArgument(fmt::format("images of {}x{} are too large to train on here (at most 1024x1024)", height, width));
  }
  if (name == "lenet") return LeNet(channels, height, width, classes);
  if (name == "resnet-small") return ResNetSmall(channels, height, width, classes);
  return InvalidArgument(fmt::format("unknown architecture '{}' (known: {})", name, fmt::join(ArchitectureNames(), ", ")));
}

}  // namespace wharf::dl
