#include "serve/inference.h"

#include <simdjson.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cmath>
#include <optional>
#include <random>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <openssl/evp.h>

#include "core/json_depth.h"
#include "core/random.h"

namespace wharf::serve {

namespace od = simdjson::ondemand;

namespace {

// One input tensor as sent.
struct Tensor {
  std::string name;
  std::vector<std::int64_t> shape;
  std::string datatype;
  std::vector<double> data;
  std::vector<std::string> bytes;  // a BYTES tensor's elements (base64-decoded once checked)
};

Status JsonError(simdjson::error_code error, std::string_view where) {
  return InvalidArgument(fmt::format("invalid JSON in {}: {}", where, simdjson::error_message(error)));
}

// Appends every number of a (possibly nested) array to `out`, and every
// string to `strings` (BYTES elements; the datatype, which may come after
// the data, decides which is right).
Status Flatten(od::value value, std::vector<double>& out, std::vector<std::string>& strings, std::string_view tensor) {
  od::json_type type;
  if (auto e = value.type().get(type)) return JsonError(e, "data");
  if (type == od::json_type::array) {
    od::array array;
    if (auto e = value.get_array().get(array)) return JsonError(e, "data");
    for (auto element : array) {
      od::value inner;
      if (auto e = element.get(inner)) return JsonError(e, "data");
      WHARF_RETURN_IF_ERROR(Flatten(inner, out, strings, tensor));
    }
    return Status::Ok();
  }
  if (type == od::json_type::boolean) {
    bool b = false;
    if (auto e = value.get_bool().get(b)) return JsonError(e, "data");
    out.push_back(b ? 1.0 : 0.0);
    return Status::Ok();
  }
  if (type == od::json_type::null) {
    out.push_back(std::nan(""));  // a missing value
    return Status::Ok();
  }
  if (type == od::json_type::string) {
    std::string_view text;
    if (auto e = value.get_string().get(text)) return JsonError(e, "data");
    strings.emplace_back(text);
    return Status::Ok();
  }
  double number = 0;
  if (value.get_double().get(number)) {
    return InvalidArgument(fmt::format("input '{}': data must hold numbers", tensor));
  }
  out.push_back(number);
  return Status::Ok();
}

// Standard base64 (RFC 4648, padded); nullopt for anything else.
std::optional<std::string> DecodeBase64(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out(text.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  std::size_t padding = 0;
  if (!text.empty() && text.back() == '=') ++padding;
  if (text.size() > 1 && text[text.size() - 2] == '=') ++padding;
  out.resize(static_cast<std::size_t>(n) - padding);
  return out;
}

Result<Tensor> ParseTensor(od::value value) {
  Tensor t;
  od::object object;
  if (value.get_object().get(object)) return InvalidArgument("each entry of 'inputs' must be an object");
  bool has_data = false;
  for (auto field : object) {
    std::string_view key;
    if (auto e = field.unescaped_key().get(key)) return JsonError(e, "inputs");
    if (key == "name") {
      std::string_view name;
      if (field.value().get_string().get(name)) return InvalidArgument("input 'name' must be a string");
      t.name = name;
    } else if (key == "datatype") {
      std::string_view type;
      if (field.value().get_string().get(type)) return InvalidArgument("input 'datatype' must be a string");
      t.datatype = type;
    } else if (key == "shape") {
      od::array shape;
      if (field.value().get_array().get(shape)) return InvalidArgument("input 'shape' must be an array of integers");
      for (auto dim : shape) {
        std::int64_t d = 0;
        if (dim.get_int64().get(d) || d < 0) return InvalidArgument("input 'shape' must be an array of integers >= 0");
        t.shape.push_back(d);
      }
    } else if (key == "data") {
      od::value data;
      if (auto e = field.value().get(data)) return JsonError(e, "data");
      WHARF_RETURN_IF_ERROR(Flatten(data, t.data, t.bytes, t.name));
      has_data = true;
    }
  }
  if (t.name.empty()) return InvalidArgument("every input needs a 'name'");
  if (!has_data) return InvalidArgument(fmt::format("input '{}' has no 'data'", t.name));
  if (t.datatype == "BYTES") {
    if (!t.data.empty()) return InvalidArgument(fmt::format("input '{}': BYTES data must hold base64 strings", t.name));
    for (std::size_t i = 0; i < t.bytes.size(); ++i) {
      auto decoded = DecodeBase64(t.bytes[i]);
      if (!decoded) return InvalidArgument(fmt::format("input '{}': element {} is not valid base64", t.name, i));
      t.bytes[i] = std::move(*decoded);
    }
    if (t.shape.empty() || t.shape.size() > 2 || (t.shape.size() == 2 && t.shape[1] != 1) ||
        static_cast<std::size_t>(t.shape[0]) != t.bytes.size()) {
      return InvalidArgument(fmt::format("input '{}': a BYTES tensor of images has shape [batch] (or [batch, 1]) "
                                         "matching its {} elements",
                                         t.name, t.bytes.size()));
    }
    return t;
  }
  if (!t.bytes.empty()) return InvalidArgument(fmt::format("input '{}': data must hold numbers", t.name));
  static constexpr std::string_view kNumeric[] = {"FP32", "FP64", "FP16", "INT8", "INT16", "INT32", "INT64",
                                                  "UINT8", "UINT16", "UINT32", "UINT64", "BOOL"};
  if (std::find(std::begin(kNumeric), std::end(kNumeric), t.datatype) == std::end(kNumeric)) {
    return InvalidArgument(fmt::format("input '{}': datatype '{}' is not supported; send FP32 or FP64 (or BYTES "
                                       "images to an image model)",
                                       t.name, t.datatype));
  }
  // Checked: a client's shape like [2^62 + 1, 4] must not wrap around to the data size.
  std::size_t elements = 1;
  bool overflow = false;
  for (auto d : t.shape) {
    overflow = __builtin_mul_overflow(elements, static_cast<std::size_t>(d), &elements) || overflow;
  }
  if (t.shape.empty() || overflow || elements != t.data.size()) {
    return InvalidArgument(fmt::format("input '{}': shape [{}] does not match its {} data values", t.name,
                                       fmt::join(t.shape, ", "), t.data.size()));
  }
  return t;
}

// An image model's input: one tensor, either BYTES (encoded PNG/JPEG
// images, decoded by the model) or numbers shaped [batch, C, H, W] (or
// [C, H, W] for one image; without C when it is 1; or [batch, C*H*W]).
Result<FeatureBatch> AssembleImages(const std::vector<Tensor>& tensors, const Endpoint& endpoint) {
  if (tensors.size() != 1) return InvalidArgument("an image model takes one input tensor");
  const Tensor& t = tensors.front();
  const auto& shape = endpoint.input_schema().image_shape;  // C, H, W
  const std::size_t width = endpoint.input_schema().input_width();
  FeatureBatch batch;
  if (t.datatype == "BYTES") {
    batch.rows = t.bytes.size();
    batch.x.resize(batch.rows * width);
    for (std::size_t r = 0; r < batch.rows; ++r) {
      const Status decoded = endpoint.first_model().DecodeImage(t.bytes[r], batch.x.data() + r * width);
      if (!decoded.ok()) return InvalidArgument(fmt::format("input '{}', image {}: {}", t.name, r, decoded.message()));
    }
    return batch;
  }
  if (!t.bytes.empty()) return InvalidArgument(fmt::format("input '{}': send images as BYTES", t.name));
  std::vector<std::int64_t> dims = t.shape;
  const bool one = dims.size() == 3 && dims[0] == shape[0] && dims[1] == shape[1] && dims[2] == shape[2];
  const bool gray_one = shape[0] == 1 && dims.size() == 2 && dims[0] == shape[1] && dims[1] == shape[2];
  const bool full = dims.size() == 4 && dims[1] == shape[0] && dims[2] == shape[1] && dims[3] == shape[2];
  const bool gray = shape[0] == 1 && dims.size() == 3 && dims[1] == shape[1] && dims[2] == shape[2];
  const bool flat = dims.size() == 2 && static_cast<std::size_t>(dims[1]) == width;
  if (one || gray_one) {
    batch.rows = 1;
  } else if (full || gray || flat) {
    batch.rows = static_cast<std::size_t>(dims[0]);
  } else {
    return InvalidArgument(fmt::format("input '{}': expected shape [batch, {}] (images of C, H, W), got [{}]", t.name,
                                       fmt::join(shape, ", "), fmt::join(dims, ", ")));
  }
  batch.x.assign(t.data.begin(), t.data.end());
  return batch;
}

// The tensors' values placed in the endpoint's column order.
Result<FeatureBatch> Assemble(std::vector<Tensor>& tensors, const Endpoint& endpoint) {
  if (endpoint.input_schema().is_image()) return AssembleImages(tensors, endpoint);
  for (const auto& t : tensors) {
    if (t.datatype == "BYTES") {
      return InvalidArgument(fmt::format("input '{}': BYTES inputs go to image models; this one takes columns", t.name));
    }
  }
  const std::size_t cols = endpoint.features().size();
  FeatureBatch batch;
  const bool per_column = tensors.size() > 1 || endpoint.ColumnOf(tensors.front().name).has_value();
  if (!per_column) {
    const Tensor& t = tensors.front();
    const bool matrix = t.shape.size() == 2 && static_cast<std::size_t>(t.shape[1]) == cols;
    const bool row = t.shape.size() == 1 && static_cast<std::size_t>(t.shape[0]) == cols;
    if (!matrix && !row) {
      return InvalidArgument(fmt::format("input '{}': expected shape [batch, {}] (the model's {} columns), got [{}]",
                                         t.name, cols, cols, fmt::join(t.shape, ", ")));
    }
    batch.rows = matrix ? static_cast<std::size_t>(t.shape[0]) : 1;
    batch.x.assign(t.data.begin(), t.data.end());
    return batch;
  }
  std::vector<const Tensor*> by_column(cols, nullptr);
  for (const auto& t : tensors) {
    auto column = endpoint.ColumnOf(t.name);
    if (!column) {
      return InvalidArgument(fmt::format("input '{}' is not a column of this model; columns: {}", t.name,
                                         fmt::join(endpoint.features(), ", ")));
    }
    if (t.shape.size() > 2 || (t.shape.size() == 2 && t.shape[1] != 1)) {
      return InvalidArgument(fmt::format("input '{}': a column tensor has shape [batch] or [batch, 1]", t.name));
    }
    by_column[*column] = &t;
  }
  batch.rows = by_column.front() ? by_column.front()->data.size() : 0;
  for (std::size_t c = 0; c < cols; ++c) {
    if (!by_column[c]) return InvalidArgument(fmt::format("missing input for column '{}'", endpoint.features()[c]));
    if (by_column[c]->data.size() != batch.rows) {
      return InvalidArgument("every column tensor must have the same batch size");
    }
  }
  batch.x.resize(batch.rows * cols);
  for (std::size_t c = 0; c < cols; ++c) {
    for (std::size_t r = 0; r < batch.rows; ++r) batch.x[r * cols + c] = static_cast<float>(by_column[c]->data[r]);
  }
  return batch;
}

// Parses `body` in place: simdjson needs padding past the end of the text.
Result<od::document> Iterate(std::string& body, od::parser& parser) {
  WHARF_RETURN_IF_ERROR(CheckJsonDepth(body, "the request body"));
  body.reserve(body.size() + simdjson::SIMDJSON_PADDING);
  od::document doc;
  if (auto e = parser.iterate(simdjson::padded_string_view(body.data(), body.size(), body.capacity())).get(doc)) {
    return JsonError(e, "the request body");
  }
  return doc;
}

// The body's top-level object; "invalid JSON" for malformed text, "must be
// an object" for well-formed JSON of another type.
Status GetObject(od::document& doc, od::object& object) {
  od::json_type type;
  if (auto e = doc.type().get(type)) return JsonError(e, "the request body");
  if (type != od::json_type::object) return InvalidArgument("the request body must be a JSON object");
  if (auto e = doc.get_object().get(object)) return JsonError(e, "the request body");
  return Status::Ok();
}

// After the top-level object has been read: nothing but whitespace may follow.
Status CheckEnd(od::document& doc) {
  const char* location = nullptr;
  if (!doc.current_location().get(location)) {
    return InvalidArgument("invalid JSON in the request body: unexpected content after the object");
  }
  return Status::Ok();
}

// Reads a request id that may be a string or a number.
Status ReadId(od::value value, FeatureBatch& batch) {
  od::json_type type;
  if (value.type().get(type)) return InvalidArgument("invalid 'id'");
  if (type == od::json_type::string) {
    std::string_view id;
    if (value.get_string().get(id)) return InvalidArgument("invalid 'id'");
    batch.id = id;
    batch.id_json = JsonString(id);
    return Status::Ok();
  }
  if (type != od::json_type::number) return InvalidArgument("'id' must be a string or a number");
  std::string_view raw = value.raw_json_token();
  while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\n' || raw.back() == '\t' || raw.back() == '\r')) {
    raw.remove_suffix(1);
  }
  batch.id = raw;
  batch.id_json = raw;
  return Status::Ok();
}

// A JSON number, or null for NaN and infinities (which JSON cannot carry).
void AppendNumber(float value, std::string& out) {
  if (std::isfinite(value)) {
    fmt::format_to(std::back_inserter(out), "{}", value);
  } else {
    out += "null";
  }
}

void EnsureId(FeatureBatch& batch) {
  if (!batch.id.empty()) return;
  batch.id = NewRequestId();
  batch.id_json = JsonString(batch.id);
}

}  // namespace

Result<FeatureBatch> ParseInferRequest(std::string& body, const Endpoint& endpoint) {
  thread_local od::parser parser;
  WHARF_ASSIGN_OR_RETURN(od::document doc, Iterate(body, parser));
  od::object object;
  WHARF_RETURN_IF_ERROR(GetObject(doc, object));
  std::vector<Tensor> tensors;
  FeatureBatch id;
  bool has_inputs = false;
  for (auto field : object) {
    std::string_view key;
    if (auto e = field.unescaped_key().get(key)) return JsonError(e, "the request body");
    if (key == "id") {
      od::value value;
      if (auto e = field.value().get(value)) return JsonError(e, "id");
      WHARF_RETURN_IF_ERROR(ReadId(value, id));
    } else if (key == "inputs") {
      od::array inputs;
      if (field.value().get_array().get(inputs)) return InvalidArgument("'inputs' must be an array of tensors");
      for (auto input : inputs) {
        od::value value;
        if (auto e = input.get(value)) return JsonError(e, "inputs");
        WHARF_ASSIGN_OR_RETURN(Tensor t, ParseTensor(value));
        tensors.push_back(std::move(t));
      }
      has_inputs = true;
    }
  }
  WHARF_RETURN_IF_ERROR(CheckEnd(doc));
  if (!has_inputs || tensors.empty()) return InvalidArgument("the request needs a non-empty 'inputs' array");
  WHARF_ASSIGN_OR_RETURN(FeatureBatch batch, Assemble(tensors, endpoint));
  batch.id = std::move(id.id);
  batch.id_json = std::move(id.id_json);
  EnsureId(batch);
  return batch;
}

Result<FeatureBatch> ParseRunRequest(std::string& body, const Endpoint& endpoint) {
  if (endpoint.input_schema().is_image()) {
    return InvalidArgument(fmt::format("endpoint '{}' serves an image model: send images to /v2/models/{}/infer",
                                       endpoint.name(), endpoint.name()));
  }
  thread_local od::parser parser;
  WHARF_ASSIGN_OR_RETURN(od::document doc, Iterate(body, parser));
  od::object object;
  WHARF_RETURN_IF_ERROR(GetObject(doc, object));
  const std::size_t cols = endpoint.features().size();
  FeatureBatch batch;
  batch.rows = 1;
  batch.x.assign(cols, std::nanf(""));
  std::vector<bool> seen(cols, false);
  bool has_inputs = false;
  for (auto field : object) {
    std::string_view key;
    if (auto e = field.unescaped_key().get(key)) return JsonError(e, "the request body");
    if (key == "id") {
      od::value value;
      if (auto e = field.value().get(value)) return JsonError(e, "id");
      WHARF_RETURN_IF_ERROR(ReadId(value, batch));
    } else if (key == "inputs") {
      od::object inputs;
      if (field.value().get_object().get(inputs)) return InvalidArgument("'inputs' must be an object of named values");
      for (auto input : inputs) {
        std::string_view name;
        if (auto e = input.unescaped_key().get(name)) return JsonError(e, "inputs");
        auto column = endpoint.ColumnOf(name);
        if (!column) continue;  // fields the model does not use are ignored, as the classic app did
        double value = 0;
        od::value v;
        if (auto e = input.value().get(v)) return JsonError(e, "inputs");
        bool missing = false;  // (simdjson's result converted to bool would throw on a malformed value)
        if (auto e = v.is_null().get(missing)) return JsonError(e, "inputs");
        if (missing) continue;
        if (v.get_double().get(value)) return InvalidArgument(fmt::format("input '{}' must be a number", name));
        batch.x[*column] = static_cast<float>(value);
        seen[*column] = true;
      }
      has_inputs = true;
    }
  }
  WHARF_RETURN_IF_ERROR(CheckEnd(doc));
  if (!has_inputs) return InvalidArgument("the request needs an 'inputs' object");
  for (std::size_t c = 0; c < cols; ++c) {
    if (!seen[c]) return InvalidArgument(fmt::format("missing input '{}'", endpoint.features()[c]));
  }
  EnsureId(batch);
  return batch;
}

Result<Prediction> Predict(const Variant& variant, const FeatureBatch& batch) {
  Prediction p;
  p.width = variant.model->output_width();
  p.values.resize(batch.rows * p.width);
  WHARF_RETURN_IF_ERROR(variant.model->Predict(batch.x.data(), batch.rows, p.values.data()));
  FinishPrediction(p, batch.rows);
  return p;
}

void FinishPrediction(Prediction& p, std::size_t rows) {
  p.best.resize(rows);
  for (std::size_t r = 0; r < rows; ++r) {
    const float* row = p.values.data() + r * p.width;
    p.best[r] = static_cast<std::size_t>(std::max_element(row, row + p.width) - row);
  }
}

std::string InferResponse(const Endpoint& endpoint, const Variant& variant, const FeatureBatch& batch,
                          const Prediction& prediction) {
  std::string out;
  out.reserve(128 + batch.rows * (16 + prediction.width * 12));
  auto it = std::back_inserter(out);
  fmt::format_to(it, R"({{"model_name":{},"model_version":{},"id":{},"parameters":{{"variant":{}}},"outputs":[)",
                 JsonString(endpoint.name()), JsonString(variant.version), batch.id_json, JsonString(variant.name));
  const auto& classes = variant.model->schema().classes;
  if (!classes.empty()) {
    fmt::format_to(it, R"({{"name":"label","datatype":"BYTES","shape":[{}],"data":[)", batch.rows);
    for (std::size_t r = 0; r < batch.rows; ++r) {
      if (r) out += ',';
      out += JsonString(classes[prediction.best[r]]);
    }
    out += "]},";
  }
  fmt::format_to(it, R"({{"name":"{}","datatype":"FP32","shape":[{},{}],"data":[)",
                 classes.empty() ? "output-0" : "probabilities", batch.rows, prediction.width);
  for (std::size_t i = 0; i < prediction.values.size(); ++i) {
    if (i) out += ',';
    AppendNumber(prediction.values[i], out);
  }
  out += "]}]}";
  return out;
}

std::string RunResponse(const Variant& variant, const FeatureBatch& batch, const Prediction& prediction) {
  const auto& classes = variant.model->schema().classes;
  std::string output;
  if (classes.empty()) {
    AppendNumber(prediction.values[0], output);
  } else {
    output = JsonString(classes[prediction.best[0]]);
  }
  return fmt::format(R"({{"id":{},"output":{},"model_version":{},"variant":{}}})", batch.id_json, output,
                     JsonString(variant.version), JsonString(variant.name));
}

std::string StoredOutput(const std::string& answer) {
  const simdjson::padded_string padded(answer);
  od::parser parser;
  od::document doc;
  od::value output;
  if (parser.iterate(padded).get(doc) || doc["output"].get(output)) return answer;
  od::json_type type;
  if (output.type().get(type) || type == od::json_type::object || type == od::json_type::array) return answer;
  std::string_view raw = output.raw_json_token();
  while (!raw.empty() && std::isspace(static_cast<unsigned char>(raw.back()))) raw.remove_suffix(1);
  return std::string(raw);
}

std::string JsonString(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out += '"';
  for (char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          fmt::format_to(std::back_inserter(out), "\\u{:04x}", static_cast<unsigned>(c));
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

std::string ErrorJson(std::string_view message) { return R"({"error":)" + JsonString(message) + "}"; }

std::string NewRequestId() { return RandomHex(16); }

}  // namespace wharf::serve
