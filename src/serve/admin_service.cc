#include "serve/admin_service.h"

#include <unistd.h>

#include <filesystem>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "net/bearer_token.h"
#include "serve/inference.h"

namespace wharf::serve {

namespace {

using nlohmann::json;

json VariantJson(const Variant& v) { return {{"name", v.name}, {"version", v.version}, {"weight", v.weight}}; }

json MetricsJson(const Endpoint& e, const Variant& v, std::string_view role) {
  const RequestMetrics::Counts counts = v.metrics->Read();
  return {{"endpoint", e.name()},
          {"variant", v.name},
          {"version", v.version},
          {"role", role},
          {"requests", counts.requests},
          {"errors", counts.errors},
          {"latency_buckets", v.metrics->latency.Counts()}};
}

}  // namespace

AdminService::AdminService(ModelService& service, Deployer& deployer, std::string token)
    : service_(service), deployer_(deployer), token_(std::move(token)) {}

std::optional<net::HttpResponse> AdminService::Screen(const net::HttpRequest& head) {
  const std::string_view target = head.target.substr(0, head.target.find('?'));
  if (target != "/admin/config" || head.method != "POST") return std::nullopt;
  return RefuseReload(head);
}

std::optional<net::HttpResponse> AdminService::RefuseReload(const net::HttpRequest& request) const {
  if (token_.empty()) {
    return net::HttpResponse{
        403, ErrorJson("reloading over HTTP is off: start wharf serve with --admin-token-file or --announce")};
  }
  if (!net::BearerMatches(request.header("Authorization"), token_)) {
    return net::HttpResponse{401, ErrorJson("missing or wrong bearer token")};
  }
  return std::nullopt;
}

void AdminService::Handle(net::HttpRequest& request, net::Respond respond) {
  const std::string_view target = std::string_view(request.target).substr(0, request.target.find('?'));
  const bool get = request.method == "GET", post = request.method == "POST";
  if (target == "/admin/status" && get) return respond({200, Status()});
  if (target == "/metrics" && get) return respond({200, service_.RenderMetrics(), "text/plain; version=0.0.4"});
  if (target == "/admin/config" && post) return respond(Reload(request));
  if (target == "/admin/status" || target == "/metrics" || target == "/admin/config") {
    return respond({405, ErrorJson(fmt::format("method {} is not allowed on {}", request.method, target))});
  }
  respond({404, ErrorJson(fmt::format("no admin route for {}", request.target))});
}

std::string AdminService::Status() const {
  const auto deployment = service_.current();
  json endpoints = json::array(), metrics = json::array();
  for (const auto& e : deployment->endpoints) {
    json variants = json::array();
    for (const auto& v : e->variants()) {
      variants.push_back(VariantJson(v));
      metrics.push_back(MetricsJson(*e, v, "primary"));
    }
    if (e->shadow()) metrics.push_back(MetricsJson(*e, *e->shadow(), "shadow"));
    endpoints.push_back({{"name", e->name()},
                         {"revision", e->config().revision},
                         {"variants", std::move(variants)},
                         {"shadow", e->shadow() ? VariantJson(*e->shadow()) : json(nullptr)},
                         {"capture", CaptureModeName(e->config().capture.mode)}});
  }
  return json{{"pid", ::getpid()},
              {"ready", service_.ready()},
              {"in_flight", service_.in_flight()},
              {"reloads", deployer_.reloads()},
              {"last_error", deployer_.last_error()},
              {"endpoints", std::move(endpoints)},
              {"metrics", std::move(metrics)},
              {"latency_bounds", LatencyHistogram::kBounds}}
      .dump();
}

net::HttpResponse AdminService::Reload(const net::HttpRequest& request) {
  if (std::optional<net::HttpResponse> refused = RefuseReload(request)) return *std::move(refused);
  std::error_code ec;
  auto config = ParseServeConfig(*request.body, "request body", std::filesystem::current_path(ec));
  if (config.ok()) {
    const wharf::Status deployed = deployer_.Deploy(service_, *config);
    if (deployed.ok()) return {200, Status()};
    return {net::HttpStatusOf(deployed), ErrorJson(deployed.message())};
  }
  return {net::HttpStatusOf(config.status()), ErrorJson(config.status().message())};
}

}  // namespace wharf::serve
