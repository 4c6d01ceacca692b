#pragma once
// The web console: the files under web/, compiled into the binary
// (cmake/embed_web.cmake), served by `wharf server` at `/` in front of the
// REST API. The console is a static page that calls the same /api routes as
// the CLI with the same bearer token, so the files themselves need no auth.

#include <string_view>
#include <vector>

#include "net/http_server.h"

namespace wharf::control {

// One file of the console: its URL path ("/index.html") and its bytes.
struct ConsoleAsset {
  std::string_view path;
  std::string_view bytes;
};

// Every file of the console (generated at build time).
const std::vector<ConsoleAsset>& ConsoleAssets();

// Serves GET of the console's files (`/` is /index.html) and hands
// every other request to `next` (the API).
class ConsoleHandler : public net::HttpHandler {
 public:
  explicit ConsoleHandler(net::HttpHandler& next) : next_(next) {}
  void Handle(net::HttpRequest& request, net::Respond respond) override;
  std::optional<net::HttpResponse> Screen(const net::HttpRequest& head) override { return next_.Screen(head); }

 private:
  net::HttpHandler& next_;
};

}  // namespace wharf::control
