#include "store/sqlite_migrations.h"

#include <fmt/format.h>

namespace wharf::store {

namespace {

constexpr Migration kMigrations[] = {
    {1, "captures table",
     R"sql(
CREATE TABLE captures (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL,
  time_us INTEGER NOT NULL,
  endpoint TEXT NOT NULL,
  variant TEXT NOT NULL,
  model_version TEXT NOT NULL,
  shadow INTEGER NOT NULL,
  inputs TEXT NOT NULL,
  outputs TEXT NOT NULL,
  latency_ms REAL NOT NULL,
  status INTEGER NOT NULL
);
CREATE INDEX captures_endpoint_time ON captures (endpoint, time_us);
CREATE INDEX captures_endpoint_id ON captures (endpoint, id);
)sql"},
};

constexpr std::string_view kCreateMigrationsTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT)";

// Runs `migration` unless another process got there first. Call inside a
// write transaction.
Status ApplyOne(SqliteDatabase& db, const Migration& migration) {
  WHARF_RETURN_IF_ERROR(db.Exec(kCreateMigrationsTable));
  WHARF_ASSIGN_OR_RETURN(const int current, SqliteSchemaVersion(db));
  if (current >= migration.version) return Status::Ok();
  WHARF_RETURN_IF_ERROR(
      db.Exec(migration.sql).WithContext(fmt::format("migration {} ({})", migration.version, migration.description)));
  WHARF_ASSIGN_OR_RETURN(SqliteStatement record, db.Prepare("INSERT INTO schema_migrations (version, applied_at) "
                                                            "VALUES (?1, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))"));
  record.BindInt64(1, migration.version);
  return record.Step().status();
}

}  // namespace

std::span<const Migration> SqliteMigrations() { return kMigrations; }

Result<int> SqliteSchemaVersion(SqliteDatabase& db) {
  WHARF_ASSIGN_OR_RETURN(SqliteStatement exists,
                         db.Prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"));
  WHARF_ASSIGN_OR_RETURN(const bool has_table, exists.Step());
  if (!has_table) return 0;
  WHARF_ASSIGN_OR_RETURN(SqliteStatement max, db.Prepare("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"));
  WHARF_ASSIGN_OR_RETURN(const bool has_row, max.Step());
  if (!has_row) return 0;
  return static_cast<int>(max.ColumnInt64(0));
}

Status ApplySqliteMigrations(SqliteDatabase& db, std::span<const Migration> migrations) {
  for (std::size_t i = 0; i < migrations.size(); ++i) WHARF_CHECK(migrations[i].version == static_cast<int>(i) + 1);
  const int known = static_cast<int>(migrations.size());
  // Read without a write lock first: reopening an up-to-date database (the
  // common case, and what readers do while a writer appends) takes no lock.
  WHARF_ASSIGN_OR_RETURN(const int version, SqliteSchemaVersion(db));
  if (version > known) {
    return FailedPrecondition(fmt::format(
        "{}: database schema version {} is newer than this wharf build knows (up to {}); upgrade wharf or use "
        "another database",
        db.path().string(), version, known));
  }
  for (const Migration& migration : migrations.subspan(static_cast<std::size_t>(version))) {
    WHARF_RETURN_IF_ERROR(db.Exec("BEGIN IMMEDIATE"));
    const Status applied = ApplyOne(db, migration);
    if (!applied.ok()) {
      (void)db.Exec("ROLLBACK");
      return applied;
    }
    const Status committed = db.Exec("COMMIT");
    if (!committed.ok()) {
      (void)db.Exec("ROLLBACK");
      return committed;
    }
  }
  return Status::Ok();
}

}  // namespace wharf::store
