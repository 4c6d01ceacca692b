#include "control/capture_export.h"

#include <fmt/format.h>

#include "core/clock.h"
#include "data/text.h"

namespace wharf::control {

namespace {

using Json = nlohmann::ordered_json;  // keeps fields in the order written
using data::SpreadsheetSafeCsvField;

// `text` as a JSON value if it is JSON, else as a JSON string.
Json JsonOrString(const std::string& text) {
  Json value = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) return text;
  return value;
}

}  // namespace

Json CaptureToJson(const store::CaptureRecord& r) {
  return {
      {"id", r.id},
      {"time", FormatTimeUtc(r.time_us)},
      {"time_us", r.time_us},
      {"endpoint", r.endpoint},
      {"variant", r.variant},
      {"model_version", r.model_version},
      {"shadow", r.shadow},
      {"inputs", JsonOrString(r.inputs)},
      {"outputs", JsonOrString(r.outputs)},
      {"latency_ms", r.latency_ms},
      {"status", r.status},
  };
}

std::string CaptureJsonLine(const store::CaptureRecord& r) {
  return CaptureToJson(r).dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
}

std::string CaptureCsvHeader() {
  return "id,time,time_us,endpoint,variant,model_version,shadow,inputs,outputs,latency_ms,status\n";
}

std::string CaptureCsvLine(const store::CaptureRecord& r) {
  // Request ids, inputs and outputs come from clients: never a formula when the file is opened.
  const auto field = [](std::string_view value) { return SpreadsheetSafeCsvField(value); };
  return fmt::format("{},{},{},{},{},{},{},{},{},{},{}\n", field(r.id), FormatTimeUtc(r.time_us), r.time_us,
                     field(r.endpoint), field(r.variant), field(r.model_version), r.shadow, field(r.inputs),
                     field(r.outputs), r.latency_ms, r.status);
}

}  // namespace wharf::control
