#pragma once
// What `wharf serve` serves: endpoints, their variants, shadow, routing and
// capture settings, read from an endpoint YAML file or --model flags.
//
//   endpoints:
//     - name: iris
//       variants:                    # weighted A/B split
//         - {name: blue, model: blue/Modelfile, version: "1", weight: 90}
//         - {name: green, model: green/Modelfile, version: "2", weight: 10}
//       shadow: {name: next, model: next/Modelfile, version: "3"}   # optional
//       sticky_header: X-User-Id    # optional: same header value -> same variant
//       aliases: {pental_length: petal_length}   # request field -> model column
//       capture: {mode: async, sample_percent: 100}   # off | async | durable
//       batching: {max_batch_size: 32, max_queue_delay_us: 1000}   # optional: dynamic batching
//
// Model paths are relative to the YAML file. JSON is YAML too: the control
// plane hands replicas the same document as JSON, with a `revision` per
// endpoint and absolute model paths.

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace wharf::serve {

enum class CaptureMode { kOff, kAsync, kDurable };

// Parses "off" | "async" | "durable"; InvalidArgument naming the valid ones.
Result<CaptureMode> ParseCaptureMode(std::string_view text);
std::string_view CaptureModeName(CaptureMode mode);

struct VariantConfig {
  std::string name;
  std::filesystem::path model;  // Modelfile path
  std::string version = "1";
  double weight = 1;
};

struct CaptureConfig {
  CaptureMode mode = CaptureMode::kAsync;
  double sample_percent = 100;  // of requests captured, 0..100
};

// Dynamic batching (batcher.h): off unless max_batch_size > 1.
struct BatchingConfig {
  std::size_t max_batch_size = 0;
  std::int64_t max_queue_delay_us = 1000;

  bool enabled() const { return max_batch_size > 1; }
};

struct EndpointConfig {
  std::string name;
  int revision = 0;  // the control plane's endpoint revision; 0 when not managed by one
  std::vector<VariantConfig> variants;
  std::optional<VariantConfig> shadow;
  std::string sticky_header;                   // empty: no sticky routing
  std::map<std::string, std::string> aliases;  // request field name -> model column
  CaptureConfig capture;
  BatchingConfig batching;
};

struct ServeConfig {
  std::vector<EndpointConfig> endpoints;
};

// Reads an endpoint YAML file. InvalidArgument naming the file, line and
// field for anything malformed (unknown keys included, so typos surface).
Result<ServeConfig> LoadServeConfig(const std::filesystem::path& path);

// Parses an endpoint document held in memory; errors name `origin` (a file
// name, "request body") and the line; relative model paths are taken
// relative to `base_dir`.
Result<ServeConfig> ParseServeConfig(std::string_view text, std::string_view origin,
                                     const std::filesystem::path& base_dir);

// One endpoint per "name=path/to/Modelfile" flag, one variant each.
Result<ServeConfig> ServeConfigFromModelFlags(const std::vector<std::string>& flags);

// Checks names are unique and non-empty, weights positive, sample percent
// in range, and that every endpoint has a variant.
Status Validate(const ServeConfig& config);

}  // namespace wharf::serve
