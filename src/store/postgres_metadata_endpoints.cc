// The PostgreSQL metadata store's endpoints: revisions of an endpoint in
// `endpoint_revisions`, whether it is active (not deleted) in
// `endpoint_names`, and its event log in `endpoint_events`.

#include <algorithm>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "core/clock.h"
#include "store/postgres_metadata_store.h"

namespace wharf::store {

namespace {

// Column order of every revision SELECT; ReadRevision depends on it.
constexpr std::string_view kSelectRevision =
    "SELECT r.endpoint, r.revision, r.spec_json, r.resolved_json, r.reason, n.active, r.created_us "
    "FROM endpoint_revisions r JOIN endpoint_names n ON n.name = r.endpoint ";

// The first key of an endpoint's event-log advisory lock (the second is a
// hash of its name): appends to one endpoint's log commit in seq order.
constexpr int kEndpointEventLockClass = 0x77686576;  // "whev"

EndpointRevision ReadRevision(const pqxx::row& row) {
  EndpointRevision revision;
  row[0].to(revision.endpoint);
  row[1].to(revision.revision);
  row[2].to(revision.spec_json);
  row[3].to(revision.resolved_json);
  row[4].to(revision.reason);
  row[5].to(revision.active);
  row[6].to(revision.created_us);
  return revision;
}

Status UnknownEndpoint(std::string_view endpoint) {
  return NotFound(fmt::format("endpoint '{}' not found", endpoint));
}

}  // namespace

Result<EndpointRevision> PostgresMetadataStore::AppendEndpointRevision(std::string_view endpoint,
                                                                       std::string_view spec_json,
                                                                       std::string_view resolved_json,
                                                                       std::string_view reason) {
  WHARF_RETURN_IF_ERROR(ValidateName("endpoint", endpoint));
  if (spec_json.empty()) return InvalidArgument(fmt::format("endpoint '{}': empty spec", endpoint));
  EndpointRevision revision{.endpoint = std::string(endpoint),
                            .revision = 1,
                            .spec_json = std::string(spec_json),
                            .resolved_json = std::string(resolved_json),
                            .reason = std::string(reason),
                            .active = true,
                            .created_us = NowMicros()};
  WHARF_RETURN_IF_ERROR(Transaction([&](pqxx::work& work) -> Status {
    // Locks the name's row until commit: concurrent appends to one endpoint
    // take turns, each reading the revision the previous one stored.
    work.exec_params(
        "INSERT INTO endpoint_names (name, active) VALUES ($1, true) ON CONFLICT (name) DO UPDATE SET active = true",
        revision.endpoint);
    revision.revision =
        work.exec_params("SELECT COALESCE(MAX(revision), 0) FROM endpoint_revisions WHERE endpoint = $1",
                         revision.endpoint)[0][0]
            .as<int>() +
        1;
    work.exec_params(
        "INSERT INTO endpoint_revisions (endpoint, revision, spec_json, resolved_json, reason, created_us) "
        "VALUES ($1, $2, $3, $4, $5, $6)",
        revision.endpoint, revision.revision, revision.spec_json, revision.resolved_json, revision.reason,
        revision.created_us);
    return Status::Ok();
  }));
  return revision;
}

Result<EndpointRevision> PostgresMetadataStore::GetEndpointRevision(std::string_view endpoint,
                                                                    std::optional<int> revision) {
  const std::string key(endpoint);
  std::optional<EndpointRevision> found;
  int latest_revision = 0;
  WHARF_RETURN_IF_ERROR(Transaction([&](pqxx::work& work) -> Status {
    const pqxx::result rows =
        revision ? work.exec_params(std::string(kSelectRevision) + "WHERE r.endpoint = $1 AND r.revision = $2", key,
                                    *revision)
                 : work.exec_params(
                       std::string(kSelectRevision) + "WHERE r.endpoint = $1 ORDER BY r.revision DESC LIMIT 1", key);
    if (!rows.empty()) {
      found = ReadRevision(rows[0]);
    } else if (revision) {
      latest_revision =
          work.exec_params("SELECT COALESCE(MAX(revision), 0) FROM endpoint_revisions WHERE endpoint = $1", key)[0][0]
              .as<int>();
    }
    return Status::Ok();
  }));
  if (found) return *std::move(found);
  if (!revision) return UnknownEndpoint(endpoint);
  if (latest_revision == 0) {
    return NotFound(fmt::format("endpoint '{}:{}' not found: no endpoint named '{}'", endpoint, *revision, endpoint));
  }
  return NotFound(fmt::format("endpoint '{}:{}' not found: '{}' has revisions 1 to {}", endpoint, *revision, endpoint,
                              latest_revision));
}

Result<std::vector<EndpointRevision>> PostgresMetadataStore::ListEndpointRevisions(std::string_view endpoint) {
  std::vector<EndpointRevision> revisions;
  WHARF_RETURN_IF_ERROR(Transaction([&](pqxx::work& work) -> Status {
    for (const pqxx::row& row : work.exec_params(
             std::string(kSelectRevision) + "WHERE r.endpoint = $1 ORDER BY r.revision", std::string(endpoint))) {
      revisions.push_back(ReadRevision(row));
    }
    return Status::Ok();
  }));
  if (revisions.empty()) return UnknownEndpoint(endpoint);
  return revisions;
}

Result<std::vector<EndpointRevision>> PostgresMetadataStore::ListEndpoints(bool include_inactive) {
  std::string sql(kSelectRevision);
  sql += "WHERE r.revision = (SELECT MAX(l.revision) FROM endpoint_revisions l WHERE l.endpoint = r.endpoint)";
  if (!include_inactive) sql += " AND n.active";
  sql += " ORDER BY r.endpoint COLLATE \"C\"";  // byte order, as SQLite sorts
  std::vector<EndpointRevision> revisions;
  WHARF_RETURN_IF_ERROR(Transaction([&](pqxx::work& work) -> Status {
    for (const pqxx::row& row : work.exec(sql)) revisions.push_back(ReadRevision(row));
    return Status::Ok();
  }));
  return revisions;
}

Status PostgresMetadataStore::DeleteEndpoint(std::string_view endpoint) {
  bool found = false;
  WHARF_RETURN_IF_ERROR(Transaction([&](pqxx::work& work) -> Status {
    found = work.exec_params("UPDATE endpoint_names SET active = false WHERE name = $1", std::string(endpoint))
                .affected_rows() > 0;
    return Status::Ok();
  }));
  if (!found) return UnknownEndpoint(endpoint);
  return Status::Ok();
}

Result<EndpointEvent> PostgresMetadataStore::AppendEndpointEvent(const EndpointEvent& event) {
  WHARF_RETURN_IF_ERROR(ValidateName("endpoint", event.endpoint).WithContext("endpoint event"));
  if (event.kind.empty()) return InvalidArgument(fmt::format("endpoint '{}': event without a kind", event.endpoint));
  EndpointEvent stored = event;
  if (stored.time_us == 0) stored.time_us = NowMicros();
  if (stored.details_json.empty()) stored.details_json = "{}";
  WHARF_RETURN_IF_ERROR(Transaction([&](pqxx::work& work) -> Status {
    // Held until commit: a later append to this endpoint draws a higher seq
    // and commits after this one, so a reader never sees seq N+1 before N.
    work.exec_params("SELECT pg_advisory_xact_lock($1, hashtext($2))", kEndpointEventLockClass, stored.endpoint);
    stored.seq = work.exec_params(
                         "INSERT INTO endpoint_events (endpoint, time_us, kind, message, details_json) "
                         "VALUES ($1, $2, $3, $4, $5) RETURNING seq",
                         stored.endpoint, stored.time_us, stored.kind, stored.message, stored.details_json)[0][0]
                     .as<std::int64_t>();
    return Status::Ok();
  }));
  return stored;
}

Result<std::vector<EndpointEvent>> PostgresMetadataStore::ListEndpointEvents(std::string_view endpoint,
                                                                             std::int64_t after_seq,
                                                                             std::size_t limit) {
  constexpr auto kMax = static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max());
  // LIMIT NULL is no limit.
  const std::optional<std::int64_t> bound =
      limit == 0 ? std::nullopt : std::optional<std::int64_t>(static_cast<std::int64_t>(std::min(limit, kMax)));
  std::vector<EndpointEvent> events;
  WHARF_RETURN_IF_ERROR(Transaction([&](pqxx::work& work) -> Status {
    for (const pqxx::row& row :
         work.exec_params("SELECT seq, endpoint, time_us, kind, message, details_json FROM endpoint_events "
                          "WHERE endpoint = $1 AND seq > $2 ORDER BY seq DESC LIMIT $3",
                          std::string(endpoint), after_seq, bound)) {
      EndpointEvent& event = events.emplace_back();
      row[0].to(event.seq);
      row[1].to(event.endpoint);
      row[2].to(event.time_us);
      row[3].to(event.kind);
      row[4].to(event.message);
      row[5].to(event.details_json);
    }
    return Status::Ok();
  }));
  return events;
}

}  // namespace wharf::store
