#include "artifact/registry.h"

namespace wharf::artifact {

void ModelRegistry::Register(std::string kind, ModelLoader loader) { loaders_[std::move(kind)] = std::move(loader); }

std::vector<std::string> ModelRegistry::kinds() const {
  std::vector<std::string> out;
  for (const auto& [kind, loader] : loaders_) out.push_back(kind);
  return out;
}

Result<std::unique_ptr<Model>> ModelRegistry::Load(const Modelfile& file, const LoadOptions& options) const {
  const auto& header = file.header;
  if (!header.contains("estimator") || !header["estimator"].is_object() ||
      !header["estimator"].contains("kind") || !header["estimator"]["kind"].is_string()) {
    return InvalidArgument("Modelfile header has no estimator.kind");
  }
  const std::string kind = header["estimator"]["kind"].get<std::string>();
  auto it = loaders_.find(kind);
  if (it == loaders_.end()) {
    std::string known;
    for (const auto& k : kinds()) known += (known.empty() ? "" : ", ") + k;
    return InvalidArgument("unknown estimator kind '" + kind + "'; known: " + known);
  }
  return it->second(file, options);
}

Result<std::unique_ptr<Model>> LoadModel(const std::filesystem::path& path, const ModelRegistry& registry,
                                         const LoadOptions& options) {
  WHARF_ASSIGN_OR_RETURN(Modelfile file, ReadModelfile(path));
  auto model = registry.Load(file, options);
  if (!model.ok()) return model.status().WithContext(path.string());
  return model;
}

}  // namespace wharf::artifact
