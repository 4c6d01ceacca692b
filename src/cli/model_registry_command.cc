// `wharf model register | list | describe | alias`: the model registry.
//
// Registered Modelfiles are copied next to a SQLite registry, under
// DB_DIR/models/NAME/VERSION/Modelfile (HOME/models/... for a PostgreSQL
// one), and never overwritten: the copy is
// written to a temporary name and then hard-linked into place, which fails
// rather than replaces if the name is taken.

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <variant>
#include <vector>


#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/exit_code.h"
#include "control/client.h"
#include "control/model_registry.h"
#include "store/capture_store.h"
#include "store/location.h"
#include "store/metadata_store.h"

namespace wharf::cli {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct RegistryFlags {
  std::string db, name, modelfile, alias, spec;
  int version = 0;
  bool json = false;
};

// Registered Modelfiles are copied beside a SQLite registry; with a
// PostgreSQL one, under the wharf home ($WHARF_HOME, else ~/.wharf).
fs::path ModelsDir(const std::string& location) {
  if (store::IsServerLocation(location)) return control::ResolveHome({}) / "models";
  return fs::absolute(location).parent_path() / "models";
}

// Read commands never create a database: a missing file holds no models.
Result<std::unique_ptr<store::MetadataStore>> OpenForRead(const RegistryFlags& f, std::string_view model) {
  const std::string location = store::StoreLocation(f.db);
  std::error_code ec;
  if (!store::IsServerLocation(location) && !fs::exists(location, ec)) {
    return NotFound(fmt::format("model '{}' not found (no registry at {})", model, location));
  }
  return store::OpenMetadataStore(location);
}

Status Register(const RegistryFlags& f) {
  const std::string location = store::StoreLocation(f.db);
  WHARF_ASSIGN_OR_RETURN(auto store, store::OpenMetadataStore(location));
  const control::ModelRegistration registration{f.name, f.modelfile, json::object(), f.alias};
  WHARF_ASSIGN_OR_RETURN(store::ModelVersion v, control::RegisterModelfile(*store, ModelsDir(location), registration));
  if (f.json) {
    fmt::print("{}\n", json{{"name", v.model}, {"version", v.version}, {"path", v.modelfile_path}}.dump(2));
  } else {
    fmt::print("Registered {} version {}\n", v.model, v.version);
    if (!f.alias.empty()) fmt::print("{}@{} -> version {}\n", v.model, f.alias, v.version);
  }
  return Status::Ok();
}

Status List(const RegistryFlags& f) {
  json out = json::array();
  const std::string location = store::StoreLocation(f.db);
  std::error_code ec;
  if (store::IsServerLocation(location) || fs::exists(location, ec)) {
    WHARF_ASSIGN_OR_RETURN(auto store, store::OpenMetadataStore(location));
    WHARF_ASSIGN_OR_RETURN(std::vector<std::string> models, store->ListModels());
    for (const auto& name : models) {
      WHARF_ASSIGN_OR_RETURN(std::vector<store::ModelVersion> versions, store->ListModelVersions(name));
      WHARF_ASSIGN_OR_RETURN(auto aliases, store->ListAliases(name));
      out.push_back({{"name", name}, {"latest_version", versions.back().version}, {"aliases", aliases}});
    }
  }
  if (f.json) {
    fmt::print("{}\n", out.dump(2));
    return Status::Ok();
  }
  if (out.empty()) {
    fmt::print("No models registered in {}\n", store::DisplayLocation(location));
    return Status::Ok();
  }
  fmt::print("{:<32} {:>7}  {}\n", "MODEL", "LATEST", "ALIASES");
  for (const auto& m : out) {
    std::vector<std::string> aliases;
    for (const auto& [alias, version] : m["aliases"].items()) {
      aliases.push_back(fmt::format("{}={}", alias, version.get<int>()));
    }
    fmt::print("{:<32} {:>7}  {}\n", m["name"].get<std::string>(), m["latest_version"].get<int>(),
               fmt::join(aliases, ", "));
  }
  return Status::Ok();
}

void PrintVersion(const json& v) {
  const auto aliases = v["aliases"].get<std::vector<std::string>>();
  fmt::print("Version {}{}\n", v["version"].get<int>(),
             aliases.empty() ? "" : fmt::format(" ({})", fmt::join(aliases, ", ")));
  fmt::print("  Path:        {}\n", v["path"].get<std::string>());
  fmt::print("  Registered:  {}\n", v["created_at"].get<std::string>());
  const json validation = v["metrics"].is_object() ? v["metrics"].value("validation", json::object()) : json::object();
  if (validation.is_object() && validation.contains("weighted_f1") && validation["weighted_f1"].is_number()) {
    fmt::print("  Validation:  weighted F1 {:.4f}\n", validation["weighted_f1"].get<double>());
  }
  if (v["lineage"].is_object()) {
    for (const auto& [key, value] : v["lineage"].items()) {
      fmt::print("  {:<12} {}\n", key + ":", value.is_string() ? value.get<std::string>() : value.dump());
    }
  }
}

Status Describe(const RegistryFlags& f) {
  WHARF_ASSIGN_OR_RETURN(control::ModelRef ref, control::ParseModelRef(f.spec));
  const std::string& name = ref.model;
  WHARF_ASSIGN_OR_RETURN(auto store, OpenForRead(f, name));
  std::vector<store::ModelVersion> versions;
  if (ref.version_or_alias) {
    WHARF_ASSIGN_OR_RETURN(store::ModelVersion v, store->GetModelVersion(name, *ref.version_or_alias));
    versions.push_back(std::move(v));
  } else {
    WHARF_ASSIGN_OR_RETURN(versions, store->ListModelVersions(name));
  }
  WHARF_ASSIGN_OR_RETURN(auto aliases, store->ListAliases(name));
  json out = {{"name", name}, {"aliases", aliases}, {"versions", json::array()}};
  for (const auto& v : versions) out["versions"].push_back(control::ModelVersionToJson(v, aliases));
  if (f.json) {
    fmt::print("{}\n", out.dump(2));
    return Status::Ok();
  }
  fmt::print("Model {}\n", name);
  for (const auto& v : out["versions"]) PrintVersion(v);
  return Status::Ok();
}

Status Alias(const RegistryFlags& f) {
  WHARF_ASSIGN_OR_RETURN(auto store, OpenForRead(f, f.name));
  WHARF_RETURN_IF_ERROR(store->SetAlias(f.name, f.alias, f.version));
  if (f.json) {
    fmt::print("{}\n", json{{"name", f.name}, {"alias", f.alias}, {"version", f.version}}.dump(2));
  } else {
    fmt::print("{}@{} -> version {}\n", f.name, f.alias, f.version);
  }
  return Status::Ok();
}

CLI::App* AddCommon(CLI::App& model, const char* name, const char* help, RegistryFlags& flags) {
  auto* cmd = model.add_subcommand(name, help);
  cmd->add_option("--store,--db", flags.db,
                  "Registry: a SQLite file or postgresql:// URL (default: $WHARF_STORE, else $WHARF_HOME/wharf.db, "
                  "else ~/.wharf/wharf.db)");
  cmd->add_flag("--json", flags.json, "Print JSON");
  return cmd;
}

}  // namespace

void AddModelRegistryCommands(CLI::App& model, const CommandContext& context) {
  auto reg = std::make_shared<RegistryFlags>();
  auto* cmd = AddCommon(model, "register", "Copy a Modelfile into the registry as the model's next version", *reg);
  cmd->add_option("name", reg->name, "Model name")->required();
  cmd->add_option("modelfile", reg->modelfile, "Modelfile")->required();
  cmd->add_option("--alias", reg->alias, "Point this alias at the new version");
  cmd->callback([reg, context] { *context.exit_code = ExitWith(Register(*reg)); });

  auto list = std::make_shared<RegistryFlags>();
  cmd = AddCommon(model, "list", "List registered models with their latest version and aliases", *list);
  cmd->callback([list, context] { *context.exit_code = ExitWith(List(*list)); });

  auto describe = std::make_shared<RegistryFlags>();
  cmd = AddCommon(model, "describe", "Show a model's versions, metrics, lineage and aliases", *describe);
  cmd->add_option("model", describe->spec, "NAME, NAME@VERSION or NAME@ALIAS")->required();
  cmd->callback([describe, context] { *context.exit_code = ExitWith(Describe(*describe)); });

  auto alias = std::make_shared<RegistryFlags>();
  cmd = AddCommon(model, "alias", "Point an alias of a model at one of its versions", *alias);
  cmd->add_option("name", alias->name, "Model name")->required();
  cmd->add_option("alias", alias->alias, "Alias")->required();
  cmd->add_option("version", alias->version, "Version number")->required();
  cmd->callback([alias, context] { *context.exit_code = ExitWith(Alias(*alias)); });
}

}  // namespace wharf::cli
