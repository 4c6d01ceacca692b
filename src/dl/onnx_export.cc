#include "dl/onnx_export.h"

#include <map>

#include <fmt/format.h>
#include <onnx/onnx_pb.h>

namespace wharf::dl {

namespace {

// Builds the graph: names tensors, adds nodes and initializers.
class GraphWriter {
 public:
  GraphWriter(onnx::GraphProto& graph, std::map<std::string, torch::Tensor> tensors)
      : graph_(graph), tensors_(std::move(tensors)) {}

  // An initializer from the network's tensor `name`; returns its name.
  Result<std::string> Weight(const std::string& name) {
    auto it = tensors_.find(name);
    if (it == tensors_.end()) return Internal("ONNX export: the network has no tensor " + name);
    const torch::Tensor t = it->second.to(torch::kFloat32).contiguous();
    onnx::TensorProto* init = graph_.add_initializer();
    init->set_name(name);
    init->set_data_type(onnx::TensorProto::FLOAT);
    for (const auto d : t.sizes()) init->add_dims(d);
    init->set_raw_data(t.data_ptr(), t.numel() * sizeof(float));
    return name;
  }

  // Adds an `op` node; returns the name of its output.
  std::string Node(const std::string& op, const std::vector<std::string>& inputs,
                   const std::vector<std::pair<std::string, std::vector<std::int64_t>>>& int_lists = {},
                   const std::vector<std::pair<std::string, std::int64_t>>& ints = {},
                   const std::vector<std::pair<std::string, float>>& floats = {}) {
    onnx::NodeProto* node = graph_.add_node();
    const std::string out = fmt::format("t{}", next_++);
    node->set_op_type(op);
    node->set_name(fmt::format("{}_{}", op, next_));
    for (const auto& in : inputs) node->add_input(in);
    node->add_output(out);
    for (const auto& [name, values] : int_lists) {
      onnx::AttributeProto* a = node->add_attribute();
      a->set_name(name);
      a->set_type(onnx::AttributeProto::INTS);
      for (const auto v : values) a->add_ints(v);
    }
    for (const auto& [name, value] : ints) {
      onnx::AttributeProto* a = node->add_attribute();
      a->set_name(name);
      a->set_type(onnx::AttributeProto::INT);
      a->set_i(value);
    }
    for (const auto& [name, value] : floats) {
      onnx::AttributeProto* a = node->add_attribute();
      a->set_name(name);
      a->set_type(onnx::AttributeProto::FLOAT);
      a->set_f(value);
    }
    return out;
  }

  Result<std::string> Conv(const std::string& x, const std::string& p, std::int64_t kernel, std::int64_t stride,
                           std::int64_t padding, bool bias) {
    std::vector<std::string> inputs{x};
    WHARF_ASSIGN_OR_RETURN(std::string w, Weight(p + "_weight"));
    inputs.push_back(w);
    if (bias) {
      WHARF_ASSIGN_OR_RETURN(std::string b, Weight(p + "_bias"));
      inputs.push_back(b);
    }
    return Node("Conv", inputs,
                {{"kernel_shape", {kernel, kernel}}, {"strides", {stride, stride}}, {"pads", {padding, padding, padding, padding}}});
  }

  Result<std::string> BatchNorm(const std::string& x, const std::string& p) {
    std::vector<std::string> inputs{x};
    for (const char* part : {"_weight", "_bias", "_running_mean", "_running_var"}) {
      WHARF_ASSIGN_OR_RETURN(std::string t, Weight(p + part));
      inputs.push_back(t);
    }
    return Node("BatchNormalization", inputs, {}, {}, {{"epsilon", 1e-5f}});
  }

 private:
  onnx::GraphProto& graph_;
  std::map<std::string, torch::Tensor> tensors_;
  int next_ = 0;
};

void DeclareValue(onnx::ValueInfoProto* value, const std::string& name, const std::vector<std::int64_t>& dims) {
  value->set_name(name);
  auto* tensor = value->mutable_type()->mutable_tensor_type();
  tensor->set_elem_type(onnx::TensorProto::FLOAT);
  auto* shape = tensor->mutable_shape();
  shape->add_dim()->set_dim_param("N");
  for (const auto d : dims) shape->add_dim()->set_dim_value(d);
}

}  // namespace

Result<std::string> ToOnnx(Network& network) {
  const Architecture& a = network->architecture();
  onnx::ModelProto model;
  model.set_ir_version(7);
  model.set_producer_name("wharf");
  model.set_model_version(1);
  auto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(13);
  onnx::GraphProto& graph = *model.mutable_graph();
  graph.set_name(a.name);
  DeclareValue(graph.add_input(), "input", {a.channels, a.height, a.width});

  std::map<std::string, torch::Tensor> tensors;
  for (auto& [name, t] : FlatTensors(network)) tensors.emplace(name, t);
  GraphWriter g(graph, std::move(tensors));
  std::string x = "input";
  for (std::size_t i = 0; i < a.layers.size(); ++i) {
    const Layer& l = a.layers[i];
    const std::string p = fmt::format("l{}", i);
    switch (l.kind) {
      case LayerKind::kConv: {
        WHARF_ASSIGN_OR_RETURN(x, g.Conv(x, p, l.kernel, l.stride, l.padding, l.bias));
        break;
      }
      case LayerKind::kBatchNorm: {
        WHARF_ASSIGN_OR_RETURN(x, g.BatchNorm(x, p));
        break;
      }
      case LayerKind::kLinear: {
        WHARF_ASSIGN_OR_RETURN(std::string w, g.Weight(p + "_weight"));
        WHARF_ASSIGN_OR_RETURN(std::string b, g.Weight(p + "_bias"));
        x = g.Node("Gemm", {x, w, b}, {}, {{"transB", 1}});
        break;
      }
      case LayerKind::kRelu: x = g.Node("Relu", {x}); break;
      case LayerKind::kMaxPool:
        x = g.Node("MaxPool", {x}, {{"kernel_shape", {l.kernel, l.kernel}}, {"strides", {l.kernel, l.kernel}}});
        break;
      case LayerKind::kDropout: break;
      case LayerKind::kFlatten: x = g.Node("Flatten", {x}, {}, {{"axis", 1}}); break;
      case LayerKind::kGlobalAvgPool:
        x = g.Node("Flatten", {g.Node("GlobalAveragePool", {x})}, {}, {{"axis", 1}});
        break;
      case LayerKind::kResidual: {
        WHARF_ASSIGN_OR_RETURN(std::string y, g.Conv(x, p + "_conv1", 3, l.stride, 1, false));
        WHARF_ASSIGN_OR_RETURN(y, g.BatchNorm(y, p + "_bn1"));
        y = g.Node("Relu", {y});
        WHARF_ASSIGN_OR_RETURN(y, g.Conv(y, p + "_conv2", 3, 1, 1, false));
        WHARF_ASSIGN_OR_RETURN(y, g.BatchNorm(y, p + "_bn2"));
        std::string shortcut = x;
        if (l.stride != 1 || l.in != l.out) {
          WHARF_ASSIGN_OR_RETURN(shortcut, g.Conv(x, p + "_down_conv", 1, l.stride, 0, false));
          WHARF_ASSIGN_OR_RETURN(shortcut, g.BatchNorm(shortcut, p + "_down_bn"));
        }
        x = g.Node("Relu", {g.Node("Add", {y, shortcut})});
        break;
      }
    }
  }
  // Name the last output "logits".
  onnx::NodeProto* last = graph.mutable_node(graph.node_size() - 1);
  last->set_output(0, "logits");
  DeclareValue(graph.add_output(), "logits", {a.classes});
  std::string bytes;
  if (!model.SerializeToString(&bytes)) return Internal("ONNX export: protobuf serialization failed");
  return bytes;
}

}  // namespace wharf::dl
