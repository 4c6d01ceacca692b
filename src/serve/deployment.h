#pragma once
// What a model server serves at one moment, and how it moves to the next
// configuration without dropping a request.
//
// A Deployment is immutable: the endpoints one configuration loaded and the
// capture writer they use. A request takes a reference to the current one
// when it starts and keeps it until it has been answered (and shadowed), so
// a reload never changes a model under a request. The Deployer loads the
// new configuration next to the old one, switches the service to it in one
// atomic store, then waits for the old one's requests to finish.

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "artifact/registry.h"
#include "core/mutex.h"
#include "core/status.h"
#include "serve/capture_writer.h"
#include "serve/config.h"
#include "serve/endpoint.h"
#include "serve/metrics.h"
#include "store/capture_store.h"

namespace wharf::serve {

class ModelService;

// Request metrics by (endpoint, variant, version, role), kept for the life
// of the process so counters carry on across reloads (and come back when a
// rollback brings a version back). Thread-safe.
class MetricsBook {
 public:
  std::shared_ptr<RequestMetrics> For(const std::string& endpoint, const std::string& variant,
                                      const std::string& version, const std::string& role);
  // The batch counts of a batching variant, kept across reloads like For's.
  std::shared_ptr<BatchMetrics> BatchesFor(const std::string& endpoint, const std::string& variant,
                                           const std::string& version, const std::string& role);

 private:
  using Key = std::tuple<std::string, std::string, std::string, std::string>;
  Mutex mu_;
  std::map<Key, std::shared_ptr<RequestMetrics>> metrics_ WHARF_GUARDED_BY(mu_);
  std::map<Key, std::shared_ptr<BatchMetrics>> batches_ WHARF_GUARDED_BY(mu_);
};

// The endpoints of one loaded configuration and the capture writer they use
// (null when none captures). Immutable; shared by every request thread.
struct Deployment {
  ServeConfig config;
  std::vector<std::unique_ptr<Endpoint>> endpoints;
  std::shared_ptr<CaptureWriter> capture;

  // The endpoint named `name`, or null.
  const Endpoint* Find(std::string_view name) const;
};

// Loads configurations into Deployments and switches a ModelService to them.
// Deploy calls are serialized; requests never wait for one, nor do reloads()
// and last_error() (the admin status) while models load or requests drain.
class Deployer {
 public:
  // `store_location` is where capture goes (store::OpenCaptureStore: the
  // capture store itself, see store::CaptureLocation);
  // `drain` bounds how long Deploy waits for the old deployment's requests.
  Deployer(const artifact::ModelRegistry& registry, std::string store_location, std::chrono::milliseconds drain);

  // Loads `config` (every Modelfile, the capture store when it captures).
  // The first deployment of a service is made with this.
  Result<std::shared_ptr<const Deployment>> Load(const ServeConfig& config);

  // Loads `config`, makes it `service`'s current deployment, then waits (up
  // to the drain time) until no request holds the previous one. On error
  // the service keeps what it served.
  Status Deploy(ModelService& service, const ServeConfig& config);

  // How many Deploy calls succeeded and the last one's error (empty if none failed since).
  int reloads() const;
  std::string last_error() const;

  MetricsBook& metrics() { return metrics_; }

 private:
  // The writer for a configuration: the current one when it is strong
  // enough, else a new one (durable capture needs fsync per commit).
  Result<std::shared_ptr<CaptureWriter>> WriterFor(const ServeConfig& config) WHARF_REQUIRES(mu_);

  const artifact::ModelRegistry& registry_;
  const std::string store_location_;
  const std::chrono::milliseconds drain_;
  MetricsBook metrics_;
  Mutex deploy_mu_ WHARF_ACQUIRED_BEFORE(mu_);  // one Deploy at a time
  mutable Mutex mu_;
  std::shared_ptr<CaptureWriter> writer_ WHARF_GUARDED_BY(mu_);
  bool writer_durable_ WHARF_GUARDED_BY(mu_) = false;
  int reloads_ WHARF_GUARDED_BY(mu_) = 0;
  std::string last_error_ WHARF_GUARDED_BY(mu_);
};

}  // namespace wharf::serve
