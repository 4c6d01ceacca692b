#include "cli/yaml_json.h"

#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "core/json_depth.h"

namespace wharf::cli {

namespace {

using nlohmann::json;

Status Bad(std::string_view origin, const YAML::Mark& mark, std::string_view message) {
  return InvalidArgument(fmt::format("{}:{}:{}: {}", origin, mark.line + 1, mark.column + 1, message));
}

// An integer of the core schema's decimal, octal (0o) or hex (0x) forms, or
// nothing when it does not fit in 64 bits.
std::optional<json> Integer(const std::string& text) {
  std::string_view digits = text;
  int base = 10;
  if (digits.starts_with("0o") || digits.starts_with("0x")) {
    base = digits[1] == 'o' ? 8 : 16;
    digits.remove_prefix(2);
  } else if (digits.starts_with('+')) {
    digits.remove_prefix(1);
  }
  const char* end = digits.data() + digits.size();
  if (std::int64_t value = 0; std::from_chars(digits.data(), end, value, base).ec == std::errc()) return value;
  if (std::uint64_t value = 0; std::from_chars(digits.data(), end, value, base).ec == std::errc()) return value;
  return std::nullopt;
}

// A plain scalar resolved by the YAML 1.2 core schema.
Result<json> PlainScalar(const YAML::Node& node, std::string_view origin) {
  static const std::regex kBool("true|True|TRUE|false|False|FALSE");
  static const std::regex kInt("[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+");
  static const std::regex kFloat(R"([-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?)");
  static const std::regex kInfOrNan(R"([-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN))");
  const std::string& text = node.Scalar();
  if (text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL") return json();
  if (std::regex_match(text, kBool)) return json(text[0] == 't' || text[0] == 'T');
  if (std::regex_match(text, kInt)) {
    if (auto value = Integer(text)) return *std::move(value);
    return Bad(origin, node.Mark(), fmt::format("integer {} does not fit in 64 bits; quote it to mean the string", text));
  }
  if (std::regex_match(text, kFloat)) return json(std::strtod(text.c_str(), nullptr));
  if (std::regex_match(text, kInfOrNan)) {
    return Bad(origin, node.Mark(), fmt::format("'{}' has no JSON equivalent; quote it to mean the string", text));
  }
  return json(text);
}

// `depth`: how many sequences and mappings hold `node`; past kMaxJsonDepth is
// an error (the JSON would break the rule every JSON text wharf reads obeys).
Result<json> Convert(const YAML::Node& node, std::string_view origin, int depth) {
  if ((node.IsSequence() || node.IsMap()) && depth >= kMaxJsonDepth) {
    return Bad(origin, node.Mark(), fmt::format("nests deeper than {} levels of sequences and mappings", kMaxJsonDepth));
  }
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      return json();
    case YAML::NodeType::Scalar:
      // "!" marks a quoted or block scalar, "?" a plain one; an explicit
      // !!str keeps the text too, any other tag resolves like a plain scalar.
      if (node.Tag() == "!" || node.Tag() == "tag:yaml.org,2002:str") return json(node.Scalar());
      return PlainScalar(node, origin);
    case YAML::NodeType::Sequence: {
      json out = json::array();
      for (const auto& item : node) {
        WHARF_ASSIGN_OR_RETURN(json value, Convert(item, origin, depth + 1));
        out.push_back(std::move(value));
      }
      return out;
    }
    case YAML::NodeType::Map: {
      json out = json::object();
      for (const auto& kv : node) {
        if (!kv.first.IsScalar()) return Bad(origin, kv.first.Mark(), "a mapping key must be a plain value");
        const std::string& key = kv.first.Scalar();
        if (out.contains(key)) return Bad(origin, kv.first.Mark(), fmt::format("duplicate key '{}'", key));
        WHARF_ASSIGN_OR_RETURN(out[key], Convert(kv.second, origin, depth + 1));
      }
      return out;
    }
  }
  return json();
}

}  // namespace

Result<json> YamlToJson(std::string_view text, std::string_view origin) {
  std::vector<YAML::Node> documents;
  try {
    documents = YAML::LoadAll(std::string(text));
  } catch (const YAML::Exception& e) {
    return Bad(origin, e.mark, e.msg);
  }
  if (documents.empty()) return json();
  if (documents.size() > 1) {
    return Bad(origin, documents[1].Mark(), fmt::format("expected one YAML document, found {}", documents.size()));
  }
  return Convert(documents.front(), origin, 0);
}

}  // namespace wharf::cli
