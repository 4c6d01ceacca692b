#include "serve/deployment.h"

#include <thread>

#include "serve/model_service.h"

namespace wharf::serve {

std::shared_ptr<RequestMetrics> MetricsBook::For(const std::string& endpoint, const std::string& variant,
                                                 const std::string& version, const std::string& role) {
  MutexLock lock(mu_);
  auto& slot = metrics_[{endpoint, variant, version, role}];
  if (!slot) slot = std::make_shared<RequestMetrics>();
  return slot;
}

std::shared_ptr<BatchMetrics> MetricsBook::BatchesFor(const std::string& endpoint, const std::string& variant,
                                                      const std::string& version, const std::string& role) {
  MutexLock lock(mu_);
  auto& slot = batches_[{endpoint, variant, version, role}];
  if (!slot) slot = std::make_shared<BatchMetrics>();
  return slot;
}

const Endpoint* Deployment::Find(std::string_view name) const {
  for (const auto& e : endpoints) {
    if (e->name() == name) return e.get();
  }
  return nullptr;
}

Deployer::Deployer(const artifact::ModelRegistry& registry, std::string store_location,
                   std::chrono::milliseconds drain)
    : registry_(registry), store_location_(std::move(store_location)), drain_(drain) {}

Result<std::shared_ptr<CaptureWriter>> Deployer::WriterFor(const ServeConfig& config) {
  bool capturing = false, durable = false;
  for (const auto& e : config.endpoints) {
    capturing = capturing || e.capture.mode != CaptureMode::kOff;
    durable = durable || e.capture.mode == CaptureMode::kDurable;
  }
  if (!capturing) return std::shared_ptr<CaptureWriter>();
  if (writer_ && (writer_durable_ || !durable)) return writer_;
  // Durable capture promises that an answered request survives power loss;
  // async capture promises less, so it skips the fsync per commit.
  WHARF_ASSIGN_OR_RETURN(auto store, store::OpenCaptureStore(store_location_, durable ? store::Durability::kPowerLoss
                                                                                      : store::Durability::kProcessCrash));
  writer_ = std::make_shared<CaptureWriter>(std::move(store));
  writer_durable_ = durable;
  return writer_;
}

Result<std::shared_ptr<const Deployment>> Deployer::Load(const ServeConfig& config) {
  auto deployment = std::make_shared<Deployment>();
  deployment->config = config;
  // Models load without mu_: reloads() and last_error() answer meanwhile.
  for (const auto& e : config.endpoints) {
    WHARF_ASSIGN_OR_RETURN(auto endpoint, Endpoint::Load(e, registry_, &metrics_));
    deployment->endpoints.push_back(std::move(endpoint));
  }
  {
    MutexLock lock(mu_);
    WHARF_ASSIGN_OR_RETURN(deployment->capture, WriterFor(config));
  }
  return std::shared_ptr<const Deployment>(std::move(deployment));
}

Status Deployer::Deploy(ModelService& service, const ServeConfig& config) {
  MutexLock deploying(deploy_mu_);
  auto loaded = Load(config);
  std::shared_ptr<const Deployment> old;
  {
    MutexLock lock(mu_);
    if (!loaded.ok()) {
      last_error_ = loaded.status().message();
      return loaded.status();
    }
    old = service.Swap(std::move(*loaded));
    ++reloads_;
    last_error_.clear();
  }
  // Drain (the next Deploy waits for it, status readers do not): requests
  // that started on the old deployment hold a reference until they are
  // answered and shadowed.
  const auto deadline = std::chrono::steady_clock::now() + drain_;
  while (old.use_count() > 1 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return Status::Ok();
}

int Deployer::reloads() const {
  MutexLock lock(mu_);
  return reloads_;
}

std::string Deployer::last_error() const {
  MutexLock lock(mu_);
  return last_error_;
}

}  // namespace wharf::serve
