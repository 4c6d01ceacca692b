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
    // Metadata (metadata_store.h). Plain SQL types and constraints that
    // PostgreSQL's migrations can mirror; times are microseconds since the
    // Unix epoch, booleans 0/1, JSON documents TEXT.
    {2, "task definitions",
     R"sql(
CREATE TABLE task_definitions (
  name TEXT NOT NULL,
  revision INTEGER NOT NULL,
  spec_json TEXT NOT NULL,
  spec_sha256 TEXT NOT NULL,
  created_us BIGINT NOT NULL,
  UNIQUE (name, revision)
);
CREATE TABLE task_definition_names (
  name TEXT NOT NULL PRIMARY KEY,
  active INTEGER NOT NULL
);
)sql"},
    {3, "tasks",
     R"sql(
CREATE TABLE tasks (
  id TEXT NOT NULL PRIMARY KEY,
  definition TEXT NOT NULL,
  revision INTEGER NOT NULL,
  spec_json TEXT NOT NULL,
  state TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  max_attempts INTEGER NOT NULL,
  exit_code INTEGER,
  reason TEXT NOT NULL,
  handle TEXT NOT NULL,
  group_id TEXT NOT NULL,
  created_us BIGINT NOT NULL,
  started_us BIGINT NOT NULL,
  finished_us BIGINT NOT NULL,
  next_attempt_us BIGINT
);
CREATE INDEX tasks_created ON tasks (created_us, id);
CREATE INDEX tasks_state ON tasks (state, created_us);
CREATE INDEX tasks_definition ON tasks (definition, created_us);
CREATE INDEX tasks_group ON tasks (group_id, created_us);
)sql"},
    {4, "model registry",
     R"sql(
CREATE TABLE model_versions (
  model TEXT NOT NULL,
  version INTEGER NOT NULL,
  modelfile_path TEXT NOT NULL,
  metrics_json TEXT NOT NULL,
  lineage_json TEXT NOT NULL,
  created_us BIGINT NOT NULL,
  UNIQUE (model, version)
);
CREATE TABLE model_aliases (
  model TEXT NOT NULL,
  alias TEXT NOT NULL,
  version INTEGER NOT NULL,
  updated_us BIGINT NOT NULL,
  UNIQUE (model, alias)
);
)sql"},
    {5, "endpoints",
     R"sql(
CREATE TABLE endpoint_revisions (
  endpoint TEXT NOT NULL,
  revision INTEGER NOT NULL,
  spec_json TEXT NOT NULL,
  resolved_json TEXT NOT NULL,
  reason TEXT NOT NULL,
  created_us BIGINT NOT NULL,
  UNIQUE (endpoint, revision)
);
CREATE TABLE endpoint_names (
  name TEXT NOT NULL PRIMARY KEY,
  active INTEGER NOT NULL
);
CREATE TABLE endpoint_events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  endpoint TEXT NOT NULL,
  time_us BIGINT NOT NULL,
  kind TEXT NOT NULL,
  message TEXT NOT NULL,
  details_json TEXT NOT NULL
);
CREATE INDEX endpoint_events_endpoint_seq ON endpoint_events (endpoint, seq);
)sql"},
    {6, "task index",
     R"sql(
ALTER TABLE tasks ADD COLUMN task_index INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tasks ADD COLUMN task_count INTEGER NOT NULL DEFAULT 1;
)sql"},
    {7, "secrets",
     R"sql(
CREATE TABLE secrets (
  name TEXT NOT NULL PRIMARY KEY,
  version INTEGER NOT NULL,
  sealed TEXT NOT NULL,
  created_us BIGINT NOT NULL,
  updated_us BIGINT NOT NULL
);
CREATE TABLE secret_accesses (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL,
  action TEXT NOT NULL,
  actor TEXT NOT NULL,
  version INTEGER NOT NULL,
  time_us BIGINT NOT NULL
);
CREATE INDEX secret_accesses_name_seq ON secret_accesses (name, seq);
)sql"},
    {8, "services",
     R"sql(
CREATE TABLE services (
  name TEXT NOT NULL PRIMARY KEY,
  definition TEXT NOT NULL,
  desired INTEGER NOT NULL,
  active INTEGER NOT NULL,
  created_us BIGINT NOT NULL,
  updated_us BIGINT NOT NULL
);
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
