#pragma once
// The control plane's REST API (docs/control-plane.md lists the routes):
// task definitions, runs, tasks and their logs, artifacts, registered
// models and endpoints (with their captured requests and drift), as JSON
// over HTTP, behind a bearer token; and the control plane's own /metrics
// (Prometheus text, same token).
// Thread-safe: the HTTP server calls Handle from every loop thread; the
// store serializes its calls, captures are read through a capture store
// each request opens, the rest is read-only or thread-safe.

#include <chrono>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "control/artifact_store.h"
#include "control/drift_reporter.h"
#include "control/endpoints.h"
#include "control/job_registry.h"
#include "control/scheduler.h"
#include "control/services.h"
#include "exec/executor.h"
#include "net/http_server.h"
#include "secret/secret_store.h"
#include "store/metadata_store.h"

namespace wharf::control {

// Largest JSON request body; artifact uploads may be larger, up to the
// HTTP server's own limit.
inline constexpr std::size_t kMaxJsonBody = 1 << 20;

class ControlApi final : public net::HttpHandler {
 public:
  // `store` was opened at `store_location`, where endpoints' replicas
  // capture too; `drift` answers GET /api/endpoints/NAME/drift (without
  // one, that route answers 501).
  ControlApi(std::unique_ptr<store::MetadataStore> store, std::string store_location, exec::Executor& executor,
             const ArtifactStore& artifacts, const JobRegistry& jobs, Scheduler& scheduler,
             EndpointController& endpoints, ServiceController& services, std::string token,
             nlohmann::json executor_info, secret::Vault vault, DriftReporter drift);

  void Handle(net::HttpRequest& request, net::Respond respond) override;
  // Before a body is read: 401 for a request without the token that needs
  // one, 413 for a JSON body declared over kMaxJsonBody (or, without the
  // token, of a length not declared).
  std::optional<net::HttpResponse> Screen(const net::HttpRequest& head) override;

 private:
  struct Call;  // one request, parsed
  net::HttpResponse Route(const Call& call);
  net::HttpResponse RegisterTaskdef(const Call& call);
  net::HttpResponse GetTaskdef(const std::string& name, std::optional<int> revision);
  net::HttpResponse ListTaskdefs(const Call& call);
  net::HttpResponse DeregisterTaskdef(const std::string& name);
  net::HttpResponse CreateRun(const Call& call);
  net::HttpResponse ListTasks(const Call& call);
  net::HttpResponse GetTask(const std::string& id);
  net::HttpResponse StopTask(const std::string& id, const Call& call);
  net::HttpResponse TaskLogs(const std::string& id, const Call& call);
  net::HttpResponse PutArtifact(const std::string& name, const Call& call);
  net::HttpResponse GetArtifact(const std::string& name);
  net::HttpResponse ListArtifacts(const Call& call);
  net::HttpResponse ListModels();
  net::HttpResponse GetModel(const std::string& name);
  net::HttpResponse ListJobs() const;
  net::HttpResponse Endpoints(const Call& call);
  // An endpoint's captures, newest first, as JSON; or exported as CSV or
  // JSON lines (api_captures.cc, as are the two below).
  net::HttpResponse ListCaptures(const std::string& endpoint, const Call& call);
  net::HttpResponse GetCapture(const std::string& endpoint, const std::string& id, const Call& call);
  net::HttpResponse Drift(const std::string& endpoint, const Call& call);
  // Names, versions and the audit log; a value can be set, never read.
  net::HttpResponse Secrets(const Call& call);
  net::HttpResponse Services(const Call& call);

  std::unique_ptr<store::MetadataStore> store_;
  const std::string store_location_;  // for capture stores, one per request (a store is one thread's at a time)
  exec::Executor& executor_;
  const ArtifactStore& artifacts_;
  const JobRegistry& jobs_;
  Scheduler& scheduler_;
  EndpointController& endpoints_;
  ServiceController& services_;
  const std::string token_;
  const nlohmann::json executor_info_;  // shown by /api/health: which limits the executor can enforce
  secret::SecretStore secrets_;          // over store_
  const DriftReporter drift_;           // may be empty
};

// The OpenAPI 3 description served at GET /api/openapi.json.
std::string_view OpenApiDocument();

}  // namespace wharf::control
