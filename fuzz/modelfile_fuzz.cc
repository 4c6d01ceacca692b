// libFuzzer target: the Modelfile reader (container, header JSON, sections,
// checksums) and, for a file that parses, loading its model. A corrupt or
// hostile file must be refused with a Status, never crash or over-allocate.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "artifact/modelfile.h"
#include "artifact/registry.h"
#include "ml/pca_model.h"
#include "ml/pipeline.h"

using namespace wharf;

namespace {

const artifact::ModelRegistry& Registry() {
  static const artifact::ModelRegistry registry = [] {
    artifact::ModelRegistry r;
    ml::Register(r);
    ml::RegisterPca(r);
    return r;
  }();
  return registry;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  Result<artifact::Modelfile> file = artifact::ParseModelfile(bytes, "fuzz.Modelfile");
  if (!file.ok()) return 0;
  (void)Registry().Load(*file);
  return 0;
}
