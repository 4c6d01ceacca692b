#pragma once
// A small blocking HTTP/1.1 client for tests: keep-alive connections to
// 127.0.0.1, and raw access to the socket for misbehaving-client tests.

#include <cstdint>
#include <map>
#include <string>

namespace wharf::testing {

struct HttpResult {
  int status = 0;  // 0 when the connection failed or closed before an answer
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
};

class HttpClient {
 public:
  explicit HttpClient(std::uint16_t port);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends one request on the kept-alive connection (reconnecting if needed).
  HttpResult Request(const std::string& method, const std::string& path, const std::string& body = "",
                     const std::map<std::string, std::string>& headers = {});
  HttpResult Get(const std::string& path) { return Request("GET", path); }
  HttpResult Post(const std::string& path, const std::string& body,
                  const std::map<std::string, std::string>& headers = {}) {
    return Request("POST", path, body, headers);
  }

  // Raw socket access: connect, send bytes, read an answer (or learn that
  // the server closed the connection).
  bool Connect();
  bool SendRaw(const std::string& bytes);
  // Waits up to `timeout_ms` between reads: a server on a busy machine may be slow, not dead.
  HttpResult ReadResponse(int timeout_ms = 60'000);
  // True if the server closed (or reset) the connection within `timeout_ms`.
  bool WaitForClose(int timeout_ms);

 private:
  std::uint16_t port_;
  int fd_ = -1;
  std::string buffer_;
};

}  // namespace wharf::testing
