// The SQLite metadata store's model registry: immutable versions in
// `model_versions`, movable names for them in `model_aliases`.

#include <charconv>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "core/clock.h"
#include "store/sqlite_metadata_store.h"

namespace wharf::store {

namespace {

// Column order of every version SELECT; ReadVersion depends on it.
constexpr std::string_view kSelectVersion =
    "SELECT model, version, modelfile_path, metrics_json, lineage_json, created_us FROM model_versions ";

ModelVersion ReadVersion(const SqliteStatement& row) {
  ModelVersion version;
  version.model.assign(row.ColumnText(0));
  version.version = static_cast<int>(row.ColumnInt64(1));
  version.modelfile_path.assign(row.ColumnText(2));
  version.metrics_json.assign(row.ColumnText(3));
  version.lineage_json.assign(row.ColumnText(4));
  version.created_us = row.ColumnInt64(5);
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

}  // namespace

Result<int> SqliteMetadataStore::LatestModelVersion(std::string_view model) {
  WHARF_ASSIGN_OR_RETURN(SqliteStatement latest,
                         db_->Prepare("SELECT COALESCE(MAX(version), 0) FROM model_versions WHERE model = ?1"));
  latest.BindText(1, model);
  WHARF_ASSIGN_OR_RETURN(const bool has_row, latest.Step());
  return has_row ? static_cast<int>(latest.ColumnInt64(0)) : 0;
}

Status SqliteMetadataStore::MissingModelVersion(std::string_view model, std::int64_t version) {
  WHARF_ASSIGN_OR_RETURN(const int latest, LatestModelVersion(model));
  if (latest == 0) return UnknownModel(model);
  return NotFound(fmt::format("model '{}' has no version {}; its versions are 1 to {}", model, version, latest));
}

Result<int> SqliteMetadataStore::ResolveAlias(std::string_view model, std::string_view alias) {
  WHARF_ASSIGN_OR_RETURN(SqliteStatement select,
                         db_->Prepare("SELECT version FROM model_aliases WHERE model = ?1 AND alias = ?2"));
  select.BindText(1, model);
  select.BindText(2, alias);
  WHARF_ASSIGN_OR_RETURN(const bool found, select.Step());
  if (found) return static_cast<int>(select.ColumnInt64(0));
  WHARF_ASSIGN_OR_RETURN(const int latest, LatestModelVersion(model));
  if (latest == 0) return UnknownModel(model);
  WHARF_ASSIGN_OR_RETURN(SqliteStatement known,
                         db_->Prepare("SELECT alias FROM model_aliases WHERE model = ?1 ORDER BY alias"));
  known.BindText(1, model);
  std::string names;
  while (true) {
    WHARF_ASSIGN_OR_RETURN(const bool row, known.Step());
    if (!row) break;
    names += names.empty() ? "" : ", ";
    names += known.ColumnText(0);
  }
  return NotFound(
      fmt::format("model '{}' has no alias '{}'; its aliases: {}", model, alias, names.empty() ? "(none)" : names));
}

Result<ModelVersion> SqliteMetadataStore::RegisterModelVersion(std::string_view model, std::string_view modelfile_path,
                                                               std::string_view metrics_json,
                                                               std::string_view lineage_json) {
  WHARF_RETURN_IF_ERROR(ValidateName("model", model));
  ModelVersion version{.model = std::string(model),
                       .version = 1,
                       .modelfile_path = std::string(modelfile_path),
                       .metrics_json = std::string(metrics_json),
                       .lineage_json = std::string(lineage_json),
                       .created_us = NowMicros()};
  MutexLock lock(mu_);
  const auto store_version = [&]() WHARF_REQUIRES(mu_) -> Status {
    WHARF_ASSIGN_OR_RETURN(const int latest, LatestModelVersion(model));
    version.version = latest + 1;
    WHARF_ASSIGN_OR_RETURN(SqliteStatement insert,
                           db_->Prepare("INSERT INTO model_versions (model, version, modelfile_path, metrics_json, "
                                        "lineage_json, created_us) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"));
    insert.BindText(1, version.model);
    insert.BindInt64(2, version.version);
    insert.BindText(3, version.modelfile_path);
    insert.BindText(4, version.metrics_json);
    insert.BindText(5, version.lineage_json);
    insert.BindInt64(6, version.created_us);
    return insert.Step().status();
  };
  WHARF_RETURN_IF_ERROR(db_->WriteTransaction(store_version));
  return version;
}

Result<ModelVersion> SqliteMetadataStore::GetModelVersion(std::string_view model,
                                                          const std::variant<int, std::string>& version_or_alias) {
  MutexLock lock(mu_);
  std::int64_t number = 0;
  if (const int* version = std::get_if<int>(&version_or_alias)) {
    number = *version;
  } else if (const std::optional<std::int64_t> digits = AsNumber(std::get<std::string>(version_or_alias))) {
    number = *digits;
  } else {
    WHARF_ASSIGN_OR_RETURN(number, ResolveAlias(model, std::get<std::string>(version_or_alias)));
  }
  WHARF_ASSIGN_OR_RETURN(SqliteStatement select,
                         db_->Prepare(std::string(kSelectVersion) + "WHERE model = ?1 AND version = ?2"));
  select.BindText(1, model);
  select.BindInt64(2, number);
  WHARF_ASSIGN_OR_RETURN(const bool found, select.Step());
  if (found) return ReadVersion(select);
  return MissingModelVersion(model, number);
}

Result<std::vector<std::string>> SqliteMetadataStore::ListModels() {
  MutexLock lock(mu_);
  WHARF_ASSIGN_OR_RETURN(SqliteStatement select,
                         db_->Prepare("SELECT DISTINCT model FROM model_versions ORDER BY model"));
  std::vector<std::string> models;
  while (true) {
    WHARF_ASSIGN_OR_RETURN(const bool row, select.Step());
    if (!row) return models;
    models.emplace_back(select.ColumnText(0));
  }
}

Result<std::vector<ModelVersion>> SqliteMetadataStore::ListModelVersions(std::string_view model) {
  MutexLock lock(mu_);
  WHARF_ASSIGN_OR_RETURN(SqliteStatement select,
                         db_->Prepare(std::string(kSelectVersion) + "WHERE model = ?1 ORDER BY version"));
  select.BindText(1, model);
  std::vector<ModelVersion> versions;
  while (true) {
    WHARF_ASSIGN_OR_RETURN(const bool row, select.Step());
    if (!row) break;
    versions.push_back(ReadVersion(select));
  }
  if (versions.empty()) return UnknownModel(model);
  return versions;
}

Status SqliteMetadataStore::SetAlias(std::string_view model, std::string_view alias, int version) {
  WHARF_RETURN_IF_ERROR(ValidateModelAlias(alias).WithContext(fmt::format("model '{}'", model)));
  const std::int64_t now = NowMicros();
  MutexLock lock(mu_);
  return db_->WriteTransaction([&]() WHARF_REQUIRES(mu_) -> Status {
    WHARF_ASSIGN_OR_RETURN(SqliteStatement exists,
                           db_->Prepare("SELECT 1 FROM model_versions WHERE model = ?1 AND version = ?2"));
    exists.BindText(1, model);
    exists.BindInt64(2, version);
    WHARF_ASSIGN_OR_RETURN(const bool found, exists.Step());
    if (!found) return MissingModelVersion(model, version);
    WHARF_ASSIGN_OR_RETURN(SqliteStatement upsert,
                           db_->Prepare("INSERT INTO model_aliases (model, alias, version, updated_us) "
                                        "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (model, alias) "
                                        "DO UPDATE SET version = excluded.version, updated_us = excluded.updated_us"));
    upsert.BindText(1, model);
    upsert.BindText(2, alias);
    upsert.BindInt64(3, version);
    upsert.BindInt64(4, now);
    return upsert.Step().status();
  });
}

Result<std::map<std::string, int>> SqliteMetadataStore::ListAliases(std::string_view model) {
  MutexLock lock(mu_);
  WHARF_ASSIGN_OR_RETURN(const int latest, LatestModelVersion(model));
  if (latest == 0) return UnknownModel(model);
  WHARF_ASSIGN_OR_RETURN(SqliteStatement select,
                         db_->Prepare("SELECT alias, version FROM model_aliases WHERE model = ?1"));
  select.BindText(1, model);
  std::map<std::string, int> aliases;
  while (true) {
    WHARF_ASSIGN_OR_RETURN(const bool row, select.Step());
    if (!row) return aliases;
    aliases.emplace(select.ColumnText(0), static_cast<int>(select.ColumnInt64(1)));
  }
}

}  // namespace wharf::store
