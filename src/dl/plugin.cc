// libwharf-dl.so's entry point (plugin_api.h).

#include <string_view>

#include <fmt/format.h>

#include "dl/commands.h"
#include "dl/plugin_api.h"
#include "dl/torch_model.h"
#ifdef WHARF_HAVE_OPENCV
#include "dl/onnx_model.h"
#endif

namespace wharf::dl {

namespace {

Result<std::unique_ptr<artifact::Model>> LoadModel(const artifact::Modelfile& file, const artifact::LoadOptions& options) {
  const std::string kind = file.header.value("estimator", nlohmann::json::object()).value("kind", "");
  const std::string engine = options.engine.empty() ? kind : options.engine;
  if (engine == kTorchScriptKind) {
    WHARF_ASSIGN_OR_RETURN(auto model, TorchScriptModel::Load(file, options));
    return std::unique_ptr<artifact::Model>(std::move(model));
  }
  if (engine == kOnnxKind) {
#ifdef WHARF_HAVE_OPENCV
    WHARF_ASSIGN_OR_RETURN(auto model, OnnxModel::Load(file, options));
    return std::unique_ptr<artifact::Model>(std::move(model));
#else
    return FailedPrecondition("this wharf's deep learning module was built without OpenCV: no ONNX engine");
#endif
  }
  return InvalidArgument(fmt::format("engine '{}': use torchscript or onnx", engine));
}

int RunCommand(const char* command, int argc, char** argv) {
  const std::string_view name(command);
  if (name == "dl-train") return RunDlTrain(argc, argv);
  if (name == "model import") return RunModelImport(argc, argv);
  if (name == "featurize") return RunFeaturize(argc, argv);
  fmt::print(stderr, "wharf: the deep learning plugin has no command '{}'\n", name);
  return 1;
}

const PluginApi kApi{kPluginAbi, &LoadModel, &RunCommand};

}  // namespace

}  // namespace wharf::dl

extern "C" __attribute__((visibility("default"))) const wharf::dl::PluginApi* wharf_dl_plugin() {
  return &wharf::dl::kApi;
}
