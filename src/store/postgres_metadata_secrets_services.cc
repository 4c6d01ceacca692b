// The PostgreSQL metadata store's secrets (the current sealed value of each
// in `secrets`, every access in `secret_accesses`) and services (`services`).

#include <algorithm>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "core/clock.h"
#include "store/postgres_metadata_store.h"

namespace wharf::store {

namespace {

Status UnknownSecret(std::string_view name) { return NotFound(fmt::format("secret '{}' not found", name)); }

}  // namespace

Result<SecretRecord> PostgresMetadataStore::PutSecret(std::string_view name, std::string_view sealed) {
  WHARF_RETURN_IF_ERROR(ValidateName("secret", name));
  if (sealed.empty()) return InvalidArgument(fmt::format("secret '{}': empty value", name));
  SecretRecord record{.name = std::string(name), .sealed = std::string(sealed), .updated_us = NowMicros()};
  WHARF_RETURN_IF_ERROR(Transaction([&](pqxx::work& work) -> Status {
    const pqxx::row row = work.exec_params1(
        "INSERT INTO secrets (name, version, sealed, created_us, updated_us) VALUES ($1, 1, $2, $3, $3) "
        "ON CONFLICT (name) DO UPDATE SET version = secrets.version + 1, sealed = excluded.sealed, "
        "updated_us = excluded.updated_us RETURNING version, created_us",
        record.name, record.sealed, record.updated_us);
    row[0].to(record.version);
    row[1].to(record.created_us);
    return Status::Ok();
  }));
  return record;
}

Result<SecretRecord> PostgresMetadataStore::GetSecret(std::string_view name) {
  std::optional<SecretRecord> record;
  WHARF_RETURN_IF_ERROR(Transaction([&](pqxx::work& work) -> Status {
    const pqxx::result rows = work.exec_params(
        "SELECT version, sealed, created_us, updated_us FROM secrets WHERE name = $1", std::string(name));
    if (rows.empty()) return Status::Ok();
    record.emplace();
    record->name = name;
    rows[0][0].to(record->version);
    rows[0][1].to(record->sealed);
    rows[0][2].to(record->created_us);
    rows[0][3].to(record->updated_us);
    return Status::Ok();
  }));
  if (!record) return UnknownSecret(name);
  return *std::move(record);
}

Result<std::vector<SecretRecord>> PostgresMetadataStore::ListSecrets() {
  std::vector<SecretRecord> secrets;
  WHARF_RETURN_IF_ERROR(Transaction([&](pqxx::work& work) -> Status {
    for (const pqxx::row& row : work.exec("SELECT name, version, created_us, updated_us FROM secrets ORDER BY name")) {
      SecretRecord& record = secrets.emplace_back();
      row[0].to(record.name);
      row[1].to(record.version);
      row[2].to(record.created_us);
      row[3].to(record.updated_us);
    }
    return Status::Ok();
  }));
  return secrets;
}

Status PostgresMetadataStore::RemoveSecret(std::string_view name) {
  bool found = false;
  WHARF_RETURN_IF_ERROR(Transaction([&](pqxx::work& work) -> Status {
    found = !work.exec_params("DELETE FROM secrets WHERE name = $1 RETURNING name", std::string(name)).empty();
    return Status::Ok();
  }));
  return found ? Status::Ok() : UnknownSecret(name);
}

Result<SecretAccess> PostgresMetadataStore::AppendSecretAccess(const SecretAccess& access) {
  if (access.name.empty() || access.action.empty() || access.actor.empty()) {
    return InvalidArgument("secret access: name, action and actor are required");
  }
  SecretAccess stored = access;
  if (stored.time_us == 0) stored.time_us = NowMicros();
  WHARF_RETURN_IF_ERROR(Transaction([&](pqxx::work& work) -> Status {
    work.exec_params1(
            "INSERT INTO secret_accesses (name, action, actor, version, time_us) VALUES ($1, $2, $3, $4, $5) "
            "RETURNING seq",
            stored.name, stored.action, stored.actor, stored.version, stored.time_us)[0]
        .to(stored.seq);
    return Status::Ok();
  }));
  return stored;
}

Result<std::vector<SecretAccess>> PostgresMetadataStore::ListSecretAccesses(std::string_view name,
                                                                           std::size_t limit) {
  constexpr auto kMax = static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max());
  // LIMIT NULL is no limit.
  const std::optional<std::int64_t> bound =
      limit == 0 ? std::nullopt : std::optional<std::int64_t>(static_cast<std::int64_t>(std::min(limit, kMax)));
  std::vector<SecretAccess> accesses;
  WHARF_RETURN_IF_ERROR(Transaction([&](pqxx::work& work) -> Status {
    for (const pqxx::row& row :
         work.exec_params("SELECT seq, name, action, actor, version, time_us FROM secret_accesses "
                          "WHERE $1 = '' OR name = $1 ORDER BY seq DESC LIMIT $2",
                          std::string(name), bound)) {
      SecretAccess& access = accesses.emplace_back();
      row[0].to(access.seq);
      row[1].to(access.name);
      row[2].to(access.action);
      row[3].to(access.actor);
      row[4].to(access.version);
      row[5].to(access.time_us);
    }
    return Status::Ok();
  }));
  return accesses;
}

}  // namespace wharf::store

// Services: a row per name, like secrets.
namespace wharf::store {

namespace {

constexpr std::string_view kSelectService =
    "SELECT name, definition, desired, active, created_us, updated_us FROM services ";

ServiceRecord ReadService(const pqxx::row& row) {
  ServiceRecord record;
  row[0].to(record.name);
  row[1].to(record.definition);
  row[2].to(record.desired);
  record.active = row[3].as<int>() != 0;
  row[4].to(record.created_us);
  row[5].to(record.updated_us);
  return record;
}

}  // namespace

Result<ServiceRecord> PostgresMetadataStore::PutService(const ServiceRecord& record) {
  WHARF_RETURN_IF_ERROR(ValidateService(record));
  ServiceRecord stored = record;
  stored.updated_us = NowMicros();
  WHARF_RETURN_IF_ERROR(Transaction([&](pqxx::work& work) -> Status {
    work.exec_params1(
            "INSERT INTO services (name, definition, desired, active, created_us, updated_us) "
            "VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (name) DO UPDATE SET definition = excluded.definition, "
            "desired = excluded.desired, active = excluded.active, updated_us = excluded.updated_us "
            "RETURNING created_us",
            stored.name, stored.definition, stored.desired, stored.active ? 1 : 0, stored.updated_us)[0]
        .to(stored.created_us);
    return Status::Ok();
  }));
  return stored;
}

Result<ServiceRecord> PostgresMetadataStore::GetService(std::string_view name) {
  std::optional<ServiceRecord> found;
  WHARF_RETURN_IF_ERROR(Transaction([&](pqxx::work& work) -> Status {
    const pqxx::result rows = work.exec_params(std::string(kSelectService) + "WHERE name = $1", std::string(name));
    if (!rows.empty()) found = ReadService(rows[0]);
    return Status::Ok();
  }));
  if (!found) return NotFound(fmt::format("service '{}' not found", name));
  return *std::move(found);
}

Result<std::vector<ServiceRecord>> PostgresMetadataStore::ListServices(bool include_inactive) {
  std::vector<ServiceRecord> services;
  WHARF_RETURN_IF_ERROR(Transaction([&](pqxx::work& work) -> Status {
    for (const pqxx::row& row : work.exec_params(std::string(kSelectService) + "WHERE $1 OR active = 1 ORDER BY name",
                                                 include_inactive)) {
      services.push_back(ReadService(row));
    }
    return Status::Ok();
  }));
  return services;
}

}  // namespace wharf::store
