#pragma once
// A served endpoint: its loaded variants (each a model version with a
// traffic weight and its own metrics), an optional shadow, the router, the
// request-field aliases and the capture settings.
// Immutable once loaded (metrics aside, which are atomic): shared by every
// request thread without locks. A reload loads a new Endpoint (deployment.h).

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <map>
#include <vector>

#include "artifact/model.h"
#include "artifact/registry.h"
#include "core/status.h"
#include "serve/batcher.h"
#include "serve/config.h"
#include "serve/metrics.h"
#include "serve/router.h"

namespace wharf::serve {

// One model version behind an endpoint.
struct Variant {
  std::string name;
  std::string version;
  double weight = 0;
  std::filesystem::path path;
  std::shared_ptr<const artifact::Model> model;  // shared: a request holds it while a swap may drop it
  std::shared_ptr<RequestMetrics> metrics = std::make_shared<RequestMetrics>();
  std::shared_ptr<Batcher> batcher;  // set when the endpoint batches requests
};

class MetricsBook;

class Endpoint {
 public:
  // Loads every variant's Modelfile (single-threaded prediction per call).
  // InvalidArgument if the variants do not take the same input columns.
  // Metrics come from `book` when given (so they outlive this endpoint), else are fresh.
  static Result<std::unique_ptr<Endpoint>> Load(const EndpointConfig& config, const artifact::ModelRegistry& registry,
                                                MetricsBook* book = nullptr);

  const std::string& name() const { return config_.name; }
  const EndpointConfig& config() const { return config_; }
  const std::vector<Variant>& variants() const { return variants_; }
  const Variant* shadow() const { return shadow_ ? &*shadow_ : nullptr; }
  const std::vector<std::string>& features() const { return variants_.front().model->schema().features; }
  // The variants' input (they share it): columns, or an image shape.
  const artifact::ModelSchema& input_schema() const { return variants_.front().model->schema(); }
  // A model of this endpoint (they take the same input), e.g. to decode an image.
  const artifact::Model& first_model() const { return *variants_.front().model; }

  // The variant with this version, or null.
  const Variant* FindVersion(std::string_view version) const;
  // Routes a request: sticky by `sticky_key` when not empty, else by weight.
  const Variant& Route(std::string_view sticky_key) const;

  // The feature column a request field names (directly or through an alias).
  std::optional<std::size_t> ColumnOf(std::string_view field) const;

  // Requests rejected before a variant was chosen (bad JSON, wrong shape...).
  RequestMetrics& rejected() const { return *rejected_; }

 private:
  Endpoint(EndpointConfig config, TrafficRouter router) : config_(std::move(config)), router_(std::move(router)) {}

  EndpointConfig config_;
  TrafficRouter router_;
  std::vector<Variant> variants_;
  std::optional<Variant> shadow_;
  // Field or alias -> column; std::less<> looks up string_views without copying them.
  std::map<std::string, std::size_t, std::less<>> columns_;
  std::shared_ptr<RequestMetrics> rejected_ = std::make_shared<RequestMetrics>();
};

}  // namespace wharf::serve
