#pragma once
// The admin port of a model server: one per replica, next to the serving
// port, for the control plane (and operators) rather than clients.
//
//   GET  /admin/status   pid, readiness, requests in flight, reloads, the
//                        last reload error, each endpoint's revision,
//                        variants and shadow, and per-variant counters and
//                        latency histograms (for the control plane)
//   GET  /metrics        the serving port's Prometheus text
//   POST /admin/config   a serve configuration (JSON or YAML, absolute model
//                        paths): loaded and switched to without dropping a
//                        request; needs "Authorization: Bearer <token>"
//
// Thread-safe: reloads are serialized by the Deployer.

#include <optional>
#include <string>

#include "net/http_server.h"
#include "serve/deployment.h"
#include "serve/model_service.h"

namespace wharf::serve {

class AdminService final : public net::HttpHandler {
 public:
  // With an empty `token`, POST /admin/config is refused (403): reloads over
  // HTTP need a token file.
  AdminService(ModelService& service, Deployer& deployer, std::string token);

  void Handle(net::HttpRequest& request, net::Respond respond) override;
  // A reload without the token is refused on its headers, its body unread.
  std::optional<net::HttpResponse> Screen(const net::HttpRequest& head) override;

 private:
  std::optional<net::HttpResponse> RefuseReload(const net::HttpRequest& request) const;
  std::string Status() const;
  net::HttpResponse Reload(const net::HttpRequest& request);

  ModelService& service_;
  Deployer& deployer_;
  const std::string token_;
};

}  // namespace wharf::serve
