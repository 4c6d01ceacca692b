#pragma once
// Numbered schema migrations for store's SQLite database.
//
// A database records the migrations it has had in
// `schema_migrations(version, applied_at)`. Opening it applies the pending
// ones in order, each in its own transaction, and refuses a database whose
// version is newer than this build knows. To change the schema, append a
// migration to the list in sqlite_migrations.cc; never edit one that shipped.
// A PostgreSQL backend keeps its own list with the same numbering.

#include <span>
#include <string_view>

#include "core/status.h"
#include "store/sqlite_database.h"

namespace wharf::store {

// One step of the schema: `sql` takes a database at version - 1 to `version`.
struct Migration {
  int version;
  std::string_view description;
  std::string_view sql;
};

// The migrations of store's SQLite database, versions 1, 2, ... in order:
// one list for every SQLite store (captures, metadata), so stores opened on
// the same file agree on its schema whichever opens it first.
std::span<const Migration> SqliteMigrations();

// The highest migration recorded in `db`, or 0 for a fresh database.
Result<int> SqliteSchemaVersion(SqliteDatabase& db);

// Applies the migrations in `migrations` (versions 1..N in order) that `db`
// lacks. Safe when several processes open a fresh database at once: each
// migration re-checks the version under the write lock. FailedPrecondition
// if the database is already past N (written by a newer wharf).
Status ApplySqliteMigrations(SqliteDatabase& db, std::span<const Migration> migrations);

}  // namespace wharf::store
