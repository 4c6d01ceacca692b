#pragma once
// Numbered schema migrations for store's PostgreSQL database: the same
// numbering and the same `schema_migrations(version, applied_at)` record as
// the SQLite list (sqlite_migrations.h), in PostgreSQL's types. Migration N
// here creates what migration N there does. To change the schema, append to
// both lists; never edit a migration that shipped.

#include <span>

#include "core/status.h"
#include "store/sqlite_migrations.h"  // Migration

namespace wharf::store {

class PostgresDatabase;

// The migrations of store's PostgreSQL database, versions 1, 2, ... in order.
std::span<const Migration> PostgresMigrations();

// Applies the migrations in `migrations` (versions 1..N in order) that the
// database lacks, all in one transaction that first takes a transaction-level
// advisory lock, so processes opening a fresh database at once take turns and
// each migration runs exactly once. FailedPrecondition if the database is
// already past N (written by a newer wharf).
Status ApplyPostgresMigrations(PostgresDatabase& db, std::span<const Migration> migrations);

}  // namespace wharf::store
