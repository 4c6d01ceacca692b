#pragma once
// A blocking HTTP/1.1 client over one kept-alive connection, for the CLI
// talking to a wharf server. Boost.Beast underneath; nothing of it leaks here.
// Not thread-safe: one object per thread.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"

namespace wharf::net {

// An answer as received. Any status code is a successful exchange.
struct HttpReply {
  unsigned status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
};

// "http://HOST:PORT" split up. Only plain http is supported.
struct HttpEndpoint {
  std::string host;
  std::uint16_t port = 80;
  std::string ToString() const;  // "http://HOST:PORT"
};

// InvalidArgument naming `url` unless it is "http://HOST[:PORT][/]".
Result<HttpEndpoint> ParseHttpUrl(std::string_view url);

class HttpClient {
 public:
  explicit HttpClient(HttpEndpoint endpoint, std::chrono::milliseconds timeout = std::chrono::seconds(30));
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends one request (reconnecting once if the kept-alive connection was
  // closed) and reads the whole answer. Unavailable naming the URL when the
  // server cannot be reached ("connection refused", a timeout); IoError for
  // a connection that broke mid-answer.
  Result<HttpReply> Request(std::string_view method, std::string_view target, std::string_view body = {},
                            const std::map<std::string, std::string>& headers = {});

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace wharf::net
