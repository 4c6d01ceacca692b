#pragma once
// The model registry's files and JSON, shared by `wharf model` and the
// control plane: registering a Modelfile as a model's next version (the file
// is copied to MODELS_DIR/NAME/VERSION/Modelfile and never overwritten),
// resolving "NAME@VERSION" / "NAME@ALIAS" references, and the JSON a
// version is shown as.
// Stateless functions: thread-safe as far as the store they are given is.

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <variant>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "store/metadata_store.h"

namespace wharf::control {

// What to register.
struct ModelRegistration {
  std::string model;                   // checked with store::ValidateName
  std::filesystem::path modelfile;     // must parse as a Modelfile
  nlohmann::json lineage = nlohmann::json::object();  // added to what the Modelfile itself tells
  std::string alias;                   // empty: none
};

// Copies the Modelfile under `models_dir` and stores the next version of
// the model, with the Modelfile's metrics and lineage (source path, data
// SHA-256, estimator, creation time, plus registration.lineage); points the
// alias at it if one is given. InvalidArgument for a bad name, alias or
// Modelfile; NotFound if the file does not exist.
Result<store::ModelVersion> RegisterModelfile(store::MetadataStore& store, const std::filesystem::path& models_dir,
                                              const ModelRegistration& registration);

// "wine" -> {"wine", nullopt}; "wine@3" -> version 3; "wine@production" -> alias.
struct ModelRef {
  std::string model;
  std::optional<std::variant<int, std::string>> version_or_alias;  // nullopt: the latest version
};
Result<ModelRef> ParseModelRef(std::string_view text);

// The version `ref` names (the latest when it names none). NotFound naming it.
Result<store::ModelVersion> ResolveModelRef(store::MetadataStore& store, const ModelRef& ref);

// {"version", "path", "created_at", "metrics", "lineage", "aliases"}.
nlohmann::json ModelVersionToJson(const store::ModelVersion& version, const std::map<std::string, int>& aliases);

// "2026-11-23T12:00:00Z" for µs since the Unix epoch; null JSON for 0.
nlohmann::json TimeToJson(std::int64_t us);

}  // namespace wharf::control
