// libFuzzer target: the inference request parsers, KServe v2 /infer and the
// classic /run/, against a real wine endpoint (11 columns, the iris-style
// aliases). The first byte picks the parser; the rest is the body. Any body
// must give a batch of the endpoint's width or an InvalidArgument, never a
// crash. The Modelfile comes from $WHARF_FUZZ_MODELFILE (scripts/fuzz trains
// one).

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "artifact/registry.h"
#include "ml/pca_model.h"
#include "ml/pipeline.h"
#include "serve/endpoint.h"
#include "serve/inference.h"

using namespace wharf;

namespace {

std::unique_ptr<serve::Endpoint> LoadEndpoint() {
  const char* modelfile = std::getenv("WHARF_FUZZ_MODELFILE");
  if (modelfile == nullptr) {
    std::fprintf(stderr, "request_fuzz: set WHARF_FUZZ_MODELFILE to a wine Modelfile (scripts/fuzz does)\n");
    std::abort();
  }
  static artifact::ModelRegistry registry;
  ml::Register(registry);
  serve::EndpointConfig config;
  config.name = "wine";
  config.variants.push_back({.name = "main", .model = modelfile, .version = "1", .weight = 1});
  config.aliases = {{"acidity", "fixed acidity"}, {"alcohol_percent", "alcohol"}};
  Result<std::unique_ptr<serve::Endpoint>> endpoint = serve::Endpoint::Load(config, registry);
  if (!endpoint.ok()) {
    std::fprintf(stderr, "request_fuzz: %s\n", endpoint.status().message().c_str());
    std::abort();
  }
  return std::move(*endpoint);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::unique_ptr<serve::Endpoint> endpoint = LoadEndpoint();
  if (size == 0) return 0;
  std::string body(reinterpret_cast<const char*>(data) + 1, size - 1);
  Result<serve::FeatureBatch> batch =
      data[0] % 2 == 0 ? serve::ParseInferRequest(body, *endpoint) : serve::ParseRunRequest(body, *endpoint);
  if (batch.ok() && batch->x.size() != batch->rows * endpoint->features().size()) std::abort();
  return 0;
}
