#include "cli/registry_model.h"

#include <filesystem>

#include <fmt/format.h>

#include "control/model_registry.h"
#include "store/location.h"
#include "store/metadata_store.h"

namespace wharf::cli {

Result<std::string> RegistryModelfile(std::string_view ref, const std::string& location, std::string_view flag) {
  WHARF_ASSIGN_OR_RETURN(control::ModelRef parsed, control::ParseModelRef(ref));
  std::error_code ec;
  if (!store::IsServerLocation(location) && !std::filesystem::exists(location, ec)) {
    return NotFound(fmt::format("--model {}: no model registry at {}", flag, location));
  }
  WHARF_ASSIGN_OR_RETURN(auto registry, store::OpenMetadataStore(location));
  Result<store::ModelVersion> version = control::ResolveModelRef(*registry, parsed);
  if (!version.ok()) return NotFound(fmt::format("--model {}: {}", flag, version.status().message()));
  return version->modelfile_path;
}

}  // namespace wharf::cli
