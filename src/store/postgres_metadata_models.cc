// The PostgreSQL metadata store's model registry: immutable versions in
// `model_versions`, movable names for them in `model_aliases`.

#include <charconv>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "core/clock.h"
#include "store/postgres_metadata_store.h"

namespace wharf::store {

namespace {

// Column order of every version SELECT; ReadVersion depends on it.
constexpr std::string_view kSelectVersion =
    "SELECT model, version, modelfile_path, metrics_json, lineage_json, created_us FROM model_versions ";

// The first key of a model's advisory lock (the second is a hash of its
// name): registrations of one model take turns.
constexpr int kModelLockClass = 0x77686d76;  // "whmv"

ModelVersion ReadVersion(const pqxx::row& row) {
  ModelVersion version;
  row[0].to(version.model);
  row[1].to(version.version);
  row[2].to(version.modelfile_path);
  row[3].to(version.metrics_json);
  row[4].to(version.lineage_json);
  row[5].to(version.created_us);
  return version;
}

Status UnknownModel(std::string_view model) { return NotFound(fmt::format("model '{}' not found", model)); }

// The number `text` spells, if it is only digits.
std::optional<std::int64_t> AsNumber(std::string_view text) {
  std::int64_t number = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (text.empty() || text.front() == '-' || error != std::errc() || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return number;
}

// The highest version of `model`, 0 when it has none.
int LatestVersion(pqxx::work& work, const std::string& model) {
  return work.exec_params("SELECT COALESCE(MAX(version), 0) FROM model_versions WHERE model = $1", model)[0][0]
      .as<int>();
}

// NotFound for version `version` of `model`, saying what does exist.
Status MissingVersion(pqxx::work& work, const std::string& model, std::int64_t version) {
  const int latest = LatestVersion(work, model);
  if (latest == 0) return UnknownModel(model);
  return NotFound(fmt::format("model '{}' has no version {}; its versions are 1 to {}", model, version, latest));
}

Result<std::int64_t> ResolveAlias(pqxx::work& work, const std::string& model, const std::string& alias) {
  const pqxx::result found =
      work.exec_params("SELECT version FROM model_aliases WHERE model = $1 AND alias = $2", model, alias);
  if (!found.empty()) return found[0][0].as<std::int64_t>();
  if (LatestVersion(work, model) == 0) return UnknownModel(model);
  std::string names;
  for (const pqxx::row& row :
       work.exec_params("SELECT alias FROM model_aliases WHERE model = $1 ORDER BY alias COLLATE \"C\"", model)) {
    names += names.empty() ? "" : ", ";
    names += row[0].c_str();
  }
  return NotFound(
      fmt::format("model '{}' has no alias '{}'; its aliases: {}", model, alias, names.empty() ? "(none)" : names));
}

}  // namespace

Result<ModelVersion> PostgresMetadataStore::RegisterModelVersion(std::string_view model,
                                                                 std::string_view modelfile_path,
                                                                 std::string_view metrics_json,
                                                                 std::string_view lineage_json) {
  WHARF_RETURN_IF_ERROR(ValidateName("model", model));
  ModelVersion version{.model = std::string(model),
                       .version = 1,
                       .modelfile_path = std::string(modelfile_path),
                       .metrics_json = std::string(metrics_json),
                       .lineage_json = std::string(lineage_json),
                       .created_us = NowMicros()};
  WHARF_RETURN_IF_ERROR(Transaction([&](pqxx::work& work) -> Status {
    // Held until commit, so the next registration of this model reads this
    // one's version (hash collisions only make two models take turns).
    work.exec_params("SELECT pg_advisory_xact_lock($1, hashtext($2))", kModelLockClass, version.model);
    version.version = LatestVersion(work, version.model) + 1;
    work.exec_params(
        "INSERT INTO model_versions (model, version, modelfile_path, metrics_json, lineage_json, created_us) "
        "VALUES ($1, $2, $3, $4, $5, $6)",
        version.model, version.version, version.modelfile_path, version.metrics_json, version.lineage_json,
        version.created_us);
    return Status::Ok();
  }));
  return version;
}

Result<ModelVersion> PostgresMetadataStore::GetModelVersion(std::string_view model,
                                                            const std::variant<int, std::string>& version_or_alias) {
  const std::string name(model);
  std::optional<ModelVersion> found;
  WHARF_RETURN_IF_ERROR(Transaction([&](pqxx::work& work) -> Status {
    std::int64_t number = 0;
    if (const int* version = std::get_if<int>(&version_or_alias)) {
      number = *version;
    } else if (const std::optional<std::int64_t> digits = AsNumber(std::get<std::string>(version_or_alias))) {
      number = *digits;
    } else {
      WHARF_ASSIGN_OR_RETURN(number, ResolveAlias(work, name, std::get<std::string>(version_or_alias)));
    }
    const pqxx::result rows =
        work.exec_params(std::string(kSelectVersion) + "WHERE model = $1 AND version = $2", name, number);
    if (rows.empty()) return MissingVersion(work, name, number);
    found = ReadVersion(rows[0]);
    return Status::Ok();
  }));
  return *std::move(found);
}

Result<std::vector<std::string>> PostgresMetadataStore::ListModels() {
  std::vector<std::string> models;
  WHARF_RETURN_IF_ERROR(Transaction([&](pqxx::work& work) -> Status {
    for (const pqxx::row& row : work.exec("SELECT DISTINCT model COLLATE \"C\" FROM model_versions ORDER BY 1")) {
      models.emplace_back(row[0].c_str());
    }
    return Status::Ok();
  }));
  return models;
}

Result<std::vector<ModelVersion>> PostgresMetadataStore::ListModelVersions(std::string_view model) {
  std::vector<ModelVersion> versions;
  WHARF_RETURN_IF_ERROR(Transaction([&](pqxx::work& work) -> Status {
    for (const pqxx::row& row :
         work.exec_params(std::string(kSelectVersion) + "WHERE model = $1 ORDER BY version", std::string(model))) {
      versions.push_back(ReadVersion(row));
    }
    return Status::Ok();
  }));
  if (versions.empty()) return UnknownModel(model);
  return versions;
}

Status PostgresMetadataStore::SetAlias(std::string_view model, std::string_view alias, int version) {
  WHARF_RETURN_IF_ERROR(ValidateModelAlias(alias).WithContext(fmt::format("model '{}'", model)));
  const std::int64_t now = NowMicros();
  const std::string name(model);
  return Transaction([&](pqxx::work& work) -> Status {
    if (work.exec_params("SELECT 1 FROM model_versions WHERE model = $1 AND version = $2", name, version).empty()) {
      return MissingVersion(work, name, version);
    }
    work.exec_params(
        "INSERT INTO model_aliases (model, alias, version, updated_us) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT (model, alias) DO UPDATE SET version = excluded.version, updated_us = excluded.updated_us",
        name, std::string(alias), version, now);
    return Status::Ok();
  });
}

Result<std::map<std::string, int>> PostgresMetadataStore::ListAliases(std::string_view model) {
  const std::string name(model);
  bool known = true;
  std::map<std::string, int> aliases;
  WHARF_RETURN_IF_ERROR(Transaction([&](pqxx::work& work) -> Status {
    known = LatestVersion(work, name) != 0;
    if (!known) return Status::Ok();
    for (const pqxx::row& row : work.exec_params("SELECT alias, version FROM model_aliases WHERE model = $1", name)) {
      aliases.emplace(row[0].c_str(), row[1].as<int>());
    }
    return Status::Ok();
  }));
  if (!known) return UnknownModel(model);
  return aliases;
}

}  // namespace wharf::store
