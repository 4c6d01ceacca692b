#pragma once
// How the control plane answers GET /api/endpoints/NAME/drift. The control
// plane knows no ML, so the composition root (cli) supplies the function
// that compares an endpoint's captured inputs with its model's training
// data, the same one `wharf drift` runs; without one the route answers 501.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace wharf::control {

// One endpoint's drift over [since, until): what the route's query names.
struct DriftQuery {
  std::string store{};  // the server's store (endpoint revisions, captures): a SQLite path or postgresql:// URL
  std::string endpoint{};
  std::optional<int> revision{};  // whose models to compare with; nullopt: the latest
  std::string variant{};          // only its captures, compared with its Modelfile; empty: all, with the first's
  std::optional<std::int64_t> since_us{}, until_us{};  // µs since the Unix epoch
};

// The report as `wharf drift --json` prints it. Called from every API thread
// at once: it must be thread-safe. NotFound for an unknown endpoint,
// revision or variant; InvalidArgument when no capture parses for the model.
using DriftReporter = std::function<Result<nlohmann::ordered_json>(const DriftQuery& query)>;

}  // namespace wharf::control
