// Opening the SQLite metadata store, and its task definitions: revisions of
// a name in `task_definitions`, whether the name is active in
// `task_definition_names`.

#include "store/sqlite_metadata_store.h"

#include <chrono>
#include <system_error>
#include <utility>

#include <fmt/format.h>

#include "core/clock.h"
#include "core/sha256.h"
#include "store/sqlite_migrations.h"

namespace wharf::store {

namespace {

// Column order of every definition SELECT; ReadDefinition depends on it.
constexpr std::string_view kSelectDefinition =
    "SELECT d.name, d.revision, d.spec_json, d.spec_sha256, n.active, d.created_us "
    "FROM task_definitions d JOIN task_definition_names n ON n.name = d.name ";

TaskDefinition ReadDefinition(const SqliteStatement& row) {
  TaskDefinition definition;
  definition.name.assign(row.ColumnText(0));
  definition.revision = static_cast<int>(row.ColumnInt64(1));
  definition.spec_json.assign(row.ColumnText(2));
  definition.spec_sha256.assign(row.ColumnText(3));
  definition.active = row.ColumnInt64(4) != 0;
  definition.created_us = row.ColumnInt64(5);
  return definition;
}

std::string HexSha256(std::string_view bytes) {
  Sha256 hasher;
  hasher.Update(bytes);
  return hasher.HexDigest();
}

}  // namespace

Result<std::unique_ptr<MetadataStore>> OpenSqliteMetadataStore(const std::filesystem::path& path) {
  WHARF_ASSIGN_OR_RETURN(std::unique_ptr<SqliteDatabase> db, SqliteDatabase::Open(path));
  WHARF_RETURN_IF_ERROR(db->EnableWal());
  // Metadata writes are few and each matters (a revision handed out, a task
  // started): every commit is fsynced.
  WHARF_RETURN_IF_ERROR(db->Exec("PRAGMA synchronous=FULL"));
  WHARF_RETURN_IF_ERROR(ApplySqliteMigrations(*db, SqliteMigrations()));
  return std::unique_ptr<MetadataStore>(std::make_unique<SqliteMetadataStore>(std::move(db)));
}

Result<TaskDefinition> SqliteMetadataStore::RegisterDefinition(std::string_view name, std::string_view spec_json) {
  WHARF_RETURN_IF_ERROR(ValidateName("task definition", name));
  if (spec_json.empty()) return InvalidArgument(fmt::format("task definition '{}': empty spec", name));
  TaskDefinition definition{.name = std::string(name),
                            .revision = 1,
                            .spec_json = std::string(spec_json),
                            .spec_sha256 = HexSha256(spec_json),
                            .active = true,
                            .created_us = NowMicros()};
  MutexLock lock(mu_);
  const auto store_revision = [&]() WHARF_REQUIRES(mu_) -> Status {
    WHARF_ASSIGN_OR_RETURN(SqliteStatement activate,
                           db_->Prepare("INSERT INTO task_definition_names (name, active) VALUES (?1, 1) "
                                        "ON CONFLICT (name) DO UPDATE SET active = 1"));
    activate.BindText(1, name);
    WHARF_RETURN_IF_ERROR(activate.Step());

    WHARF_ASSIGN_OR_RETURN(SqliteStatement latest,
                           db_->Prepare("SELECT revision, spec_sha256, created_us FROM task_definitions "
                                        "WHERE name = ?1 ORDER BY revision DESC LIMIT 1"));
    latest.BindText(1, name);
    WHARF_ASSIGN_OR_RETURN(const bool exists, latest.Step());
    if (exists) {
      definition.revision = static_cast<int>(latest.ColumnInt64(0));
      if (latest.ColumnText(1) == definition.spec_sha256) {  // unchanged: keep that revision
        definition.created_us = latest.ColumnInt64(2);
        return Status::Ok();
      }
      ++definition.revision;
    }
    latest.Reset();

    WHARF_ASSIGN_OR_RETURN(SqliteStatement insert,
                           db_->Prepare("INSERT INTO task_definitions (name, revision, spec_json, spec_sha256, "
                                        "created_us) VALUES (?1, ?2, ?3, ?4, ?5)"));
    insert.BindText(1, definition.name);
    insert.BindInt64(2, definition.revision);
    insert.BindText(3, definition.spec_json);
    insert.BindText(4, definition.spec_sha256);
    insert.BindInt64(5, definition.created_us);
    return insert.Step().status();
  };
  WHARF_RETURN_IF_ERROR(db_->WriteTransaction(store_revision));
  return definition;
}

Result<TaskDefinition> SqliteMetadataStore::GetDefinition(std::string_view name, std::optional<int> revision) {
  MutexLock lock(mu_);
  std::string sql(kSelectDefinition);
  sql += revision ? "WHERE d.name = ?1 AND d.revision = ?2" : "WHERE d.name = ?1 ORDER BY d.revision DESC LIMIT 1";
  WHARF_ASSIGN_OR_RETURN(SqliteStatement select, db_->Prepare(sql));
  select.BindText(1, name);
  if (revision) select.BindInt64(2, *revision);
  WHARF_ASSIGN_OR_RETURN(const bool found, select.Step());
  if (found) return ReadDefinition(select);
  if (!revision) return NotFound(fmt::format("task definition '{}' not found", name));

  WHARF_ASSIGN_OR_RETURN(SqliteStatement latest,
                         db_->Prepare("SELECT COALESCE(MAX(revision), 0) FROM task_definitions WHERE name = ?1"));
  latest.BindText(1, name);
  WHARF_ASSIGN_OR_RETURN(const bool has_row, latest.Step());
  const std::int64_t latest_revision = has_row ? latest.ColumnInt64(0) : 0;
  if (latest_revision == 0) {
    return NotFound(fmt::format("task definition '{}:{}' not found: no definition named '{}'", name, *revision, name));
  }
  return NotFound(fmt::format("task definition '{}:{}' not found: '{}' has revisions 1 to {}", name, *revision, name,
                              latest_revision));
}

Result<std::vector<TaskDefinition>> SqliteMetadataStore::ListDefinitions(bool include_inactive) {
  MutexLock lock(mu_);
  std::string sql(kSelectDefinition);
  sql += "WHERE d.revision = (SELECT MAX(r.revision) FROM task_definitions r WHERE r.name = d.name)";
  if (!include_inactive) sql += " AND n.active = 1";
  sql += " ORDER BY d.name";
  WHARF_ASSIGN_OR_RETURN(SqliteStatement select, db_->Prepare(sql));
  std::vector<TaskDefinition> definitions;
  while (true) {
    WHARF_ASSIGN_OR_RETURN(const bool row, select.Step());
    if (!row) return definitions;
    definitions.push_back(ReadDefinition(select));
  }
}

Status SqliteMetadataStore::DeregisterDefinition(std::string_view name) {
  MutexLock lock(mu_);
  WHARF_ASSIGN_OR_RETURN(SqliteStatement update,
                         db_->Prepare("UPDATE task_definition_names SET active = 0 WHERE name = ?1 RETURNING name"));
  update.BindText(1, name);
  WHARF_ASSIGN_OR_RETURN(const bool found, update.Step());
  if (!found) return NotFound(fmt::format("task definition '{}' not found", name));
  // Run to completion so the autocommit transaction commits here, where a
  // failure is reported, not when the statement is destroyed.
  return update.Step().status();
}

}  // namespace wharf::store
