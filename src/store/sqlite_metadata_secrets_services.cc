// The SQLite metadata store's secrets (the current sealed value of each in
// `secrets`, every access in `secret_accesses`) and services (`services`).

#include <algorithm>
#include <limits>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "core/clock.h"
#include "store/sqlite_metadata_store.h"

namespace wharf::store {

namespace {

Status UnknownSecret(std::string_view name) { return NotFound(fmt::format("secret '{}' not found", name)); }

}  // namespace

Result<SecretRecord> SqliteMetadataStore::PutSecret(std::string_view name, std::string_view sealed) {
  WHARF_RETURN_IF_ERROR(ValidateName("secret", name));
  if (sealed.empty()) return InvalidArgument(fmt::format("secret '{}': empty value", name));
  SecretRecord record{.name = std::string(name), .sealed = std::string(sealed), .updated_us = NowMicros()};
  MutexLock lock(mu_);
  WHARF_ASSIGN_OR_RETURN(
      SqliteStatement upsert,
      db_->Prepare("INSERT INTO secrets (name, version, sealed, created_us, updated_us) VALUES (?1, 1, ?2, ?3, ?3) "
                   "ON CONFLICT (name) DO UPDATE SET version = version + 1, sealed = excluded.sealed, "
                   "updated_us = excluded.updated_us RETURNING version, created_us"));
  upsert.BindText(1, record.name);
  upsert.BindText(2, record.sealed);
  upsert.BindInt64(3, record.updated_us);
  WHARF_ASSIGN_OR_RETURN(const bool row, upsert.Step());
  if (!row) return Internal(fmt::format("secret '{}': the upsert returned no row", name));
  record.version = static_cast<int>(upsert.ColumnInt64(0));
  record.created_us = upsert.ColumnInt64(1);
  WHARF_RETURN_IF_ERROR(upsert.Step().status());  // commits here, where a failure is reported
  return record;
}

Result<SecretRecord> SqliteMetadataStore::GetSecret(std::string_view name) {
  MutexLock lock(mu_);
  WHARF_ASSIGN_OR_RETURN(SqliteStatement select,
                         db_->Prepare("SELECT version, sealed, created_us, updated_us FROM secrets WHERE name = ?1"));
  select.BindText(1, name);
  WHARF_ASSIGN_OR_RETURN(const bool row, select.Step());
  if (!row) return UnknownSecret(name);
  return SecretRecord{.name = std::string(name),
                      .version = static_cast<int>(select.ColumnInt64(0)),
                      .sealed = std::string(select.ColumnText(1)),
                      .created_us = select.ColumnInt64(2),
                      .updated_us = select.ColumnInt64(3)};
}

Result<std::vector<SecretRecord>> SqliteMetadataStore::ListSecrets() {
  MutexLock lock(mu_);
  WHARF_ASSIGN_OR_RETURN(SqliteStatement select,
                         db_->Prepare("SELECT name, version, created_us, updated_us FROM secrets ORDER BY name"));
  std::vector<SecretRecord> secrets;
  while (true) {
    WHARF_ASSIGN_OR_RETURN(const bool row, select.Step());
    if (!row) return secrets;
    secrets.push_back(SecretRecord{.name = std::string(select.ColumnText(0)),
                                   .version = static_cast<int>(select.ColumnInt64(1)),
                                   .created_us = select.ColumnInt64(2),
                                   .updated_us = select.ColumnInt64(3)});
  }
}

Status SqliteMetadataStore::RemoveSecret(std::string_view name) {
  MutexLock lock(mu_);
  WHARF_ASSIGN_OR_RETURN(SqliteStatement remove, db_->Prepare("DELETE FROM secrets WHERE name = ?1 RETURNING name"));
  remove.BindText(1, name);
  WHARF_ASSIGN_OR_RETURN(const bool found, remove.Step());
  if (!found) return UnknownSecret(name);
  return remove.Step().status();
}

Result<SecretAccess> SqliteMetadataStore::AppendSecretAccess(const SecretAccess& access) {
  if (access.name.empty() || access.action.empty() || access.actor.empty()) {
    return InvalidArgument("secret access: name, action and actor are required");
  }
  SecretAccess stored = access;
  if (stored.time_us == 0) stored.time_us = NowMicros();
  MutexLock lock(mu_);
  WHARF_ASSIGN_OR_RETURN(SqliteStatement insert,
                         db_->Prepare("INSERT INTO secret_accesses (name, action, actor, version, time_us) "
                                      "VALUES (?1, ?2, ?3, ?4, ?5) RETURNING seq"));
  insert.BindText(1, stored.name);
  insert.BindText(2, stored.action);
  insert.BindText(3, stored.actor);
  insert.BindInt64(4, stored.version);
  insert.BindInt64(5, stored.time_us);
  WHARF_ASSIGN_OR_RETURN(const bool row, insert.Step());
  if (!row) return Internal("secret access: the insert returned no row");
  stored.seq = insert.ColumnInt64(0);
  WHARF_RETURN_IF_ERROR(insert.Step().status());
  return stored;
}

Result<std::vector<SecretAccess>> SqliteMetadataStore::ListSecretAccesses(std::string_view name, std::size_t limit) {
  constexpr auto kMax = static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max());
  MutexLock lock(mu_);
  WHARF_ASSIGN_OR_RETURN(SqliteStatement select,
                         db_->Prepare("SELECT seq, name, action, actor, version, time_us FROM secret_accesses "
                                      "WHERE ?1 = '' OR name = ?1 ORDER BY seq DESC LIMIT ?2"));
  select.BindText(1, name);
  select.BindInt64(2, limit == 0 ? -1 : static_cast<std::int64_t>(std::min(limit, kMax)));  // -1: no limit
  std::vector<SecretAccess> accesses;
  while (true) {
    WHARF_ASSIGN_OR_RETURN(const bool row, select.Step());
    if (!row) return accesses;
    accesses.push_back(SecretAccess{.seq = select.ColumnInt64(0),
                                    .name = std::string(select.ColumnText(1)),
                                    .action = std::string(select.ColumnText(2)),
                                    .actor = std::string(select.ColumnText(3)),
                                    .version = static_cast<int>(select.ColumnInt64(4)),
                                    .time_us = select.ColumnInt64(5)});
  }
}

}  // namespace wharf::store

// Services: a row per name, like secrets.
namespace wharf::store {

Result<ServiceRecord> SqliteMetadataStore::PutService(const ServiceRecord& record) {
  WHARF_RETURN_IF_ERROR(ValidateService(record));
  ServiceRecord stored = record;
  stored.updated_us = NowMicros();
  MutexLock lock(mu_);
  WHARF_ASSIGN_OR_RETURN(
      SqliteStatement upsert,
      db_->Prepare("INSERT INTO services (name, definition, desired, active, created_us, updated_us) "
                   "VALUES (?1, ?2, ?3, ?4, ?5, ?5) ON CONFLICT (name) DO UPDATE SET definition = excluded.definition, "
                   "desired = excluded.desired, active = excluded.active, updated_us = excluded.updated_us "
                   "RETURNING created_us"));
  upsert.BindText(1, stored.name);
  upsert.BindText(2, stored.definition);
  upsert.BindInt64(3, stored.desired);
  upsert.BindInt64(4, stored.active ? 1 : 0);
  upsert.BindInt64(5, stored.updated_us);
  WHARF_ASSIGN_OR_RETURN(const bool row, upsert.Step());
  if (!row) return Internal(fmt::format("service '{}': the upsert returned no row", stored.name));
  stored.created_us = upsert.ColumnInt64(0);
  WHARF_RETURN_IF_ERROR(upsert.Step().status());
  return stored;
}

namespace {

constexpr std::string_view kSelectService =
    "SELECT name, definition, desired, active, created_us, updated_us FROM services ";

ServiceRecord ReadService(const SqliteStatement& row) {
  return ServiceRecord{.name = std::string(row.ColumnText(0)),
                       .definition = std::string(row.ColumnText(1)),
                       .desired = static_cast<int>(row.ColumnInt64(2)),
                       .active = row.ColumnInt64(3) != 0,
                       .created_us = row.ColumnInt64(4),
                       .updated_us = row.ColumnInt64(5)};
}

}  // namespace

Result<ServiceRecord> SqliteMetadataStore::GetService(std::string_view name) {
  MutexLock lock(mu_);
  WHARF_ASSIGN_OR_RETURN(SqliteStatement select, db_->Prepare(std::string(kSelectService) + "WHERE name = ?1"));
  select.BindText(1, name);
  WHARF_ASSIGN_OR_RETURN(const bool row, select.Step());
  if (!row) return NotFound(fmt::format("service '{}' not found", name));
  return ReadService(select);
}

Result<std::vector<ServiceRecord>> SqliteMetadataStore::ListServices(bool include_inactive) {
  MutexLock lock(mu_);
  WHARF_ASSIGN_OR_RETURN(SqliteStatement select,
                         db_->Prepare(std::string(kSelectService) + "WHERE ?1 OR active = 1 ORDER BY name"));
  select.BindInt64(1, include_inactive ? 1 : 0);
  std::vector<ServiceRecord> services;
  while (true) {
    WHARF_ASSIGN_OR_RETURN(const bool row, select.Step());
    if (!row) return services;
    services.push_back(ReadService(select));
  }
}

}  // namespace wharf::store
