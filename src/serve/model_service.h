#pragma once
// The HTTP surface of `wharf serve`: the Open Inference Protocol (KServe v2),
// the classic Flask model app's routes, and /metrics. Routes each request to
// an endpoint variant, captures it, and runs the shadow after answering.
//
//   GET  /v2  /v2/health/live  /v2/health/ready
//   GET  /v2/models/{m}[/versions/{v}][/ready]
//   POST /v2/models/{m}[/versions/{v}]/infer
//   GET  /  /version/  /endpoints/  /output/{id}/     POST /run/   (first endpoint)
//   GET  /metrics                                     (Prometheus text)
//
// Thread-safe: Handle runs on every loop thread at once. What it serves is
// the current Deployment (deployment.h), which Swap replaces atomically.

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "serve/capture_writer.h"
#include "serve/deployment.h"
#include "serve/endpoint.h"
#include "net/http_server.h"
#include "serve/inference.h"

namespace wharf::serve {

class ModelService final : public net::HttpHandler {
 public:
  explicit ModelService(std::shared_ptr<const Deployment> deployment);

  void Handle(net::HttpRequest& request, net::Respond respond) override;

  // Makes `next` the deployment new requests see; returns the previous one
  // (requests that started on it keep it until they are done).
  std::shared_ptr<const Deployment> Swap(std::shared_ptr<const Deployment> next);
  std::shared_ptr<const Deployment> current() const { return deployment_.load(); }

  // Readiness as reported by /v2/health/ready (false while shutting down).
  void set_ready(bool ready) { ready_.store(ready); }
  // Where /metrics reads the number of requests in flight.
  void set_in_flight_source(std::function<std::size_t()> source) { in_flight_ = std::move(source); }

  bool ready() const { return ready_.load(); }
  std::size_t in_flight() const { return in_flight_ ? in_flight_() : 0; }

  std::string RenderMetrics() const;

 private:
  using Clock = std::chrono::steady_clock;
  using DeploymentRef = std::shared_ptr<const Deployment>;

  void Infer(net::HttpRequest& request, net::Respond& respond, const DeploymentRef& deployment,
             const Endpoint& endpoint, std::string_view version, bool run);
  // Queues the batch on the variant's batcher; answers from its thread.
  void InferBatched(net::HttpRequest& request, net::Respond& respond, const DeploymentRef& deployment,
                    const Endpoint& endpoint, const Variant& variant, FeatureBatch batch, bool run,
                    Clock::time_point start);
  // Records metrics, captures (per the endpoint's mode), answers, then runs the shadow.
  void Answer(net::HttpRequest& request, net::Respond& respond, const DeploymentRef& deployment,
              const Endpoint& endpoint, const Variant& variant, FeatureBatch batch, std::string body,
              Clock::time_point start);
  static void Shadow(const Deployment& deployment, const Endpoint& endpoint, const FeatureBatch& batch,
                     const std::string& inputs, std::int64_t time_us);
  void Reject(const Endpoint* endpoint, net::Respond& respond, const Status& status) const;
  void Output(net::Respond& respond, const Deployment& deployment, std::string_view id) const;
  bool Sampled(const Endpoint& endpoint) const;

  std::atomic<DeploymentRef> deployment_;
  std::atomic<bool> ready_{true};
  std::function<std::size_t()> in_flight_;
};

}  // namespace wharf::serve
