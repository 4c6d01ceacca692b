#include "control/client.h"

#include <cstdlib>
#include <utility>

#include <fmt/format.h>

#include "net/bearer_token.h"
#include "core/file.h"

namespace wharf::control {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr std::string_view kDefaultUrl = "http://127.0.0.1:8765";

std::string Trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(first, last - first + 1));
}

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

// The "url" of home/server.json, or empty when the file is missing or has none:
// a server that never started here leaves the default in force.
std::string UrlFromServerJson(const fs::path& home) {
  const Result<std::string> text = ReadFile(home / "server.json");
  if (!text.ok()) return {};
  const json j = json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("url") || !j["url"].is_string()) return {};
  return j["url"].get<std::string>();
}

// The token and where it came from (for the message when it is rejected).
Result<std::pair<std::string, std::string>> ResolveToken(const ClientOptions& options, const fs::path& home) {
  if (!options.token_file.empty()) {
    std::error_code ec;
    if (!fs::exists(options.token_file, ec)) {
      return NotFound(fmt::format("token file {} does not exist (given with --token-file)",
                                  options.token_file.string()));
    }
    WHARF_ASSIGN_OR_RETURN(std::string token, net::ReadToken(options.token_file));
    return std::make_pair(Trim(token), "--token-file " + options.token_file.string());
  }
  if (std::string token = Trim(Env("WHARF_TOKEN")); !token.empty()) {
    return std::make_pair(std::move(token), std::string("$WHARF_TOKEN"));
  }
  const fs::path path = home / "server.token";
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    return NotFound(fmt::format("no token file at {}: start `wharf server` (it creates one there), "
                                "or pass --token-file PATH or set $WHARF_TOKEN",
                                path.string()));
  }
  WHARF_ASSIGN_OR_RETURN(std::string token, net::ReadToken(path));
  return std::make_pair(Trim(token), path.string());
}

// The server's "error" text, else the body itself (shortened), else the status.
std::string ErrorText(const net::HttpReply& reply) {
  const json j = json::parse(reply.body, nullptr, /*allow_exceptions=*/false);
  if (j.is_object() && j.contains("error") && j["error"].is_string()) return j["error"].get<std::string>();
  std::string body = Trim(reply.body);
  if (body.size() > 200) body = body.substr(0, 200) + "...";
  return body.empty() ? fmt::format("HTTP {}", reply.status) : body;
}

}  // namespace

fs::path ResolveHome(const fs::path& home) {
  if (!home.empty()) return home;
  if (std::string env = Env("WHARF_HOME"); !env.empty()) return env;
  if (std::string user_home = Env("HOME"); !user_home.empty()) return fs::path(user_home) / ".wharf";
  return fs::path(".wharf");
}

Result<ControlClient> ControlClient::Connect(const ClientOptions& options) {
  const fs::path home = ResolveHome(options.home);
  std::string url = options.server;
  if (url.empty()) url = Env("WHARF_SERVER");
  if (url.empty()) url = UrlFromServerJson(home);
  if (url.empty()) url = kDefaultUrl;
  WHARF_ASSIGN_OR_RETURN(net::HttpEndpoint endpoint, net::ParseHttpUrl(url));
  WHARF_ASSIGN_OR_RETURN(auto token, ResolveToken(options, home));
  return ControlClient(endpoint.ToString(), endpoint, std::move(token.first), std::move(token.second));
}

ControlClient::ControlClient(std::string url, net::HttpEndpoint endpoint, std::string token, std::string token_source)
    : url_(std::move(url)),
      http_(std::make_unique<net::HttpClient>(std::move(endpoint))),
      token_(std::move(token)),
      token_source_(std::move(token_source)) {}

Result<net::HttpReply> ControlClient::Send(std::string_view method, std::string_view target, std::string_view body,
                                           std::string_view content_type) {
  std::map<std::string, std::string> headers{{"Authorization", "Bearer " + token_}};
  if (!content_type.empty()) headers["Content-Type"] = std::string(content_type);
  Result<net::HttpReply> sent = http_->Request(method, target, body, headers);
  if (!sent.ok()) {
    const Status& s = sent.status();
    if (s.code() != StatusCode::kUnavailable) return s;  // names the URL already
    // The transport names the URL itself ("cannot reach URL: why", "URL did
    // not answer within ..."); say it once.
    std::string why = s.message();
    if (const std::string prefix = "cannot reach " + url_ + ": "; why.starts_with(prefix)) {
      why = why.substr(prefix.size());
    } else if (why.starts_with(url_ + " ")) {
      why = why.substr(url_.size() + 1);
    }
    return Unavailable(fmt::format("cannot reach the wharf server at {}: {} (is `wharf server` running?)", url_, why));
  }
  net::HttpReply reply = std::move(sent).value();
  const unsigned code = reply.status;
  if (code >= 200 && code < 300) return reply;
  const std::string where = fmt::format("{} {}", method, target);
  switch (code) {
    case 401:
      return Unauthenticated(fmt::format("the server at {} rejected the token from {}", url_, token_source_));
    case 400:
    case 413: return InvalidArgument(ErrorText(reply));
    case 404: return NotFound(ErrorText(reply));
    case 409: return FailedPrecondition(ErrorText(reply));
    default: break;
  }
  if (code >= 500) return Internal(fmt::format("the server at {} failed on {}: {}", url_, where, ErrorText(reply)));
  return Internal(fmt::format("unexpected HTTP {} from {} on {}: {}", code, url_, where, ErrorText(reply)));
}

Result<json> ControlClient::Call(std::string_view method, std::string_view target, const std::optional<json>& body) {
  std::string text;
  if (body) text = body->dump(-1, ' ', false, json::error_handler_t::replace);
  WHARF_ASSIGN_OR_RETURN(net::HttpReply reply, Send(method, target, text, body ? "application/json" : ""));
  if (Trim(reply.body).empty()) return json::object();
  json answer = json::parse(reply.body, nullptr, /*allow_exceptions=*/false);
  if (answer.is_discarded()) {
    return Internal(fmt::format("the server at {} answered {} {} with something that is not JSON", url_, method,
                                target));
  }
  return answer;
}

Result<std::string> ControlClient::CallRaw(std::string_view method, std::string_view target, std::string_view body) {
  WHARF_ASSIGN_OR_RETURN(net::HttpReply reply,
                         Send(method, target, body, body.empty() ? "" : "application/octet-stream"));
  return std::move(reply.body);
}

}  // namespace wharf::control
