#pragma once
// How the CLI talks to a running `wharf server`: finds its URL and token
// (flags, then environment, then the server's home), sends JSON requests
// with the bearer token, and turns error answers into Status values whose
// messages a person can act on.
// Not thread-safe: one object per thread.

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "net/http_client.h"

namespace wharf::control {

// Where the server is and how to authenticate; empty fields take defaults.
struct ClientOptions {
  std::string server;                  // --server; else $WHARF_SERVER; else home/server.json's "url"; else http://127.0.0.1:8765
  std::filesystem::path token_file;    // --token-file; else $WHARF_TOKEN (the token itself); else home/server.token
  std::filesystem::path home;          // else $WHARF_HOME; else ~/.wharf
};

// The server's home directory: `home` if set, else $WHARF_HOME, else ~/.wharf.
std::filesystem::path ResolveHome(const std::filesystem::path& home);

class ControlClient {
 public:
  // Resolves URL and token. InvalidArgument for a bad URL; NotFound naming
  // the token file (and saying to start `wharf server` or pass
  // --token-file) when no token can be found.
  static Result<ControlClient> Connect(const ClientOptions& options);

  // Sends `method target` with `body` (JSON, or nullopt for none) and
  // returns the parsed JSON answer of a 2xx reply. Errors: Unavailable
  // "cannot reach the wharf server at URL: ... (is `wharf server`
  // running?)"; Unauthenticated "the server at URL rejected the token from
  // SOURCE"; 400/413 → InvalidArgument, 404 → NotFound, 409 →
  // FailedPrecondition, 5xx → Internal, each with the server's "error" text.
  Result<nlohmann::json> Call(std::string_view method, std::string_view target,
                              const std::optional<nlohmann::json>& body = std::nullopt);

  // The same for raw bytes (artifact upload and download).
  Result<std::string> CallRaw(std::string_view method, std::string_view target, std::string_view body = {});

  const std::string& url() const { return url_; }

 private:
  ControlClient(std::string url, net::HttpEndpoint endpoint, std::string token, std::string token_source);
  Result<net::HttpReply> Send(std::string_view method, std::string_view target, std::string_view body,
                              std::string_view content_type);

  std::string url_;
  std::unique_ptr<net::HttpClient> http_;
  std::string token_;
  std::string token_source_;  // "--token-file PATH", "$WHARF_TOKEN", or the default file's path
};

}  // namespace wharf::control
