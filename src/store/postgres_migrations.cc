#include "store/postgres_migrations.h"

#include <fmt/format.h>

#include "store/postgres_database.h"

namespace wharf::store {

namespace {

// Times are microseconds since the Unix epoch (BIGINT) as in SQLite;
// booleans are BOOLEAN, JSON documents TEXT.
constexpr Migration kMigrations[] = {
    {1, "captures table",
     R"sql(
CREATE TABLE captures (
  seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id TEXT NOT NULL,
  time_us BIGINT NOT NULL,
  endpoint TEXT NOT NULL,
  variant TEXT NOT NULL,
  model_version TEXT NOT NULL,
  shadow BOOLEAN NOT NULL,
  inputs TEXT NOT NULL,
  outputs TEXT NOT NULL,
  latency_ms DOUBLE PRECISION NOT NULL,
  status INTEGER NOT NULL
);
CREATE INDEX captures_endpoint_time ON captures (endpoint, time_us);
CREATE INDEX captures_endpoint_id ON captures (endpoint, id);
)sql"},
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
  active BOOLEAN NOT NULL
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
  active BOOLEAN NOT NULL
);
CREATE TABLE endpoint_events (
  seq BIGSERIAL PRIMARY KEY,
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
  seq BIGSERIAL PRIMARY KEY,
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

// The advisory lock key of migrations ("wharfmig"); model registration locks
// use the two-key form, whose key space is separate.
constexpr long long kMigrationLock = 0x77686172666d6967;

}  // namespace

std::span<const Migration> PostgresMigrations() { return kMigrations; }

Status ApplyPostgresMigrations(PostgresDatabase& db, std::span<const Migration> migrations) {
  for (std::size_t i = 0; i < migrations.size(); ++i) WHARF_CHECK(migrations[i].version == static_cast<int>(i) + 1);
  const int known = static_cast<int>(migrations.size());
  return db.Transaction([&](pqxx::work& work) -> Status {
    work.exec_params("SELECT pg_advisory_xact_lock($1)", kMigrationLock);
    work.exec(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
        "applied_at TIMESTAMPTZ NOT NULL DEFAULT now())");
    const int version = work.exec("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")[0][0].as<int>();
    if (version > known) {
      return FailedPrecondition(fmt::format(
          "{}: database schema version {} is newer than this wharf build knows (up to {}); upgrade wharf or use "
          "another database",
          db.url(), version, known));
    }
    for (const Migration& migration : migrations.subspan(static_cast<std::size_t>(version))) {
      try {
        work.exec(std::string(migration.sql));
      } catch (const std::exception& error) {
        return db.Error(error, fmt::format("migration {} ({})", migration.version, migration.description));
      }
      work.exec_params("INSERT INTO schema_migrations (version) VALUES ($1)", migration.version);
    }
    return Status::Ok();
  });
}

}  // namespace wharf::store
