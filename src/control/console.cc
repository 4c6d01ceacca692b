#include "control/console.h"

#include <string>

namespace wharf::control {

namespace {

std::string_view ContentTypeOf(std::string_view path) {
  if (path.ends_with(".html")) return "text/html; charset=utf-8";
  if (path.ends_with(".js")) return "text/javascript; charset=utf-8";
  if (path.ends_with(".css")) return "text/css; charset=utf-8";
  if (path.ends_with(".svg")) return "image/svg+xml";
  return "text/plain; charset=utf-8";
}

const ConsoleAsset* FindAsset(std::string_view path) {
  if (path == "/") path = "/index.html";
  for (const auto& asset : ConsoleAssets()) {
    if (asset.path == path) return &asset;
  }
  return nullptr;
}

}  // namespace

void ConsoleHandler::Handle(net::HttpRequest& request, net::Respond respond) {
  const std::string_view path = request.target.substr(0, request.target.find('?'));
  const ConsoleAsset* asset = request.method == "GET" ? FindAsset(path) : nullptr;
  if (asset == nullptr) return next_.Handle(request, std::move(respond));
  net::HttpResponse response{200, std::string(asset->bytes), ContentTypeOf(asset->path)};
  // Scripts and styles only from this server, no framing, no inline code:
  // a value shown on a page can never run as script.
  response.headers = {{"Content-Security-Policy",
                       "default-src 'self'; img-src 'self' data: blob:; object-src 'none'; base-uri 'none'; "
                       "frame-ancestors 'none'; form-action 'self'"},
                      {"X-Content-Type-Options", "nosniff"},
                      {"Referrer-Policy", "no-referrer"},
                      {"Cache-Control", "no-cache"}};
  respond(std::move(response));
}

}  // namespace wharf::control
