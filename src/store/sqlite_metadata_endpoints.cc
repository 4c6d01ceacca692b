// The SQLite metadata store's endpoints: revisions of an endpoint in
// `endpoint_revisions`, whether it is active (not deleted) in
// `endpoint_names`, and its event log in `endpoint_events`.

#include <algorithm>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "core/clock.h"
#include "store/sqlite_metadata_store.h"

namespace wharf::store {

namespace {

// Column order of every revision SELECT; ReadRevision depends on it.
constexpr std::string_view kSelectRevision =
    "SELECT r.endpoint, r.revision, r.spec_json, r.resolved_json, r.reason, n.active, r.created_us "
    "FROM endpoint_revisions r JOIN endpoint_names n ON n.name = r.endpoint ";

EndpointRevision ReadRevision(const SqliteStatement& row) {
  EndpointRevision revision;
  revision.endpoint.assign(row.ColumnText(0));
  revision.revision = static_cast<int>(row.ColumnInt64(1));
  revision.spec_json.assign(row.ColumnText(2));
  revision.resolved_json.assign(row.ColumnText(3));
  revision.reason.assign(row.ColumnText(4));
  revision.active = row.ColumnInt64(5) != 0;
  revision.created_us = row.ColumnInt64(6);
  return revision;
}

Status UnknownEndpoint(std::string_view endpoint) {
  return NotFound(fmt::format("endpoint '{}' not found", endpoint));
}

Result<std::vector<EndpointRevision>> ReadRevisions(SqliteStatement& select) {
  std::vector<EndpointRevision> revisions;
  while (true) {
    WHARF_ASSIGN_OR_RETURN(const bool row, select.Step());
    if (!row) return revisions;
    revisions.push_back(ReadRevision(select));
  }
}

}  // namespace

Result<EndpointRevision> SqliteMetadataStore::AppendEndpointRevision(std::string_view endpoint,
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
  MutexLock lock(mu_);
  const auto store_revision = [&]() WHARF_REQUIRES(mu_) -> Status {
    WHARF_ASSIGN_OR_RETURN(SqliteStatement activate,
                           db_->Prepare("INSERT INTO endpoint_names (name, active) VALUES (?1, 1) "
                                        "ON CONFLICT (name) DO UPDATE SET active = 1"));
    activate.BindText(1, revision.endpoint);
    WHARF_RETURN_IF_ERROR(activate.Step());

    WHARF_ASSIGN_OR_RETURN(SqliteStatement latest,
                           db_->Prepare("SELECT COALESCE(MAX(revision), 0) FROM endpoint_revisions "
                                        "WHERE endpoint = ?1"));
    latest.BindText(1, revision.endpoint);
    WHARF_ASSIGN_OR_RETURN(const bool has_row, latest.Step());
    revision.revision = (has_row ? static_cast<int>(latest.ColumnInt64(0)) : 0) + 1;
    latest.Reset();

    WHARF_ASSIGN_OR_RETURN(SqliteStatement insert,
                           db_->Prepare("INSERT INTO endpoint_revisions (endpoint, revision, spec_json, "
                                        "resolved_json, reason, created_us) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"));
    insert.BindText(1, revision.endpoint);
    insert.BindInt64(2, revision.revision);
    insert.BindText(3, revision.spec_json);
    insert.BindText(4, revision.resolved_json);
    insert.BindText(5, revision.reason);
    insert.BindInt64(6, revision.created_us);
    return insert.Step().status();
  };
  WHARF_RETURN_IF_ERROR(db_->WriteTransaction(store_revision));
  return revision;
}

Result<EndpointRevision> SqliteMetadataStore::GetEndpointRevision(std::string_view endpoint,
                                                                  std::optional<int> revision) {
  MutexLock lock(mu_);
  std::string sql(kSelectRevision);
  sql += revision ? "WHERE r.endpoint = ?1 AND r.revision = ?2"
                  : "WHERE r.endpoint = ?1 ORDER BY r.revision DESC LIMIT 1";
  WHARF_ASSIGN_OR_RETURN(SqliteStatement select, db_->Prepare(sql));
  select.BindText(1, endpoint);
  if (revision) select.BindInt64(2, *revision);
  WHARF_ASSIGN_OR_RETURN(const bool found, select.Step());
  if (found) return ReadRevision(select);
  if (!revision) return UnknownEndpoint(endpoint);

  WHARF_ASSIGN_OR_RETURN(SqliteStatement latest,
                         db_->Prepare("SELECT COALESCE(MAX(revision), 0) FROM endpoint_revisions WHERE endpoint = ?1"));
  latest.BindText(1, endpoint);
  WHARF_ASSIGN_OR_RETURN(const bool has_row, latest.Step());
  const std::int64_t latest_revision = has_row ? latest.ColumnInt64(0) : 0;
  if (latest_revision == 0) {
    return NotFound(fmt::format("endpoint '{}:{}' not found: no endpoint named '{}'", endpoint, *revision, endpoint));
  }
  return NotFound(fmt::format("endpoint '{}:{}' not found: '{}' has revisions 1 to {}", endpoint, *revision, endpoint,
                              latest_revision));
}

Result<std::vector<EndpointRevision>> SqliteMetadataStore::ListEndpointRevisions(std::string_view endpoint) {
  MutexLock lock(mu_);
  WHARF_ASSIGN_OR_RETURN(SqliteStatement select,
                         db_->Prepare(std::string(kSelectRevision) + "WHERE r.endpoint = ?1 ORDER BY r.revision"));
  select.BindText(1, endpoint);
  WHARF_ASSIGN_OR_RETURN(std::vector<EndpointRevision> revisions, ReadRevisions(select));
  if (revisions.empty()) return UnknownEndpoint(endpoint);
  return revisions;
}

Result<std::vector<EndpointRevision>> SqliteMetadataStore::ListEndpoints(bool include_inactive) {
  MutexLock lock(mu_);
  std::string sql(kSelectRevision);
  sql += "WHERE r.revision = (SELECT MAX(l.revision) FROM endpoint_revisions l WHERE l.endpoint = r.endpoint)";
  if (!include_inactive) sql += " AND n.active = 1";
  sql += " ORDER BY r.endpoint";
  WHARF_ASSIGN_OR_RETURN(SqliteStatement select, db_->Prepare(sql));
  return ReadRevisions(select);
}

Status SqliteMetadataStore::DeleteEndpoint(std::string_view endpoint) {
  MutexLock lock(mu_);
  WHARF_ASSIGN_OR_RETURN(SqliteStatement update,
                         db_->Prepare("UPDATE endpoint_names SET active = 0 WHERE name = ?1 RETURNING name"));
  update.BindText(1, endpoint);
  WHARF_ASSIGN_OR_RETURN(const bool found, update.Step());
  if (!found) return UnknownEndpoint(endpoint);
  // Run to completion so the autocommit transaction commits here, where a
  // failure is reported, not when the statement is destroyed.
  return update.Step().status();
}

Result<EndpointEvent> SqliteMetadataStore::AppendEndpointEvent(const EndpointEvent& event) {
  WHARF_RETURN_IF_ERROR(ValidateName("endpoint", event.endpoint).WithContext("endpoint event"));
  if (event.kind.empty()) return InvalidArgument(fmt::format("endpoint '{}': event without a kind", event.endpoint));
  EndpointEvent stored = event;
  if (stored.time_us == 0) stored.time_us = NowMicros();
  if (stored.details_json.empty()) stored.details_json = "{}";
  MutexLock lock(mu_);
  WHARF_ASSIGN_OR_RETURN(SqliteStatement insert,
                         db_->Prepare("INSERT INTO endpoint_events (endpoint, time_us, kind, message, details_json) "
                                      "VALUES (?1, ?2, ?3, ?4, ?5) RETURNING seq"));
  insert.BindText(1, stored.endpoint);
  insert.BindInt64(2, stored.time_us);
  insert.BindText(3, stored.kind);
  insert.BindText(4, stored.message);
  insert.BindText(5, stored.details_json);
  WHARF_ASSIGN_OR_RETURN(const bool returned, insert.Step());
  if (!returned) return Internal(fmt::format("endpoint '{}': event insert returned no seq", stored.endpoint));
  stored.seq = insert.ColumnInt64(0);
  // Run to completion so the autocommit transaction commits here.
  WHARF_RETURN_IF_ERROR(insert.Step());
  return stored;
}

Result<std::vector<EndpointEvent>> SqliteMetadataStore::ListEndpointEvents(std::string_view endpoint,
                                                                           std::int64_t after_seq,
                                                                           std::size_t limit) {
  constexpr auto kMax = static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max());
  MutexLock lock(mu_);
  WHARF_ASSIGN_OR_RETURN(SqliteStatement select,
                         db_->Prepare("SELECT seq, endpoint, time_us, kind, message, details_json FROM endpoint_events "
                                      "WHERE endpoint = ?1 AND seq > ?2 ORDER BY seq DESC LIMIT ?3"));
  select.BindText(1, endpoint);
  select.BindInt64(2, after_seq);
  select.BindInt64(3, limit == 0 ? -1 : static_cast<std::int64_t>(std::min(limit, kMax)));  // -1: no limit
  std::vector<EndpointEvent> events;
  while (true) {
    WHARF_ASSIGN_OR_RETURN(const bool row, select.Step());
    if (!row) return events;
    EndpointEvent& event = events.emplace_back();
    event.seq = select.ColumnInt64(0);
    event.endpoint.assign(select.ColumnText(1));
    event.time_us = select.ColumnInt64(2);
    event.kind.assign(select.ColumnText(3));
    event.message.assign(select.ColumnText(4));
    event.details_json.assign(select.ColumnText(5));
  }
}

}  // namespace wharf::store
