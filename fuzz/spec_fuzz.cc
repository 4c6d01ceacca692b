// libFuzzer target: the documents users hand the control plane and the model
// server: task definitions and endpoint specs (JSON, as the API takes them)
// and endpoint YAML (as `wharf serve --config` reads it). The first byte
// picks the parser. Anything must be accepted or refused with a Status. JSON
// goes through the depth rule first, as every API body does.

#include <cstddef>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "control/endpoint_spec.h"
#include "control/job_registry.h"
#include "control/task_definition.h"
#include "core/json_depth.h"
#include "serve/config.h"

using namespace wharf;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] % 3 != 2 && !CheckJsonDepth(text, "fuzz body").ok()) return 0;
  switch (data[0] % 3) {
    case 0: {
      static const control::JobRegistry jobs;  // commands only: no built-in job is registered here
      const nlohmann::json body = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
      if (!body.is_discarded()) (void)control::ParseDefinition(body, jobs);
      break;
    }
    case 1: {
      const nlohmann::json body = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
      if (!body.is_discarded()) (void)control::ParseEndpointSpec(body);
      break;
    }
    default:
      (void)serve::ParseServeConfig(text, "fuzz.yaml", "/nonexistent");
      break;
  }
  return 0;
}
