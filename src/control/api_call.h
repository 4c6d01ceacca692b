#pragma once
// What the files of ControlApi share (api.cc routes, api_captures.cc reads
// captures and drift): one request as routing sees it, and how answers are
// made. Internal to the control plane's API; stateless helpers.

#include <charconv>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "control/api.h"
#include "core/json_depth.h"
#include "net/http_server.h"

namespace wharf::control {

// One request, split into what routing needs.
struct ControlApi::Call {
  std::string method;
  std::vector<std::string> segments;         // the decoded path below /api, e.g. {"tasks", "ID"}
  std::map<std::string, std::string> query;  // decoded
  const std::string* body = nullptr;

  // The body (at most kMaxJsonBody: Handle refuses more) as JSON; InvalidArgument when it is not,
  // or nests deeper than kMaxJsonDepth.
  Result<nlohmann::json> Json() const {
    if (body->empty()) return nlohmann::json::object();
    WHARF_RETURN_IF_ERROR(CheckJsonDepth(*body, "the request body"));
    nlohmann::json parsed = nlohmann::json::parse(*body, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_discarded()) return InvalidArgument("request body is not valid JSON");
    return parsed;
  }
  std::string Query(const std::string& key) const {
    auto it = query.find(key);
    return it == query.end() ? std::string() : it->second;
  }
};

namespace api {

// Text that is not UTF-8 is replaced, not refused, in every answer.
template <typename J>
net::HttpResponse JsonOf(unsigned status, const J& body) {
  return {status, body.dump(-1, ' ', false, J::error_handler_t::replace)};
}

inline net::HttpResponse Json(unsigned status, const nlohmann::json& body) { return JsonOf(status, body); }

inline net::HttpResponse Error(unsigned status, std::string_view message) { return Json(status, {{"error", message}}); }

inline net::HttpResponse Error(const Status& status) { return Error(net::HttpStatusOf(status), status.message()); }

inline std::optional<int> ParseInt(std::string_view text) {
  int value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace api

}  // namespace wharf::control
