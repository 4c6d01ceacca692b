#include "dl/featurizer.h"

#include <cstring>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/script.h>
#include <torch/torch.h>
#ifdef WHARF_HAVE_OPENCV
#include "dl/onnx_model.h"
#endif

#include "core/parallel.h"
#include "dl/architecture.h"
#include "dl/image_model.h"
#include "dl/network.h"
#include "dl/plugin_api.h"
#include "dl/torch_model.h"

namespace wharf::dl {

namespace {

std::string Describe(const Layer& l) {
  switch (l.kind) {
    case LayerKind::kConv: return fmt::format("conv {0}x{0} {1} -> {2}", l.kernel, l.in, l.out);
    case LayerKind::kBatchNorm: return fmt::format("batch-norm {}", l.out);
    case LayerKind::kRelu: return "relu";
    case LayerKind::kMaxPool: return fmt::format("max-pool {0}x{0}", l.kernel);
    case LayerKind::kDropout: return fmt::format("dropout {} (identity when featurizing)", l.p);
    case LayerKind::kFlatten: return "flatten";
    case LayerKind::kGlobalAvgPool: return "global-avg-pool";
    case LayerKind::kLinear: return fmt::format("linear {} -> {}", l.in, l.out);
    case LayerKind::kResidual: return fmt::format("residual {} -> {}, stride {}", l.in, l.out, l.stride);
  }
  return "?";
}

// A network cut at a layer, whichever engine runs it: the width comes from
// one probe image; each engine says only how to run a batch.
class CutNetwork : public Featurizer {
 public:
  CutNetwork(ImageModelSpec spec, std::string layer) : spec_(std::move(spec)), layer_(std::move(layer)) {}

  // Runs one image through to learn the width; fails when the cut does not run.
  Status Probe() {
    const std::vector<float> image(spec_.schema.input_width(), 0.5f);
    std::vector<float> y;
    WHARF_RETURN_IF_ERROR(Forward(image.data(), 1, y));
    width_ = y.size();
    if (width_ == 0) return InvalidArgument(fmt::format("layer {} answers no values", layer_));
    return Status::Ok();
  }

  ImageShape input() const override { return spec_.shape(); }
  std::size_t width() const override { return width_; }
  const std::string& layer() const override { return layer_; }

  Status Run(const float* x, std::size_t rows, float* out) override {
    if (rows == 0) return Status::Ok();
    WHARF_RETURN_IF_ERROR(Forward(x, rows, values_));
    if (values_.size() != rows * width_) {
      return Internal(fmt::format("the cut network answered {} values for {} images, not {} each", values_.size(),
                                  rows, width_));
    }
    std::memcpy(out, values_.data(), values_.size() * sizeof(float));
    return Status::Ok();
  }

 protected:
  // The cut layer's outputs for `rows` images, flattened, into `out`.
  virtual Status Forward(const float* x, std::size_t rows, std::vector<float>& out) = 0;

  ImageModelSpec spec_;
  std::string layer_;

 private:
  std::size_t width_ = 0;
  std::vector<float> values_;
};

// A TorchScript module run up to the cut: one of its methods ("forward" of
// a module built for the cut, or an imported module's "features"), or the
// first children of an nn.Sequential in order.
class TorchFeaturizer final : public CutNetwork {
 public:
  TorchFeaturizer(ImageModelSpec spec, torch::jit::Module module, std::string method, std::vector<std::string> children,
                  torch::Device device, std::string layer)
      : CutNetwork(std::move(spec), std::move(layer)),
        module_(std::move(module)),
        method_(std::move(method)),
        children_(std::move(children)),
        device_(device) {
    const auto c = static_cast<std::int64_t>(spec_.mean.size());
    mean_ = torch::tensor(spec_.mean).view({1, c, 1, 1}).to(device_);
    std_ = torch::tensor(spec_.std).view({1, c, 1, 1}).to(device_);
  }

 private:
  Status Forward(const float* x, std::size_t rows, std::vector<float>& out) override {
    const auto& s = spec_.schema.image_shape;
    try {
      c10::InferenceMode guard;
      torch::Tensor y = torch::from_blob(const_cast<float*>(x), {static_cast<std::int64_t>(rows), s[0], s[1], s[2]},
                                         torch::kFloat32);
      y = (y.to(device_) - mean_) / std_;
      if (children_.empty()) {
        y = module_.get_method(method_)({y}).toTensor();
      } else {
        for (const auto& child : children_) y = module_.attr(child).toModule().forward({y}).toTensor();
      }
      y = y.to(torch::kCPU, torch::kFloat32).contiguous();
      out.assign(y.data_ptr<float>(), y.data_ptr<float>() + y.numel());
      return Status::Ok();
    } catch (const c10::Error& e) {
      return InvalidArgument(fmt::format("the network up to layer {} failed: {}", layer_, e.what_without_backtrace()));
    }
  }

  torch::jit::Module module_;
  std::string method_;
  std::vector<std::string> children_;
  torch::Device device_;
  torch::Tensor mean_, std_;
};

// The layers of a network wharf trained, and the default cut: all but the last.
struct WharfLayers {
  Architecture architecture;
  std::size_t default_end = 0;  // layers run by default
};

Result<WharfLayers> WharfArchitecture(const artifact::Modelfile& file, const ImageModelSpec& spec) {
  const std::string name = file.header.at("estimator").value("architecture", "");
  const auto& s = spec.schema.image_shape;
  WHARF_ASSIGN_OR_RETURN(Architecture a, MakeArchitecture(name, s[0], s[1], s[2],
                                                           static_cast<std::int64_t>(spec.schema.classes.size())));
  WharfLayers layers{std::move(a), 0};
  layers.default_end = layers.architecture.layers.size() - 1;
  return layers;
}

bool IsWharfTrained(const artifact::Modelfile& file) {
  return file.header.value("estimator", nlohmann::json::object()).contains("architecture");
}

// How an imported TorchScript module can be cut.
struct ImportedCut {
  bool has_features = false;              // a `features` method
  std::vector<std::string> children;      // an nn.Sequential's children, in order
  std::vector<std::string> child_types;
};

ImportedCut Inspect(const torch::jit::Module& module) {
  ImportedCut cut;
  cut.has_features = module.find_method("features").has_value();
  const std::string type = module.type()->name() ? module.type()->name()->qualifiedName() : "";
  if (type.find("Sequential") != std::string::npos) {
    for (const auto& child : module.named_children()) {
      cut.children.push_back(child.name);
      cut.child_types.push_back(child.value.type()->name() ? child.value.type()->name()->name() : "?");
    }
  }
  return cut;
}

Result<torch::jit::Module> LoadScript(const artifact::Modelfile& file, torch::Device device) {
  const artifact::Section* section = file.Find(kTorchScriptSection);
  if (section == nullptr) return InvalidArgument(fmt::format("Modelfile has no {} section", kTorchScriptSection));
  try {
    std::istringstream in(section->bytes);
    torch::jit::Module module = torch::jit::load(in, device);
    module.eval();
    return module;
  } catch (const c10::Error& e) {
    return InvalidArgument(fmt::format("not a loadable TorchScript module: {}", e.what_without_backtrace()));
  }
}

Result<std::unique_ptr<Featurizer>> LoadTorch(const artifact::Modelfile& file, const ImageModelSpec& spec,
                                              const FeaturizerOptions& options) {
  WHARF_ASSIGN_OR_RETURN(torch::Device device, ParseDevice(options.device));
  if (device.is_cpu()) at::set_num_threads(options.threads > 0 ? options.threads : HardwareThreads());
  WHARF_ASSIGN_OR_RETURN(torch::jit::Module module, LoadScript(file, device));
  std::unique_ptr<TorchFeaturizer> featurizer;
  if (IsWharfTrained(file)) {
    WHARF_ASSIGN_OR_RETURN(WharfLayers layers, WharfArchitecture(file, spec));
    std::size_t end = layers.default_end;
    if (!options.layer.empty()) {
      end = 0;
      for (std::size_t i = 0; i < layers.architecture.layers.size(); ++i) {
        if (options.layer == fmt::format("l{}", i)) end = i + 1;
      }
      if (end == 0) {
        return InvalidArgument(fmt::format("no layer '{}' in this {} network: its layers are l0 .. l{} "
                                           "(wharf featurize --list-layers)",
                                           options.layer, layers.architecture.name, layers.architecture.layers.size() - 1));
      }
    }
    Architecture cut = layers.architecture;
    cut.layers.resize(end);
    torch::jit::Module features("__torch__.wharf.Features");
    try {
      for (const auto& p : module.named_parameters(/*recurse=*/false)) features.register_parameter(p.name, p.value, false);
      features.define(ForwardSource(cut));
      features.eval();
      features = torch::jit::freeze(features);
      features = torch::jit::optimize_for_inference(features);
    } catch (const c10::Error& e) {
      return InvalidArgument(fmt::format("cutting the network at l{}: {}", end - 1, e.what_without_backtrace()));
    }
    featurizer = std::make_unique<TorchFeaturizer>(spec, std::move(features), "forward", std::vector<std::string>{},
                                                   device, fmt::format("l{}", end - 1));
  } else {
    const ImportedCut cut = Inspect(module);
    if (cut.has_features && (options.layer.empty() || options.layer == "features")) {
      featurizer = std::make_unique<TorchFeaturizer>(spec, module, "features", std::vector<std::string>{}, device,
                                                     "features");
    } else if (!cut.children.empty()) {
      std::size_t end = cut.children.size() - 1;
      if (!options.layer.empty()) {
        const auto it = std::find(cut.children.begin(), cut.children.end(), options.layer);
        if (it == cut.children.end()) {
          return InvalidArgument(fmt::format("no layer '{}' in this nn.Sequential: its children are {}", options.layer,
                                             fmt::join(cut.children, ", ")));
        }
        end = static_cast<std::size_t>(it - cut.children.begin()) + 1;
      }
      std::vector<std::string> run(cut.children.begin(), cut.children.begin() + static_cast<std::ptrdiff_t>(end));
      featurizer = std::make_unique<TorchFeaturizer>(spec, module, "forward", run, device, run.back());
    } else {
      return InvalidArgument(
          "this TorchScript module cannot be cut: it is not an nn.Sequential and has no `features` method; script one "
          "(a method `def features(self, x)` answering the layer you want), or import its ONNX form and name a layer");
    }
  }
  WHARF_RETURN_IF_ERROR(featurizer->Probe());
  return std::unique_ptr<Featurizer>(std::move(featurizer));
}

#ifdef WHARF_HAVE_OPENCV
// An ONNX graph run by OpenCV's dnn up to a named layer (fusion off, so
// every layer's own output is kept).
class OnnxFeaturizer final : public CutNetwork {
 public:
  OnnxFeaturizer(ImageModelSpec spec, cv::dnn::Net net, std::string layer)
      : CutNetwork(std::move(spec), std::move(layer)), net_(std::move(net)) {}

 private:
  Status Forward(const float* x, std::size_t rows, std::vector<float>& out) override {
    try {
      net_.setInput(NormalizedBlob(spec_, x, rows));
      cv::Mat y = net_.forward(layer_);
      if (y.type() != CV_32F) y.convertTo(y, CV_32F);
      if (!y.isContinuous()) y = y.clone();
      out.assign(y.ptr<float>(), y.ptr<float>() + y.total());
      return Status::Ok();
    } catch (const cv::Exception& e) {
      return InvalidArgument(fmt::format("the ONNX graph up to layer {} failed: {}", layer_, e.what()));
    }
  }

  cv::dnn::Net net_;
};

Result<cv::dnn::Net> LoadOnnx(const artifact::Modelfile& file) {
  const artifact::Section* section = file.Find(kOnnxSection);
  if (section == nullptr) return InvalidArgument(fmt::format("Modelfile has no {} section", kOnnxSection));
  cv::dnn::Net net;
  try {
    net = cv::dnn::readNetFromONNX(section->bytes.data(), section->bytes.size());
  } catch (const cv::Exception& e) {
    return InvalidArgument(fmt::format("not an ONNX model OpenCV can run: {}", e.what()));
  }
  if (net.empty()) return InvalidArgument("not an ONNX model OpenCV can run (empty network)");
  net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
  net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
  net.enableFusion(false);
  return net;
}

// The input of the last fully connected layer, or empty.
std::string OnnxDefaultLayer(const cv::dnn::Net& net) {
  const std::vector<cv::String> names = net.getLayerNames();
  for (auto it = names.rbegin(); it != names.rend(); ++it) {
    const int id = net.getLayerId(*it);
    if (net.getLayer(id)->type != "InnerProduct") continue;
    const auto inputs = net.getLayerInputs(id);
    if (!inputs.empty()) return inputs.front()->name;
  }
  return "";
}

Result<std::unique_ptr<Featurizer>> LoadOnnxFeaturizer(const artifact::Modelfile& file, const ImageModelSpec& spec,
                                                       const FeaturizerOptions& options) {
  if (options.device != "cpu") {
    return FailedPrecondition(fmt::format("the ONNX engine (OpenCV dnn) runs on the cpu, not '{}'", options.device));
  }
  WHARF_ASSIGN_OR_RETURN(cv::dnn::Net net, LoadOnnx(file));
  std::string layer = options.layer.empty() ? OnnxDefaultLayer(net) : options.layer;
  if (layer.empty()) {
    return InvalidArgument("this ONNX graph has no fully connected layer to cut before: name one with --layer "
                           "(wharf featurize --list-layers)");
  }
  const std::vector<cv::String> names = net.getLayerNames();
  if (std::find(names.begin(), names.end(), layer) == names.end()) {
    return InvalidArgument(fmt::format("no layer '{}' in this ONNX graph (wharf featurize --list-layers)", layer));
  }
  auto featurizer = std::make_unique<OnnxFeaturizer>(spec, std::move(net), layer);
  WHARF_RETURN_IF_ERROR(featurizer->Probe());
  return std::unique_ptr<Featurizer>(std::move(featurizer));
}
#endif

// The pixels themselves.
class RawFeaturizer final : public Featurizer {
 public:
  explicit RawFeaturizer(ImageShape shape) : shape_(shape) {}
  ImageShape input() const override { return shape_; }
  std::size_t width() const override { return static_cast<std::size_t>(shape_.channels * shape_.height * shape_.width); }
  const std::string& layer() const override { return layer_; }
  Status Run(const float* x, std::size_t rows, float* out) override {
    std::memcpy(out, x, rows * width() * sizeof(float));
    return Status::Ok();
  }

 private:
  ImageShape shape_;
  std::string layer_ = "pixels";
};

std::string EngineOf(const artifact::Modelfile& file, const FeaturizerOptions& options) {
  return options.engine.empty() ? file.header.value("estimator", nlohmann::json::object()).value("kind", "")
                                : options.engine;
}

}  // namespace

Result<std::unique_ptr<Featurizer>> LoadFeaturizer(const artifact::Modelfile& file, const FeaturizerOptions& options) {
  WHARF_ASSIGN_OR_RETURN(const ImageModelSpec spec, ImageModelSpec::FromHeader(file.header));
  const std::string engine = EngineOf(file, options);
  if (engine == kTorchScriptKind) return LoadTorch(file, spec, options);
  if (engine == kOnnxKind) {
#ifdef WHARF_HAVE_OPENCV
    return LoadOnnxFeaturizer(file, spec, options);
#else
    return FailedPrecondition("this wharf's deep learning module was built without OpenCV: no ONNX engine");
#endif
  }
  return InvalidArgument(fmt::format("engine '{}': featurize runs torchscript or onnx image models", engine));
}

Result<std::vector<std::string>> ListLayers(const artifact::Modelfile& file, const FeaturizerOptions& options) {
  WHARF_ASSIGN_OR_RETURN(const ImageModelSpec spec, ImageModelSpec::FromHeader(file.header));
  const std::string engine = EngineOf(file, options);
  std::vector<std::string> lines;
  if (engine == kTorchScriptKind && IsWharfTrained(file)) {
    WHARF_ASSIGN_OR_RETURN(const WharfLayers layers, WharfArchitecture(file, spec));
    for (std::size_t i = 0; i < layers.architecture.layers.size(); ++i) {
      lines.push_back(fmt::format("l{:<4} {}{}", i, Describe(layers.architecture.layers[i]),
                                  i + 1 == layers.default_end ? "   (default: the penultimate)" : ""));
    }
    return lines;
  }
  if (engine == kTorchScriptKind) {
    WHARF_ASSIGN_OR_RETURN(torch::jit::Module module, LoadScript(file, torch::kCPU));
    const ImportedCut cut = Inspect(module);
    if (cut.has_features) lines.push_back("features   (the module's features method; default)");
    for (std::size_t i = 0; i < cut.children.size(); ++i) {
      lines.push_back(fmt::format("{:<10} {}{}", cut.children[i], cut.child_types[i],
                                  !cut.has_features && i + 2 == cut.children.size() ? "   (default)" : ""));
    }
    if (lines.empty()) lines.push_back("(none: not an nn.Sequential and no features method)");
    return lines;
  }
#ifdef WHARF_HAVE_OPENCV
  if (engine == kOnnxKind) {
    WHARF_ASSIGN_OR_RETURN(cv::dnn::Net net, LoadOnnx(file));
    const std::string fallback = OnnxDefaultLayer(net);
    for (const auto& name : net.getLayerNames()) {
      lines.push_back(fmt::format("{:<24} {}{}", name, net.getLayer(net.getLayerId(name))->type,
                                  name == fallback ? "   (default)" : ""));
    }
    return lines;
  }
#endif
  return InvalidArgument(fmt::format("engine '{}': featurize runs torchscript or onnx image models", engine));
}

std::unique_ptr<Featurizer> RawPixels(ImageShape shape) { return std::make_unique<RawFeaturizer>(shape); }

}  // namespace wharf::dl
