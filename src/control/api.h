#pragma once
// The control plane's REST API (docs/control-plane.md lists the routes):
// task definitions, runs, tasks and their logs, artifacts, registered
// models and endpoints, as JSON over HTTP, behind a bearer token; and the
// control plane's own /metrics (Prometheus text, same token).
// Thread-safe: the HTTP server calls Handle from every loop thread; the
// store serializes its calls, the rest is read-only or thread-safe.

#include <chrono>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "control/artifact_store.h"
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
  ControlApi(std::unique_ptr<store::MetadataStore> store, exec::Executor& executor, const ArtifactStore& artifacts,
             const JobRegistry& jobs, Scheduler& scheduler, EndpointController& endpoints, ServiceController& services,
             std::string token,
             nlohmann::json executor_info, secret::Vault vault);

  void Handle(net::HttpRequest& request, net::Respond respond) override;

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
  // Names, versions and the audit log; a value can be set, never read.
  net::HttpResponse Secrets(const Call& call);
  net::HttpResponse Services(const Call& call);

  std::unique_ptr<store::MetadataStore> store_;
  exec::Executor& executor_;
  const ArtifactStore& artifacts_;
  const JobRegistry& jobs_;
  Scheduler& scheduler_;
  EndpointController& endpoints_;
  ServiceController& services_;
  const std::string token_;
  const nlohmann::json executor_info_;  // shown by /api/health: which limits the executor can enforce
  secret::SecretStore secrets_;          // over store_
};

// The OpenAPI 3 description served at GET /api/openapi.json.
std::string_view OpenApiDocument();

}  // namespace wharf::control
