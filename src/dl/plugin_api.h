#pragma once
// The deep learning plugin's interface. LibTorch costs every process that
// links it about half a second and 160 MB at start, so the `wharf` binary
// does not: it loads libwharf-dl.so (built beside it from src/dl) with
// dlopen the first time a command or a Modelfile needs deep learning
// (cli/dl_plugin.h). Both sides are built together, so C++ types cross.
// No LibTorch here.

#include <memory>

#include "artifact/model.h"
#include "artifact/modelfile.h"
#include "artifact/registry.h"
#include "core/status.h"

namespace wharf::dl {

// Bumped whenever PluginApi changes.
inline constexpr int kPluginAbi = 1;

// The model kinds the plugin loads.
inline constexpr char kTorchScriptKind[] = "torchscript";
inline constexpr char kOnnxKind[] = "onnx";
// The Modelfile sections holding each form of an image model.
inline constexpr char kTorchScriptSection[] = "model.pt";
inline constexpr char kOnnxSection[] = "model.onnx";

// What the plugin offers the binary.
struct PluginApi {
  int abi = kPluginAbi;
  // Loads a Modelfile whose estimator.kind is torchscript or onnx.
  Result<std::unique_ptr<artifact::Model>> (*load_model)(const artifact::Modelfile& file,
                                                         const artifact::LoadOptions& options) = nullptr;
  // Runs a command the plugin owns ("dl-train", "model import", "featurize") on its
  // arguments (argv[0] is the command's name); returns the exit code.
  int (*run_command)(const char* command, int argc, char** argv) = nullptr;
};

}  // namespace wharf::dl

// The plugin's one exported symbol.
extern "C" const wharf::dl::PluginApi* wharf_dl_plugin();
