#pragma once
// One captured request with every field set, and text that needs quoting in
// CSV and escaping in JSON: what the capture formatting tests print.

#include <cstdint>

#include "store/capture_store.h"

namespace wharf::testing {

constexpr std::int64_t kNoonUs = 1'795'435'200'000'000;  // 2026-11-23T12:00:00Z

inline store::CaptureRecord SampleCapture() {
  store::CaptureRecord r;
  r.id = "req-1";
  r.time_us = kNoonUs + 123'456;
  r.endpoint = "wine";
  r.variant = "main";
  r.model_version = "v3";
  r.inputs = R"({"text":["a, \"b\"\nc","é🍷"]})";
  r.outputs = R"({"quality":[6]})";
  r.latency_ms = 1.5;
  r.status = 200;
  return r;
}

}  // namespace wharf::testing
