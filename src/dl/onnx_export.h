#pragma once
// The ONNX form of a trained network (opset 13), written with ONNX's own
// protobuf classes (Debian's libonnx): LibTorch has no C++ exporter, so the
// graph is emitted from the Architecture, layer by layer, with the same
// weights as the TorchScript form. Input "input" [N, C, H, W] normalized
// floats, output "logits" [N, classes].

#include <string>

#include "core/status.h"
#include "dl/network.h"

namespace wharf::dl {

// The serialized ModelProto.
Result<std::string> ToOnnx(Network& network);

}  // namespace wharf::dl
