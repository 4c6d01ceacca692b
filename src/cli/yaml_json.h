#pragma once
// YAML documents as JSON, so that a spec written in YAML reaches the server
// as the same JSON a user could have written by hand.

#include <string_view>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace wharf::cli {

// Converts the single YAML document in `text` to JSON: mappings become
// objects, sequences arrays, and plain scalars null, booleans, integers or
// floats when they read as one under the YAML 1.2 core schema (null, ~,
// true, False, 42, 0x2a, 0o52, -1.5e3), else strings. Quoted and block
// scalars are always strings. An empty document is null.
// InvalidArgument "ORIGIN:LINE:COL: message" for a syntax error, a duplicate
// or non-scalar key, .inf/.nan (JSON has no such numbers) or more than one
// document.
Result<nlohmann::json> YamlToJson(std::string_view text, std::string_view origin);

}  // namespace wharf::cli
