#pragma once
// A captured request as the control plane's API answers it and as `wharf
// capture export` writes it: a JSON object (one per line in JSON lines) or
// a CSV line. Stateless functions: thread-safe.

#include <string>

#include <nlohmann/json.hpp>

#include "store/capture_store.h"

namespace wharf::control {

// {"id", "time", "time_us", "endpoint", "variant", "model_version", "shadow",
// "inputs", "outputs", "latency_ms", "status"}, in that order; inputs and
// outputs embedded as JSON values (as strings when their text is not JSON).
nlohmann::ordered_json CaptureToJson(const store::CaptureRecord& record);

// CaptureToJson on one line, ending in "\n" (text that is not UTF-8 is
// replaced, not refused: a capture is shown as stored).
std::string CaptureJsonLine(const store::CaptureRecord& record);

// The CSV header line and one record's line (each ending in "\n"); inputs and
// outputs are their JSON text in one field.
std::string CaptureCsvHeader();
std::string CaptureCsvLine(const store::CaptureRecord& record);

}  // namespace wharf::control
