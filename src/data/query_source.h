#pragma once
// Tables in databases, named by URL where a CSV path is expected:
//
//   sqlite:///abs/path.db?query=SELECT ...       (sqlite://relative/path.db too)
//   postgresql://user@host:port/db?password_secret=NAME&query=SELECT ...
//
// Reading streams the query's rows into the FeatureReader (so the Dataset)
// the CSV reader gives: columns picked by name the same way, numbers (of any
// numeric type, or numeric text) become features, NULL is a missing value,
// the label is the value as text. Writing (`table=NAME`) stores rows in a
// new table, all or nothing. `query=` comes last and is taken verbatim to
// the end (SQL needs no URL encoding); other parameters are percent-decoded,
// and PostgreSQL's own (sslmode, ...) pass through to libpq.
// Not thread-safe: one reader or writer per thread.

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "data/dataset.h"

namespace wharf::data {

// What a location names in a database.
struct QueryLocation {
  enum class Engine { kSqlite, kPostgres };
  Engine engine = Engine::kSqlite;
  std::string target;           // SQLite: the file; PostgreSQL: the URL less wharf's parameters
  std::string query;            // query=: what to read
  std::string table;            // table=: where to write
  std::string if_exists;        // if_exists=fail|replace|append: when the table exists (default fail)
  std::string password_secret;  // password_secret=: the secret holding the password (PostgreSQL)

  // For messages: the target without a password, and the query or table.
  std::string Display() const;
};

// Looks a secret's value up by name (the CLI reads the local secret store).
using SecretLookup = std::function<Result<std::string>(const std::string& name)>;

// True for a sqlite://, postgresql:// or postgres:// location.
bool IsQueryLocation(std::string_view location);

// InvalidArgument naming the location (without a password) for an unknown
// parameter, a missing file path, or a parameter given twice.
Result<QueryLocation> ParseQueryLocation(std::string_view location);

// A reader over the rows of `location`'s query. InvalidArgument for a
// location without a query, a query that writes or holds several
// statements, or one the database refuses (its message quoted); NotFound
// for a missing SQLite file; Unavailable when PostgreSQL cannot be reached;
// NotFound naming a missing column as for a CSV. `secrets` resolves
// password_secret (a location naming one needs it).
Result<std::unique_ptr<FeatureReader>> OpenQueryReader(const QueryLocation& location, const ColumnSpec& spec,
                                                       const SecretLookup& secrets);

// A CSV path or a query location: the reader for it.
Result<std::unique_ptr<FeatureReader>> OpenFeatureSource(const std::string& location, const ColumnSpec& spec,
                                                         const SecretLookup& secrets);
// Reads all of it, like ReadDataset (InvalidArgument without rows; sha256 set).
Result<Dataset> ReadFeatureSource(const std::string& location, const ColumnSpec& spec, const SecretLookup& secrets);

// A column of a table to write.
struct TableColumn {
  enum class Type { kInteger, kReal, kText };
  std::string name;
  Type type = Type::kText;
};

// One row's values, in column order: a text column takes `text`, a numeric
// one `number`.
struct TableCell {
  std::string text;
  double number = 0;
};

// Writes rows into a new table inside one transaction: nothing is visible
// until Commit, and a writer destroyed without Commit leaves the database
// as it was.
class TableWriter {
 public:
  virtual ~TableWriter() = default;
  virtual Status Append(const std::vector<TableCell>& row) = 0;
  virtual Status Commit() = 0;
};

// Creates `location`'s table with `columns` (names quoted as identifiers).
// InvalidArgument without table=, for a table name outside
// [A-Za-z_][A-Za-z0-9_]*, or when it exists and if_exists is fail.
Result<std::unique_ptr<TableWriter>> OpenTableWriter(const QueryLocation& location,
                                                     const std::vector<TableColumn>& columns,
                                                     const SecretLookup& secrets);

}  // namespace wharf::data
