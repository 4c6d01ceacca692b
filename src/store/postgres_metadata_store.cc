// Opening the PostgreSQL metadata store, and its task definitions: revisions
// of a name in `task_definitions`, whether the name is active in
// `task_definition_names`.

#include "store/postgres_metadata_store.h"

#include <utility>

#include <fmt/format.h>

#include "core/clock.h"
#include "core/sha256.h"

namespace wharf::store {

namespace {

// Column order of every definition SELECT; ReadDefinition depends on it.
constexpr std::string_view kSelectDefinition =
    "SELECT d.name, d.revision, d.spec_json, d.spec_sha256, n.active, d.created_us "
    "FROM task_definitions d JOIN task_definition_names n ON n.name = d.name ";

TaskDefinition ReadDefinition(const pqxx::row& row) {
  TaskDefinition definition;
  row[0].to(definition.name);
  row[1].to(definition.revision);
  row[2].to(definition.spec_json);
  row[3].to(definition.spec_sha256);
  row[4].to(definition.active);
  row[5].to(definition.created_us);
  return definition;
}

std::string HexSha256(std::string_view bytes) {
  Sha256 hasher;
  hasher.Update(bytes);
  return hasher.HexDigest();
}

}  // namespace

Result<std::unique_ptr<MetadataStore>> OpenPostgresMetadataStore(std::string_view url) {
  WHARF_ASSIGN_OR_RETURN(std::unique_ptr<PostgresDatabase> db, PostgresDatabase::Open(url));
  return std::unique_ptr<MetadataStore>(std::make_unique<PostgresMetadataStore>(std::move(db)));
}

Result<TaskDefinition> PostgresMetadataStore::RegisterDefinition(std::string_view name, std::string_view spec_json) {
  WHARF_RETURN_IF_ERROR(ValidateName("task definition", name));
  if (spec_json.empty()) return InvalidArgument(fmt::format("task definition '{}': empty spec", name));
  TaskDefinition definition{.name = std::string(name),
                            .revision = 1,
                            .spec_json = std::string(spec_json),
                            .spec_sha256 = HexSha256(spec_json),
                            .active = true,
                            .created_us = NowMicros()};
  WHARF_RETURN_IF_ERROR(Transaction([&](pqxx::work& work) -> Status {
    // Locks the name's row until commit: concurrent registrations of one
    // name take turns, each reading the revision the previous one stored.
    work.exec_params(
        "INSERT INTO task_definition_names (name, active) VALUES ($1, true) "
        "ON CONFLICT (name) DO UPDATE SET active = true",
        definition.name);
    const pqxx::result latest = work.exec_params(
        "SELECT revision, spec_sha256, created_us FROM task_definitions WHERE name = $1 "
        "ORDER BY revision DESC LIMIT 1",
        definition.name);
    if (!latest.empty()) {
      definition.revision = latest[0][0].as<int>();
      if (latest[0][1].as<std::string>() == definition.spec_sha256) {  // unchanged: keep that revision
        definition.created_us = latest[0][2].as<std::int64_t>();
        return Status::Ok();
      }
      ++definition.revision;
    }
    work.exec_params(
        "INSERT INTO task_definitions (name, revision, spec_json, spec_sha256, created_us) "
        "VALUES ($1, $2, $3, $4, $5)",
        definition.name, definition.revision, definition.spec_json, definition.spec_sha256, definition.created_us);
    return Status::Ok();
  }));
  return definition;
}

Result<TaskDefinition> PostgresMetadataStore::GetDefinition(std::string_view name, std::optional<int> revision) {
  const std::string key(name);
  std::optional<TaskDefinition> found;
  int latest_revision = 0;
  WHARF_RETURN_IF_ERROR(Transaction([&](pqxx::work& work) -> Status {
    const pqxx::result rows =
        revision ? work.exec_params(std::string(kSelectDefinition) + "WHERE d.name = $1 AND d.revision = $2", key,
                                    *revision)
                 : work.exec_params(
                       std::string(kSelectDefinition) + "WHERE d.name = $1 ORDER BY d.revision DESC LIMIT 1", key);
    if (!rows.empty()) {
      found = ReadDefinition(rows[0]);
    } else if (revision) {
      latest_revision =
          work.exec_params("SELECT COALESCE(MAX(revision), 0) FROM task_definitions WHERE name = $1", key)[0][0]
              .as<int>();
    }
    return Status::Ok();
  }));
  if (found) return *std::move(found);
  if (!revision) return NotFound(fmt::format("task definition '{}' not found", name));
  if (latest_revision == 0) {
    return NotFound(fmt::format("task definition '{}:{}' not found: no definition named '{}'", name, *revision, name));
  }
  return NotFound(fmt::format("task definition '{}:{}' not found: '{}' has revisions 1 to {}", name, *revision, name,
                              latest_revision));
}

Result<std::vector<TaskDefinition>> PostgresMetadataStore::ListDefinitions(bool include_inactive) {
  std::string sql(kSelectDefinition);
  sql += "WHERE d.revision = (SELECT MAX(r.revision) FROM task_definitions r WHERE r.name = d.name)";
  if (!include_inactive) sql += " AND n.active";
  sql += " ORDER BY d.name COLLATE \"C\"";  // byte order, as SQLite sorts
  std::vector<TaskDefinition> definitions;
  WHARF_RETURN_IF_ERROR(Transaction([&](pqxx::work& work) -> Status {
    for (const pqxx::row& row : work.exec(sql)) definitions.push_back(ReadDefinition(row));
    return Status::Ok();
  }));
  return definitions;
}

Status PostgresMetadataStore::DeregisterDefinition(std::string_view name) {
  bool found = false;
  WHARF_RETURN_IF_ERROR(Transaction([&](pqxx::work& work) -> Status {
    found = work.exec_params("UPDATE task_definition_names SET active = false WHERE name = $1", std::string(name))
                .affected_rows() > 0;
    return Status::Ok();
  }));
  if (!found) return NotFound(fmt::format("task definition '{}' not found", name));
  return Status::Ok();
}

}  // namespace wharf::store
