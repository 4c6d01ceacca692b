#include "serve/config.h"

#include <cmath>
#include <set>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "core/file.h"
#include "core/json_depth.h"

namespace wharf::serve {

namespace {

// Where a document came from: errors name `origin`; relative model paths
// start at `base_dir`.
struct Source {
  std::string origin;
  std::filesystem::path base_dir;
};

// "origin:line: message" for a YAML node.
Status Bad(const Source& file, const YAML::Node& node, const std::string& message) {
  return InvalidArgument(fmt::format("{}:{}: {}", file.origin, node.Mark().line + 1, message));
}

Status CheckKeys(const Source& file, const YAML::Node& node, const std::set<std::string>& known,
                 std::string_view what) {
  if (!node.IsMap()) return Bad(file, node, fmt::format("{} must be a mapping", what));
  for (const auto& kv : node) {
    if (!kv.first.IsScalar()) return Bad(file, kv.first, fmt::format("{} has a key that is not a name", what));
    const auto key = kv.first.as<std::string>();
    if (!known.count(key)) {
      return Bad(file, kv.first, fmt::format("unknown field '{}' in {}; known: {}", key, what, fmt::join(known, ", ")));
    }
  }
  return Status::Ok();
}

template <typename T>
Result<T> Scalar(const Source& file, const YAML::Node& node, std::string_view field) {
  if (node.IsNull()) return Bad(file, node, fmt::format("field '{}' is empty", field));
  if (!node.IsScalar()) return Bad(file, node, fmt::format("field '{}' must have a single value", field));
  try {
    return node.as<T>();
  } catch (const YAML::Exception&) {
    return Bad(file, node, fmt::format("field '{}' has the wrong type", field));
  }
}

Result<VariantConfig> ParseVariant(const Source& file, const YAML::Node& node) {
  WHARF_RETURN_IF_ERROR(CheckKeys(file, node, {"name", "model", "version", "weight"}, "a variant"));
  VariantConfig v;
  if (!node["name"] || !node["model"]) return Bad(file, node, "a variant needs 'name' and 'model'");
  WHARF_ASSIGN_OR_RETURN(v.name, Scalar<std::string>(file, node["name"], "name"));
  WHARF_ASSIGN_OR_RETURN(std::string model, Scalar<std::string>(file, node["model"], "model"));
  v.model = std::filesystem::path(model).is_absolute() ? std::filesystem::path(model) : file.base_dir / model;
  if (node["version"]) {
    WHARF_ASSIGN_OR_RETURN(v.version, Scalar<std::string>(file, node["version"], "version"));
  }
  if (node["weight"]) {
    WHARF_ASSIGN_OR_RETURN(v.weight, Scalar<double>(file, node["weight"], "weight"));
    if (!(v.weight > 0) || !std::isfinite(v.weight)) {
      return Bad(file, node["weight"], fmt::format("variant '{}': weight must be a finite number > 0", v.name));
    }
  }
  return v;
}

Result<EndpointConfig> ParseEndpoint(const Source& file, const YAML::Node& node) {
  WHARF_RETURN_IF_ERROR(
      CheckKeys(file, node, {"name", "revision", "variants", "shadow", "sticky_header", "aliases", "capture", "batching"},
                "an endpoint"));
  EndpointConfig e;
  if (!node["name"]) return Bad(file, node, "an endpoint needs a 'name'");
  WHARF_ASSIGN_OR_RETURN(e.name, Scalar<std::string>(file, node["name"], "name"));
  if (node["revision"]) {
    WHARF_ASSIGN_OR_RETURN(e.revision, Scalar<int>(file, node["revision"], "revision"));
    if (e.revision < 1) return Bad(file, node["revision"], "revision must be a number >= 1");
  }
  const auto variants = node["variants"];
  if (!variants || !variants.IsSequence() || variants.size() == 0) {
    return Bad(file, node, fmt::format("endpoint '{}' needs a non-empty 'variants' list", e.name));
  }
  for (const auto& v : variants) {
    WHARF_ASSIGN_OR_RETURN(VariantConfig variant, ParseVariant(file, v));
    e.variants.push_back(std::move(variant));
  }
  if (node["shadow"]) {
    WHARF_ASSIGN_OR_RETURN(e.shadow, ParseVariant(file, node["shadow"]));
  }
  if (node["sticky_header"]) {
    WHARF_ASSIGN_OR_RETURN(e.sticky_header, Scalar<std::string>(file, node["sticky_header"], "sticky_header"));
  }
  if (const auto aliases = node["aliases"]) {
    if (!aliases.IsMap()) return Bad(file, aliases, "'aliases' must map request fields to model columns");
    for (const auto& kv : aliases) {
      WHARF_ASSIGN_OR_RETURN(std::string field, Scalar<std::string>(file, kv.first, "aliases"));
      WHARF_ASSIGN_OR_RETURN(e.aliases[field], Scalar<std::string>(file, kv.second, "aliases"));
    }
  }
  if (const auto capture = node["capture"]) {
    WHARF_RETURN_IF_ERROR(CheckKeys(file, capture, {"mode", "sample_percent"}, "capture"));
    if (capture["mode"]) {
      WHARF_ASSIGN_OR_RETURN(std::string mode, Scalar<std::string>(file, capture["mode"], "mode"));
      auto parsed = ParseCaptureMode(mode);
      if (!parsed.ok()) return Bad(file, capture["mode"], parsed.status().message());
      e.capture.mode = *parsed;
    }
    if (capture["sample_percent"]) {
      WHARF_ASSIGN_OR_RETURN(e.capture.sample_percent,
                             Scalar<double>(file, capture["sample_percent"], "sample_percent"));
      if (!(e.capture.sample_percent >= 0 && e.capture.sample_percent <= 100)) {
        return Bad(file, capture["sample_percent"],
                   fmt::format("endpoint '{}': capture.sample_percent must be within 0..100", e.name));
      }
    }
  }
  if (const auto batching = node["batching"]) {
    WHARF_RETURN_IF_ERROR(CheckKeys(file, batching, {"max_batch_size", "max_queue_delay_us"}, "batching"));
    if (batching["max_batch_size"]) {
      WHARF_ASSIGN_OR_RETURN(const int size, Scalar<int>(file, batching["max_batch_size"], "max_batch_size"));
      if (size < 0 || size > 4096) {
        return Bad(file, batching["max_batch_size"],
                   fmt::format("endpoint '{}': batching.max_batch_size must be within 0..4096", e.name));
      }
      e.batching.max_batch_size = static_cast<std::size_t>(size);
    }
    if (batching["max_queue_delay_us"]) {
      WHARF_ASSIGN_OR_RETURN(e.batching.max_queue_delay_us,
                             Scalar<std::int64_t>(file, batching["max_queue_delay_us"], "max_queue_delay_us"));
      if (e.batching.max_queue_delay_us < 0 || e.batching.max_queue_delay_us > 1000000) {
        return Bad(file, batching["max_queue_delay_us"],
                   fmt::format("endpoint '{}': batching.max_queue_delay_us must be within 0..1000000", e.name));
      }
    }
  }
  return e;
}

}  // namespace

Result<CaptureMode> ParseCaptureMode(std::string_view text) {
  if (text == "off") return CaptureMode::kOff;
  if (text == "async") return CaptureMode::kAsync;
  if (text == "durable") return CaptureMode::kDurable;
  return InvalidArgument(fmt::format("unknown capture mode '{}'; known: off, async, durable", text));
}

std::string_view CaptureModeName(CaptureMode mode) {
  switch (mode) {
    case CaptureMode::kOff: return "off";
    case CaptureMode::kAsync: return "async";
    case CaptureMode::kDurable: return "durable";
  }
  return "?";
}

Result<ServeConfig> LoadServeConfig(const std::filesystem::path& path) {
  WHARF_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  return ParseServeConfig(text, path.string(), path.parent_path());
}

Result<ServeConfig> ParseServeConfig(std::string_view text, std::string_view origin,
                                     const std::filesystem::path& base_dir) {
  const Source file{std::string(origin), base_dir};
  WHARF_RETURN_IF_ERROR(CheckJsonDepth(text, file.origin));
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return InvalidArgument(fmt::format("{}:{}:{}: {}", file.origin, e.mark.line + 1, e.mark.column + 1, e.msg));
  }
  if (root.IsNull()) return InvalidArgument(file.origin + ": empty document, expected an 'endpoints' list");
  WHARF_RETURN_IF_ERROR(CheckKeys(file, root, {"endpoints"}, "the document"));
  const auto endpoints = root["endpoints"];
  if (!endpoints || !endpoints.IsSequence() || endpoints.size() == 0) {
    return Bad(file, root, "needs a non-empty 'endpoints' list");
  }
  ServeConfig config;
  for (const auto& node : endpoints) {
    WHARF_ASSIGN_OR_RETURN(EndpointConfig e, ParseEndpoint(file, node));
    config.endpoints.push_back(std::move(e));
    // Checked one endpoint at a time, so an error names the endpoint's line.
    const Status valid = Validate(config);
    if (!valid.ok()) return Bad(file, node, valid.message());
  }
  return config;
}

Result<ServeConfig> ServeConfigFromModelFlags(const std::vector<std::string>& flags) {
  ServeConfig config;
  for (const auto& flag : flags) {
    const auto eq = flag.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == flag.size()) {
      return InvalidArgument(fmt::format("--model '{}': expected NAME=PATH, e.g. --model wine=out/wine/Modelfile", flag));
    }
    EndpointConfig e;
    e.name = flag.substr(0, eq);
    e.variants.push_back({"default", flag.substr(eq + 1), "1", 1});
    config.endpoints.push_back(std::move(e));
  }
  WHARF_RETURN_IF_ERROR(Validate(config));
  return config;
}

Status Validate(const ServeConfig& config) {
  if (config.endpoints.empty()) return InvalidArgument("nothing to serve: give --model NAME=PATH or --config FILE");
  std::set<std::string> endpoint_names;
  for (const auto& e : config.endpoints) {
    if (e.name.empty() || e.name.find('/') != std::string::npos) {
      return InvalidArgument(fmt::format("endpoint name '{}' must be non-empty and contain no '/'", e.name));
    }
    if (!endpoint_names.insert(e.name).second) return InvalidArgument(fmt::format("endpoint '{}' appears twice", e.name));
    if (e.variants.empty()) return InvalidArgument(fmt::format("endpoint '{}' has no variants", e.name));
    std::set<std::string> names, versions;
    for (const auto& v : e.variants) {
      if (!(v.weight > 0) || !std::isfinite(v.weight)) {
        return InvalidArgument(fmt::format("endpoint '{}' variant '{}': weight must be a finite number > 0", e.name, v.name));
      }
      if (v.name.empty() || v.version.empty()) {
        return InvalidArgument(fmt::format("endpoint '{}': every variant needs a non-empty name and version", e.name));
      }
      if (!names.insert(v.name).second || !versions.insert(v.version).second) {
        return InvalidArgument(fmt::format("endpoint '{}': variant names and versions must be unique ('{}', '{}')",
                                           e.name, v.name, v.version));
      }
    }
    if (e.shadow && (names.count(e.shadow->name) || versions.count(e.shadow->version))) {
      return InvalidArgument(fmt::format("endpoint '{}': the shadow's name and version must differ from the variants'", e.name));
    }
    if (!(e.capture.sample_percent >= 0 && e.capture.sample_percent <= 100)) {
      return InvalidArgument(fmt::format("endpoint '{}': capture.sample_percent must be within 0..100", e.name));
    }
  }
  return Status::Ok();
}

}  // namespace wharf::serve
