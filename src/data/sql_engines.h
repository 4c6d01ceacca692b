#pragma once
// SQLite and PostgreSQL behind query_source.h, internal to data: a cursor
// over a read-only query's rows as text, and a transactional table writer.
// Not thread-safe.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "data/query_source.h"

namespace wharf::data::sql {

// A value as text; nullopt for NULL.
using Cell = std::optional<std::string>;

// The rows of a query, in batches.
class Cursor {
 public:
  virtual ~Cursor() = default;
  virtual const std::vector<std::string>& columns() const = 0;
  // The next row into `row` (one cell per column); false at the end.
  // InvalidArgument for a value that has no text form (a BLOB).
  virtual Result<bool> Next(std::vector<Cell>& row) = 0;
};

// Runs `query` read-only. `password` is for PostgreSQL (empty: libpq's
// defaults, e.g. $PGPASSWORD).
Result<std::unique_ptr<Cursor>> OpenSqliteCursor(const QueryLocation& location);
Result<std::unique_ptr<Cursor>> OpenPostgresCursor(const QueryLocation& location, const std::string& password);

Result<std::unique_ptr<TableWriter>> OpenSqliteWriter(const QueryLocation& location,
                                                      const std::vector<TableColumn>& columns);
Result<std::unique_ptr<TableWriter>> OpenPostgresWriter(const QueryLocation& location,
                                                        const std::vector<TableColumn>& columns,
                                                        const std::string& password);

}  // namespace wharf::data::sql
