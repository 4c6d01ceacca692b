// `wharf model import`: bring your own classifier. A TorchScript archive or
// an ONNX graph, its class names and its input's shape and normalization
// become a Modelfile that predicts and serves like a trained one.

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "artifact/modelfile.h"
#include "cli/exit_code.h"
#include "core/clock.h"
#include "core/file.h"
#include "core/sha256.h"
#include "core/version.h"
#include "dl/commands.h"
#include "dl/image_model.h"
#include "dl/plugin_api.h"
#include "dl/torch_model.h"
#include "dl/training_sets.h"
#ifdef WHARF_HAVE_OPENCV
#include "dl/onnx_model.h"
#endif

namespace wharf::dl {

namespace fs = std::filesystem;

namespace {

struct Flags {
  fs::path torchscript, onnx, labels, out;
  std::vector<std::int64_t> shape;
  std::vector<float> mean, std;
  std::string outputs = "logits";
};

Result<std::vector<std::string>> ReadLabels(const fs::path& path) {
  WHARF_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  std::vector<std::string> labels;
  std::size_t line = 0, at = 0;
  while (at < text.size()) {
    std::size_t end = text.find('\n', at);
    if (end == std::string::npos) end = text.size();
    std::string name = text.substr(at, end - at);
    ++line;
    at = end + 1;
    while (!name.empty() && (name.back() == '\r' || name.back() == ' ' || name.back() == '\t')) name.pop_back();
    if (name.empty()) {
      return InvalidArgument(fmt::format("{}:{}: empty label (one class name per line, in output order)", path.string(), line));
    }
    labels.push_back(std::move(name));
  }
  if (labels.size() < 2) return InvalidArgument(fmt::format("{}: needs two labels or more, one per line", path.string()));
  return labels;
}

Status Run(const Flags& f) {
  if (f.torchscript.empty() == f.onnx.empty()) return InvalidArgument("give one of --torchscript FILE or --onnx FILE");
  if (f.shape.size() != 3) return InvalidArgument("--input-shape takes C,H,W (e.g. 1,28,28)");
  ImageModelSpec spec;
  spec.schema.label = "label";
  WHARF_ASSIGN_OR_RETURN(spec.schema.classes, ReadLabels(f.labels));
  spec.schema.image_shape = f.shape;
  spec.mean = f.mean;
  spec.std = f.std;
  spec.logits = f.outputs == "logits";
  const bool torchscript = !f.torchscript.empty();
  const fs::path source = torchscript ? f.torchscript : f.onnx;
  WHARF_ASSIGN_OR_RETURN(std::string bytes, ReadFile(source));

  artifact::Modelfile file;
  auto& h = file.header;
  h["format"] = "wharf.modelfile";
  h["wharf_version"] = kVersion;
  h["created_at"] = FormatTimeUtc(NowMicros());
  h["estimator"] = {{"kind", torchscript ? kTorchScriptKind : kOnnxKind}};
  spec.WriteHeader(h);
  WHARF_ASSIGN_OR_RETURN(const std::string sha, Sha256OfFile(source));
  h["data"] = nlohmann::json::object();
  h["imported"] = {{"path", source.string()}, {"sha256", sha}, {"labels", f.labels.string()}};
  // Validates the header the loaders will read, then the model itself: it
  // must load and answer one score per label for an image of the shape.
  WHARF_ASSIGN_OR_RETURN(ImageModelSpec checked, ImageModelSpec::FromHeader(h));
  if (torchscript) {
    auto model = TorchScriptModel::FromBytes(bytes, checked, {});
    if (!model.ok()) return InvalidArgument(fmt::format("{}: {}", source.string(), model.status().message()));
    file.sections.push_back({kTorchScriptSection, std::move(bytes)});
  } else {
#ifdef WHARF_HAVE_OPENCV
    auto model = OnnxModel::FromBytes(bytes, checked);
    if (!model.ok()) return InvalidArgument(fmt::format("{}: {}", source.string(), model.status().message()));
    file.sections.push_back({kOnnxSection, std::move(bytes)});
#else
    return FailedPrecondition("this wharf's deep learning module was built without OpenCV: no ONNX engine");
#endif
  }
  WHARF_RETURN_IF_ERROR(artifact::WriteModelfile(file, f.out));
  fmt::print("Imported {} ({}, {} classes, input {}x{}x{}) -> {}\n", source.string(),
             torchscript ? "TorchScript" : "ONNX", spec.schema.classes.size(), f.shape[0], f.shape[1], f.shape[2],
             f.out.string());
  return Status::Ok();
}

}  // namespace

int RunModelImport(int argc, char** argv) {
  Flags f;
  CLI::App app{"Make a Modelfile from a TorchScript or ONNX image classifier and its labels"};
  app.name("wharf model import");
  app.add_option("--torchscript", f.torchscript, "A TorchScript archive (torch.jit.save) taking [N, C, H, W] floats");
  app.add_option("--onnx", f.onnx, "An ONNX graph taking [N, C, H, W] floats");
  app.add_option("--labels", f.labels, "Class names, one per line, in the order of the model's outputs")->required();
  app.add_option("--input-shape", f.shape, "C,H,W of the input image, e.g. 1,28,28")->delimiter(',')->required();
  app.add_option("--mean", f.mean, "Per-channel mean subtracted from [0, 1] pixels (default 0)")->delimiter(',');
  app.add_option("--std", f.std, "Per-channel divisor after the mean (default 1)")->delimiter(',');
  app.add_option("--outputs", f.outputs, "What the model answers: logits (wharf applies softmax) or probabilities")
      ->check(CLI::IsMember({"logits", "probabilities"}))
      ->capture_default_str();
  app.add_option("--out", f.out, "The Modelfile to write")->required();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? cli::kExitOk : cli::kExitBadInput;
  }
  return cli::ExitWith(Run(f));
}

}  // namespace wharf::dl
