#pragma once
// The pure parts of `wharf drift`: the report it builds from an endpoint's
// captures, and that report as a table or as JSON. No I/O, so tests call
// them directly; drift_command.cc reads the store and the Modelfile.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "monitor/drift.h"

namespace wharf::cli {

// What `wharf drift` found for one endpoint over a time range.
struct DriftReport {
  std::string endpoint;
  std::string variant;  // the variant whose captures were read; empty: all of them
  std::string store;    // the capture store, fit to print
  std::string models_from;         // "endpoint revision 2 (latest)", "--config FILE" or "--model REF"
  int revision = 0;                // that endpoint revision; 0 with --config or --model
  std::string modelfile;           // whose training summary the captures are compared with
  std::string model_variant, model_version;  // the variant serving that Modelfile, and its version
  std::size_t training_rows = 0;   // rows of that training set
  std::optional<std::int64_t> since_us, until_us;  // the range asked for: [since, until)
  std::size_t captures = 0;        // primary captures answered with 200 in the range
  std::size_t unparsed = 0;        // of which bodies the endpoint's parsers refused
  std::string first_unparsed;      // "id ID: why" of the first one
  std::size_t rows = 0;            // feature rows in the parsed bodies
  std::optional<std::int64_t> first_us, last_us;  // times of the oldest and newest capture read
  monitor::DriftThresholds thresholds;
  std::vector<monitor::FeatureDrift> features;  // in the model's column order
};

// Features whose verdict is kDrifted.
std::size_t CountDrifted(const DriftReport& report);

// A heading, one line per feature (feature | live rows | missing % train→live
// | PSI | KS D (p) | mean train→live | flag), and a summary line. Without
// captures, a heading and a line saying so, no table.
std::string FormatDriftTable(const DriftReport& report);

// The same report as one JSON object.
nlohmann::ordered_json DriftJson(const DriftReport& report);

}  // namespace wharf::cli
