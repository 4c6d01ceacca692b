#pragma once
// HTTP/1.1 server: one event loop per thread, all accepting on one port,
// keep-alive, a request body size limit and a read timeout. Boost.Beast
// underneath; nothing of it leaks into this header.
//
// A port is one process's alone: a port already served fails Start. Only the
// replicas of one group (an endpoint's, started by the control plane) share a
// port (SO_REUSEPORT); each names its group in every answer, and a replica
// joins a port only where the server already there names the same group.
//
// Thread-safety: the handler is called from every loop thread at once; a
// response may be sent from any thread (it is handed back to the
// connection's loop).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace wharf::net {

// One parsed request. Valid only during HttpHandler::Handle; copy what must outlive it.
struct HttpRequest {
  std::string_view method;  // "GET", "POST", ...
  std::string_view target;  // path and query, e.g. "/v2/models/wine/infer"
  std::string* body;        // mutable so parsers may pad it in place
  std::function<std::string_view(std::string_view)> header;  // a header's value, empty if absent
  std::function<void(std::function<void()>)> defer;          // runs work on this loop after the response is queued
};

struct HttpResponse {
  unsigned status = 200;
  std::string body;
  std::string_view content_type = "application/json";
  std::vector<std::pair<std::string_view, std::string_view>> headers = {};  // more headers (static strings)
};

// Sends the response; call exactly once, from any thread.
using Respond = std::function<void(HttpResponse)>;

class HttpHandler {
 public:
  virtual ~HttpHandler() = default;
  virtual void Handle(HttpRequest& request, Respond respond) = 0;
  // Called once a request's headers are in, before its body is read (the
  // request's body is empty here; `defer` must not be called). An answer
  // returned is sent at once, the body is never read, and the connection
  // closes: how a server refuses an unauthenticated or oversized request
  // without holding its body. Default: read the body, then Handle.
  virtual std::optional<HttpResponse> Screen(const HttpRequest& head) {
    (void)head;
    return std::nullopt;
  }
};

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;  // 0 picks a free port (see HttpServer::port)
  int threads = 1;
  std::size_t max_body_bytes = 1 << 20;
  // Time allowed to receive a whole request, counted from the end of the
  // previous response: bounds idle keep-alive connections and slow clients.
  std::chrono::milliseconds read_timeout{15000};
  // Empty: the port is this process's alone. Set: this process is a replica
  // of the group so named, and shares the port with that group only.
  std::string replica_group;
};

// The header each answer of a replica names its group in.
inline constexpr std::string_view kReplicaGroupHeader = "X-Wharf-Replica-Group";

// The HTTP status answering a failed Status: 400 bad input, 401
// unauthenticated, 404 not found, 409 already exists or wrong state, 503
// unavailable, 500 otherwise.
unsigned HttpStatusOf(const Status& status);

class HttpServer {
 public:
  // Binds, listens and starts the loop threads. InvalidArgument for a bad
  // host, IoError naming the port if it is served already (by another group)
  // or cannot be bound.
  static Result<std::unique_ptr<HttpServer>> Start(const HttpServerOptions& options, HttpHandler& handler);
  ~HttpServer();  // Shutdown(0) if still running

  std::uint16_t port() const;
  // Requests read but not yet answered.
  std::size_t in_flight() const;

  // Stops accepting, lets in-flight requests finish for up to `grace`
  // (their connections then close), and stops the loops. Idempotent.
  void Shutdown(std::chrono::milliseconds grace);

  struct Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace wharf::net
