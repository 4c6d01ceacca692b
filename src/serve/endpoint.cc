#include "serve/endpoint.h"

#include <fmt/format.h>

#include "core/parallel.h"
#include "serve/deployment.h"

namespace wharf::serve {

namespace {

Result<Variant> LoadVariant(const EndpointConfig& endpoint, const VariantConfig& config,
                            const artifact::ModelRegistry& registry, MetricsBook* book, const std::string& role) {
  // One core per Predict: the loop threads predict side by side, and so do
  // a batcher's workers (one per core), which measured faster on a small
  // CNN than one batch at a time on every core.
  artifact::LoadOptions options;
  options.threads = 1;
  WHARF_ASSIGN_OR_RETURN(auto model, artifact::LoadModel(config.model, registry, options));
  if (model->schema().kind == artifact::ModelKind::kTransformer) {
    return InvalidArgument(fmt::format("endpoint '{}': {} is a transformer (PCA), not a classifier; wharf serves "
                                       "classifiers",
                                       endpoint.name, config.model.string()));
  }
  Variant v;
  v.name = config.name;
  v.version = config.version;
  v.weight = config.weight;
  v.path = config.model;
  v.model = std::move(model);
  if (book) v.metrics = book->For(endpoint.name, v.name, v.version, role);
  if (endpoint.batching.enabled()) {
    v.batcher = std::make_shared<Batcher>(
        v.model,
        Batcher::Options{endpoint.batching.max_batch_size, std::chrono::microseconds(endpoint.batching.max_queue_delay_us),
                         HardwareThreads()},
        book ? book->BatchesFor(endpoint.name, v.name, v.version, role) : std::make_shared<BatchMetrics>());
  }
  return v;
}

}  // namespace

Result<std::unique_ptr<Endpoint>> Endpoint::Load(const EndpointConfig& config,
                                                 const artifact::ModelRegistry& registry, MetricsBook* book) {
  std::vector<double> weights;
  for (const auto& v : config.variants) weights.push_back(v.weight);
  std::unique_ptr<Endpoint> e(new Endpoint(config, TrafficRouter(weights)));
  for (const auto& v : config.variants) {
    WHARF_ASSIGN_OR_RETURN(Variant variant, LoadVariant(config, v, registry, book, "primary"));
    e->variants_.push_back(std::move(variant));
  }
  if (config.shadow) {
    WHARF_ASSIGN_OR_RETURN(e->shadow_, LoadVariant(config, *config.shadow, registry, book, "shadow"));
  }

  if (book) e->rejected_ = book->For(config.name, "", "", "rejected");

  const auto& features = e->features();
  auto check = [&](const Variant& v) -> Status {
    if (v.model->schema().image_shape != e->input_schema().image_shape) {
      return InvalidArgument(fmt::format("endpoint '{}': variant '{}' takes images of [{}], but '{}' takes [{}]",
                                         config.name, v.name, fmt::join(v.model->schema().image_shape, ", "),
                                         e->variants_.front().name, fmt::join(e->input_schema().image_shape, ", ")));
    }
    if (v.model->schema().features == features) return Status::Ok();
    return InvalidArgument(fmt::format("endpoint '{}': variant '{}' takes columns [{}], but '{}' takes [{}]; the "
                                       "variants of one endpoint must take the same columns",
                                       config.name, v.name, fmt::join(v.model->schema().features, ", "),
                                       e->variants_.front().name, fmt::join(features, ", ")));
  };
  for (const auto& v : e->variants_) WHARF_RETURN_IF_ERROR(check(v));
  if (e->shadow_) WHARF_RETURN_IF_ERROR(check(*e->shadow_));

  for (std::size_t i = 0; i < features.size(); ++i) e->columns_[features[i]] = i;
  for (const auto& [field, column] : config.aliases) {
    auto it = e->columns_.find(column);
    if (it == e->columns_.end()) {
      return InvalidArgument(fmt::format("endpoint '{}': alias '{}' names column '{}', which the model does not "
                                         "take; columns: {}",
                                         config.name, field, column, fmt::join(features, ", ")));
    }
    e->columns_[field] = it->second;
  }
  return e;
}

const Variant* Endpoint::FindVersion(std::string_view version) const {
  for (const auto& v : variants_) {
    if (v.version == version) return &v;
  }
  return nullptr;
}

const Variant& Endpoint::Route(std::string_view sticky_key) const {
  return variants_[sticky_key.empty() ? router_.Pick() : router_.PickSticky(sticky_key)];
}

std::optional<std::size_t> Endpoint::ColumnOf(std::string_view field) const {
  auto it = columns_.find(field);
  if (it == columns_.end()) return std::nullopt;
  return it->second;
}

}  // namespace wharf::serve
