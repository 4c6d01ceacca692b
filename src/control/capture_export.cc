#include "control/capture_export.h"

#include <fmt/format.h>

#include "core/clock.h"
#include "data/text.h"

namespace wharf::control {

namespace {

using Json = nlohmann::ordered_json;  // keeps fields in the order written
using data::CsvField;

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
  return fmt::format("{},{},{},{},{},{},{},{},{},{},{}\n", CsvField(r.id), FormatTimeUtc(r.time_us), r.time_us,
                     CsvField(r.endpoint), CsvField(r.variant), CsvField(r.model_version), r.shadow, CsvField(r.inputs),
                     CsvField(r.outputs), r.latency_ms, r.status);
}

}  // namespace wharf::control
