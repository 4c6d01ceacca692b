#include "serve/model_service.h"

#include <random>

#include <fmt/format.h>

#include "core/clock.h"
#include "core/version.h"
#include "store/sqlite_database.h"

namespace wharf::serve {

namespace {

// Path segments of a request target, without the query string.
std::vector<std::string_view> Segments(std::string_view target) {
  target = target.substr(0, target.find('?'));
  std::vector<std::string_view> parts;
  while (!target.empty()) {
    const auto start = target.find_first_not_of('/');
    if (start == std::string_view::npos) break;
    target.remove_prefix(start);
    const auto end = target.find('/');
    parts.push_back(target.substr(0, end));
    target.remove_prefix(end == std::string_view::npos ? target.size() : end);
  }
  return parts;
}

net::HttpResponse Json(std::string body, unsigned status = 200) { return {status, std::move(body)}; }

std::string Versions(const Endpoint& e) {
  std::vector<std::string> versions;
  for (const auto& v : e.variants()) versions.push_back(JsonString(v.version));
  return fmt::format("[{}]", fmt::join(versions, ","));
}

std::string Metadata(const Endpoint& e, const Variant* only) {
  const auto& features = e.features();
  std::vector<std::string> names;
  for (const auto& f : features) names.push_back(JsonString(f));
  const Variant& v = only ? *only : e.variants().front();
  const auto& classes = v.model->schema().classes;
  std::string outputs =
      classes.empty()
          ? fmt::format(R"([{{"name":"output-0","datatype":"FP32","shape":[-1,{}]}}])", v.model->output_width())
          : fmt::format(R"([{{"name":"label","datatype":"BYTES","shape":[-1]}},)"
                        R"({{"name":"probabilities","datatype":"FP32","shape":[-1,{}]}}])",
                        classes.size());
  return fmt::format(R"({{"name":{},"versions":{},"platform":"wharf","inputs":[{{"name":"input-0","datatype":"FP32",)"
                     R"("shape":[-1,{}]}}],"outputs":{},"parameters":{{"columns":[{}]}}}})",
                     JsonString(e.name()), only ? fmt::format("[{}]", JsonString(only->version)) : Versions(e),
                     features.size(), outputs, fmt::join(names, ","));
}

}  // namespace

ModelService::ModelService(std::shared_ptr<const Deployment> deployment) : deployment_(std::move(deployment)) {}

std::shared_ptr<const Deployment> ModelService::Swap(std::shared_ptr<const Deployment> next) {
  return deployment_.exchange(std::move(next));
}

void ModelService::Handle(net::HttpRequest& request, net::Respond respond) {
  // Held until this request is answered and shadowed: a reload never
  // changes a model under a request.
  const DeploymentRef deployment = deployment_.load();
  const auto path = Segments(request.target);
  const bool get = request.method == "GET", post = request.method == "POST";
  auto method_not_allowed = [&] {
    respond(Json(ErrorJson(fmt::format("method {} is not allowed on {}", request.method, request.target)), 405));
  };
  if (!path.empty() && path[0] == "v2") {
    if (path.size() == 1) {
      if (!get) return method_not_allowed();
      return respond(Json(fmt::format(R"({{"name":"wharf","version":{},"extensions":[]}})", JsonString(kVersion))));
    }
    if (path.size() == 3 && path[1] == "health" && (path[2] == "live" || path[2] == "ready")) {
      if (!get) return method_not_allowed();
      if (path[2] == "live") return respond(Json(R"({"live":true})"));
      const bool ready = ready_.load();
      return respond(Json(ready ? R"({"ready":true})" : R"({"ready":false})", ready ? 200 : 503));
    }
    if (path.size() >= 3 && path[1] == "models") {
      const Endpoint* endpoint = deployment->Find(path[2]);
      if (!endpoint) {
        return Reject(nullptr, respond, NotFound(fmt::format("no model named '{}'", path[2])));
      }
      std::string_view version, action;
      std::size_t i = 3;
      if (path.size() >= 5 && path[3] == "versions") {
        version = path[4];
        i = 5;
        if (!endpoint->FindVersion(version)) {
          return Reject(endpoint, respond,
                        NotFound(fmt::format("model '{}' has no version '{}'; versions: {}", endpoint->name(), version,
                                             Versions(*endpoint))));
        }
      }
      if (path.size() == i + 1) action = path[i];
      if (path.size() > i + 1) return respond(Json(ErrorJson("no route for " + std::string(request.target)), 404));
      if (action == "infer") {
        if (!post) return method_not_allowed();
        return Infer(request, respond, deployment, *endpoint, version, false);
      }
      if (!get) return method_not_allowed();
      if (action == "ready") {
        return respond(Json(fmt::format(R"({{"name":{},"ready":{}}})", JsonString(endpoint->name()),
                                        ready_.load() ? "true" : "false")));
      }
      if (action.empty()) return respond(Json(Metadata(*endpoint, version.empty() ? nullptr : endpoint->FindVersion(version))));
    }
    return respond(Json(ErrorJson("no route for " + std::string(request.target)), 404));
  }

  const Endpoint& classic = *deployment->endpoints.front();
  if (path.empty()) {
    if (!get) return method_not_allowed();
    return respond(Json(R"({"status":"alive","service":"wharf"})"));
  }
  if (path.size() == 1 && path[0] == "metrics") {
    if (!get) return method_not_allowed();
    return respond({200, RenderMetrics(), "text/plain; version=0.0.4"});
  }
  if (path.size() == 1 && path[0] == "version") {
    if (!get) return method_not_allowed();
    const Variant* main = &classic.variants().front();
    for (const auto& v : classic.variants()) main = v.weight > main->weight ? &v : main;
    return respond(Json(fmt::format(R"({{"model":{},"version":{},"versions":{},"code_version":{}}})",
                                    JsonString(classic.name()), JsonString(main->version), Versions(classic),
                                    JsonString(kVersion))));
  }
  if (path.size() == 1 && path[0] == "endpoints") {
    if (!get) return method_not_allowed();
    std::vector<std::string> items;
    for (const auto& e : deployment->endpoints) {
      items.push_back(fmt::format(R"({{"name":{},"versions":{},"capture":"{}","infer":"/v2/models/{}/infer"}})",
                                  JsonString(e->name()), Versions(*e), CaptureModeName(e->config().capture.mode),
                                  e->name()));
    }
    return respond(Json(fmt::format(R"({{"endpoints":[{}],"routes":["/","/version/","/endpoints/","/run/",)"
                                    R"("/output/<id>/","/metrics","/v2"]}})",
                                    fmt::join(items, ","))));
  }
  if (path.size() == 1 && path[0] == "run") {
    if (!post) return method_not_allowed();
    return Infer(request, respond, deployment, classic, {}, true);
  }
  if (path.size() == 2 && path[0] == "output") {
    if (!get) return method_not_allowed();
    return Output(respond, *deployment, path[1]);
  }
  respond(Json(ErrorJson("no route for " + std::string(request.target)), 404));
}

void ModelService::Infer(net::HttpRequest& request, net::Respond& respond, const DeploymentRef& deployment,
                         const Endpoint& endpoint, std::string_view version, bool run) {
  const auto start = Clock::now();
  auto batch = run ? ParseRunRequest(*request.body, endpoint) : ParseInferRequest(*request.body, endpoint);
  if (!batch.ok()) return Reject(&endpoint, respond, batch.status());
  const auto& sticky = endpoint.config().sticky_header;
  const Variant& variant =
      !version.empty() ? *endpoint.FindVersion(version) : endpoint.Route(sticky.empty() ? "" : request.header(sticky));
  if (variant.batcher) return InferBatched(request, respond, deployment, endpoint, variant, std::move(*batch), run, start);
  auto prediction = Predict(variant, *batch);
  if (!prediction.ok()) {
    variant.metrics->Record(true);
    return respond(Json(ErrorJson(prediction.status().message()), 500));
  }
  std::string body = run ? RunResponse(variant, *batch, *prediction) : InferResponse(endpoint, variant, *batch, *prediction);
  Answer(request, respond, deployment, endpoint, variant, std::move(*batch), std::move(body), start);
}

void ModelService::InferBatched(net::HttpRequest& request, net::Respond& respond, const DeploymentRef& deployment,
                                const Endpoint& endpoint, const Variant& variant, FeatureBatch batch, bool run,
                                Clock::time_point start) {
  // What the answer needs once the batcher has predicted. The request's
  // fields stay valid until it is answered; the deployment reference keeps
  // the endpoint and variant alive.
  struct Pending {
    ModelService* service;
    net::HttpRequest request;
    net::Respond respond;
    DeploymentRef deployment;
    const Endpoint* endpoint;
    const Variant* variant;
    FeatureBatch batch;
    bool run;
    Clock::time_point start;
  };
  const std::size_t rows = batch.rows;
  // Only a shadow reads the rows again after the batcher.
  std::vector<float> x = endpoint.shadow() ? batch.x : std::move(batch.x);
  auto pending = std::make_shared<Pending>(
      Pending{this, request, std::move(respond), deployment, &endpoint, &variant, std::move(batch), run, start});
  variant.batcher->Submit(std::move(x), rows, [pending](Result<std::vector<float>> values) {
    Pending& p = *pending;
    if (!values.ok()) {
      p.variant->metrics->Record(true);
      p.respond(Json(ErrorJson(values.status().message()), 500));
    } else {
      Prediction prediction;
      prediction.width = p.variant->model->output_width();
      prediction.values = std::move(*values);
      FinishPrediction(prediction, p.batch.rows);
      std::string body = p.run ? RunResponse(*p.variant, p.batch, prediction)
                               : InferResponse(*p.endpoint, *p.variant, p.batch, prediction);
      p.service->Answer(p.request, p.respond, p.deployment, *p.endpoint, *p.variant, std::move(p.batch),
                        std::move(body), p.start);
    }
    // The last reference to an old deployment must not be dropped on its
    // own batcher's thread (its destructor joins that thread): hand it to
    // the request's loop.
    p.request.defer([deployment = std::move(p.deployment)] {});
  });
}

void ModelService::Answer(net::HttpRequest& request, net::Respond& respond, const DeploymentRef& deployment,
                          const Endpoint& endpoint, const Variant& variant, FeatureBatch batch, std::string body,
                          Clock::time_point start) {
  CaptureWriter* capture = deployment->capture.get();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  variant.metrics->latency.Observe(seconds);
  const auto mode = endpoint.config().capture.mode;
  const bool captured = capture && mode != CaptureMode::kOff && Sampled(endpoint);
  const std::int64_t time_us = NowMicros();
  const bool shadowed = endpoint.shadow() != nullptr;
  // The body is still needed by the shadow; otherwise the capture takes it.
  std::string inputs = !captured && !shadowed ? std::string()
                       : shadowed             ? *request.body
                                              : std::move(*request.body);

  if (captured) {
    store::CaptureRecord record{batch.id, time_us, endpoint.name(), variant.name, variant.version, false,
                                shadowed ? inputs : std::move(inputs), body, seconds * 1e3, 200};
    if (mode == CaptureMode::kDurable) {
      // The answer waits for its row to be committed; 503 if it cannot be.
      auto shared_respond = std::make_shared<net::Respond>(std::move(respond));
      auto answer = std::make_shared<std::string>(std::move(body));
      const bool queued =
          capture->Enqueue(std::move(record), [shared_respond, answer, metrics = variant.metrics](const Status& status) {
            metrics->Record(!status.ok());
            if (status.ok()) return (*shared_respond)(Json(std::move(*answer)));
            (*shared_respond)(Json(ErrorJson("the request could not be captured: " + status.message()), 503));
          });
      if (!queued) {
        variant.metrics->Record(true);
        (*shared_respond)(Json(ErrorJson("capture queue full; retry later"), 503));
        return;
      }
    } else {
      capture->TryEnqueue(std::move(record));
      variant.metrics->Record(false);
      respond(Json(std::move(body)));
    }
  } else {
    variant.metrics->Record(false);
    respond(Json(std::move(body)));
  }
  if (shadowed) {
    request.defer([deployment, &endpoint, batch = std::move(batch), inputs = std::move(inputs), time_us, captured] {
      Shadow(*deployment, endpoint, batch, inputs, captured ? time_us : 0);
    });
  }
}

// `time_us` is 0 when the primary was not captured.
void ModelService::Shadow(const Deployment& deployment, const Endpoint& endpoint, const FeatureBatch& batch,
                          const std::string& inputs, std::int64_t time_us) {
  const Variant& shadow = *endpoint.shadow();
  const auto start = Clock::now();
  auto prediction = Predict(shadow, batch);
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  shadow.metrics->latency.Observe(seconds);
  shadow.metrics->Record(!prediction.ok());
  if (time_us == 0) return;  // the primary was not captured (sampling): neither is its shadow
  std::string outputs = prediction.ok() ? InferResponse(endpoint, shadow, batch, *prediction)
                                        : ErrorJson(prediction.status().message());
  deployment.capture->TryEnqueue({batch.id, time_us, endpoint.name(), shadow.name, shadow.version, true, inputs,
                        std::move(outputs), seconds * 1e3, prediction.ok() ? 200 : 500});
}

void ModelService::Reject(const Endpoint* endpoint, net::Respond& respond, const Status& status) const {
  if (endpoint) {
    endpoint->rejected().Record(true);
  }
  respond(Json(ErrorJson(status.message()), net::HttpStatusOf(status)));
}

void ModelService::Output(net::Respond& respond, const Deployment& deployment, std::string_view id) const {
  const Endpoint& classic = *deployment.endpoints.front();
  if (!deployment.capture || classic.config().capture.mode == CaptureMode::kOff) {
    return respond(Json(ErrorJson(fmt::format("capture is off for endpoint '{}': outputs are not stored",
                                              classic.name())),
                        404));
  }
  auto shared_respond = std::make_shared<net::Respond>(std::move(respond));
  const bool queued = deployment.capture->AfterCommit(
      [shared_respond, endpoint = classic.name(), id = std::string(id),
       sample = classic.config().capture.sample_percent](store::CaptureStore& store) {
        auto found = store.Query({.endpoint = endpoint, .id = id, .include_shadow = false, .limit = 1});
        if (!found.ok()) return (*shared_respond)(Json(ErrorJson(found.status().message()), 500));
        if (found->empty()) {
          const std::string why = sample < 100 ? fmt::format(" (capture samples {}% of requests)", sample) : "";
          return (*shared_respond)(
              Json(ErrorJson(fmt::format("no stored output for request id '{}'{}", id, why)), 404));
        }
        const auto& r = found->front();
        (*shared_respond)(Json(fmt::format(R"({{"id":{},"output":{},"model_version":{},"variant":{},"time_us":{}}})",
                                           JsonString(r.id), StoredOutput(r.outputs), JsonString(r.model_version),
                                           JsonString(r.variant), r.time_us)));
      });
  if (!queued) (*shared_respond)(Json(ErrorJson("shutting down"), 503));
}

bool ModelService::Sampled(const Endpoint& endpoint) const {
  const double percent = endpoint.config().capture.sample_percent;
  if (percent >= 100) return true;
  if (percent <= 0) return false;
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(0, 100)(rng) < percent;
}

std::string ModelService::RenderMetrics() const {
  const DeploymentRef deployment = deployment_.load();
  const auto& endpoints = deployment->endpoints;
  const CaptureWriter* capture = deployment->capture.get();
  std::string out;
  auto it = std::back_inserter(out);
  out += "# HELP wharf_requests_total Inference requests answered, by endpoint, variant, version and role.\n"
         "# TYPE wharf_requests_total counter\n";
  auto each_variant = [&](auto&& fn) {
    for (const auto& e : endpoints) {
      for (const auto& v : e->variants()) fn(*e, v, "primary");
      if (e->shadow()) fn(*e, *e->shadow(), "shadow");
    }
  };
  auto labels = [](const Endpoint& e, const Variant& v, std::string_view role) {
    return fmt::format(R"(endpoint="{}",variant="{}",version="{}",role="{}")", LabelValue(e.name()),
                       LabelValue(v.name), LabelValue(v.version), role);
  };
  each_variant([&](const Endpoint& e, const Variant& v, std::string_view role) {
    fmt::format_to(it, "wharf_requests_total{{{}}} {}\n", labels(e, v, role), v.metrics->Read().requests);
  });
  out += "# HELP wharf_request_errors_total Inference requests answered with an error status.\n"
         "# TYPE wharf_request_errors_total counter\n";
  each_variant([&](const Endpoint& e, const Variant& v, std::string_view role) {
    fmt::format_to(it, "wharf_request_errors_total{{{}}} {}\n", labels(e, v, role), v.metrics->Read().errors);
  });
  out += "# HELP wharf_rejected_requests_total Requests refused before reaching a model (bad input, unknown version).\n"
         "# TYPE wharf_rejected_requests_total counter\n";
  for (const auto& e : endpoints) {
    fmt::format_to(it, "wharf_rejected_requests_total{{endpoint=\"{}\"}} {}\n", LabelValue(e->name()),
                   e->rejected().Read().requests);
  }
  out += "# HELP wharf_endpoint_revision The control plane's endpoint revision being served (0: not managed).\n"
         "# TYPE wharf_endpoint_revision gauge\n";
  for (const auto& e : endpoints) {
    fmt::format_to(it, "wharf_endpoint_revision{{endpoint=\"{}\"}} {}\n", LabelValue(e->name()), e->config().revision);
  }
  out += "# HELP wharf_request_duration_seconds Time to parse, predict and answer a request.\n"
         "# TYPE wharf_request_duration_seconds histogram\n";
  each_variant([&](const Endpoint& e, const Variant& v, std::string_view role) {
    v.metrics->latency.Render("wharf_request_duration_seconds", labels(e, v, role), out);
  });
  out += "# HELP wharf_batch_size Rows per forward pass of a batching variant (dynamic batching).\n"
         "# TYPE wharf_batch_size histogram\n";
  each_variant([&](const Endpoint& e, const Variant& v, std::string_view role) {
    if (v.batcher) v.batcher->metrics().Render(labels(e, v, role), out);
  });
  fmt::format_to(it,
                 "# HELP wharf_in_flight_requests Requests read but not yet answered.\n"
                 "# TYPE wharf_in_flight_requests gauge\nwharf_in_flight_requests {}\n",
                 in_flight_ ? in_flight_() : 0);
  if (capture) {
    fmt::format_to(it,
                   "# HELP wharf_capture_queue_depth Captured requests waiting to be written.\n"
                   "# TYPE wharf_capture_queue_depth gauge\nwharf_capture_queue_depth {}\n"
                   "# HELP wharf_capture_written_total Captured requests committed to the store.\n"
                   "# TYPE wharf_capture_written_total counter\nwharf_capture_written_total {}\n"
                   "# HELP wharf_capture_dropped_total Captured requests dropped because the queue was full.\n"
                   "# TYPE wharf_capture_dropped_total counter\nwharf_capture_dropped_total {}\n"
                   "# HELP wharf_capture_failed_total Captured requests whose write failed.\n"
                   "# TYPE wharf_capture_failed_total counter\nwharf_capture_failed_total {}\n"
                   "# HELP wharf_capture_queue_bytes Memory held by captures not yet written (bounded: 32 MiB).\n"
                   "# TYPE wharf_capture_queue_bytes gauge\nwharf_capture_queue_bytes {}\n",
                   capture->depth(), capture->written(), capture->dropped(), capture->failed(), capture->bytes());
  }
  fmt::format_to(it,
                 "# HELP wharf_sqlite_memory_bytes Memory SQLite holds: page caches (the capture store's is bounded "
                 "at 32 MiB), schemas, statements.\n"
                 "# TYPE wharf_sqlite_memory_bytes gauge\nwharf_sqlite_memory_bytes {}\n",
                 store::SqliteMemoryUsed());
  return out;
}

}  // namespace wharf::serve
