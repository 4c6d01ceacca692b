#include "data/sql_engines.h"

#include <sqlite3.h>

#include <cstring>

#include <fmt/format.h>
#include <pqxx/pqxx>

namespace wharf::data::sql {

namespace {

constexpr std::size_t kCursorStride = 4096;  // PostgreSQL rows fetched per round trip

// `name` as a quoted SQL identifier: "name", with " doubled.
std::string QuoteIdentifier(std::string_view name) {
  std::string out = "\"";
  for (const char c : name) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

// A CREATE TABLE's column list, REAL columns as `real_type`.
std::string ColumnList(const std::vector<TableColumn>& columns, std::string_view real_type) {
  std::string out;
  for (const auto& c : columns) {
    if (!out.empty()) out += ", ";
    const std::string_view type = c.type == TableColumn::Type::kText      ? "TEXT"
                                  : c.type == TableColumn::Type::kInteger ? "BIGINT"
                                                                          : real_type;
    out += fmt::format("{} {}", QuoteIdentifier(c.name), type);
  }
  return out;
}

// SQLite: a prepared statement stepped row by row.
class SqliteCursor final : public Cursor {
 public:
  ~SqliteCursor() override {
    sqlite3_finalize(statement_);
    sqlite3_close_v2(db_);
  }

  static Result<std::unique_ptr<Cursor>> Open(const QueryLocation& location) {
    auto cursor = std::unique_ptr<SqliteCursor>(new SqliteCursor());
    const int opened = sqlite3_open_v2(location.target.c_str(), &cursor->db_, SQLITE_OPEN_READONLY, nullptr);
    if (opened != SQLITE_OK) {
      const std::string why = cursor->db_ ? sqlite3_errmsg(cursor->db_) : sqlite3_errstr(opened);
      if (opened == SQLITE_CANTOPEN) return NotFound(fmt::format("{}: cannot open the database: {}", location.Display(), why));
      return InvalidArgument(fmt::format("{}: cannot open the database: {}", location.Display(), why));
    }
    sqlite3_busy_timeout(cursor->db_, 10'000);
    const char* tail = nullptr;
    if (sqlite3_prepare_v2(cursor->db_, location.query.c_str(), static_cast<int>(location.query.size()),
                           &cursor->statement_, &tail) != SQLITE_OK) {
      return InvalidArgument(fmt::format("{}: the query failed: {}", location.Display(), sqlite3_errmsg(cursor->db_)));
    }
    if (cursor->statement_ == nullptr) return InvalidArgument(fmt::format("{}: the query is empty", location.Display()));
    for (; tail != nullptr && *tail != '\0'; ++tail) {
      if (std::strchr(" \t\r\n;", *tail) == nullptr) {
        return InvalidArgument(fmt::format("{}: the query must be one statement", location.Display()));
      }
    }
    if (!sqlite3_stmt_readonly(cursor->statement_)) {
      return InvalidArgument(fmt::format("{}: the query must only read (a SELECT)", location.Display()));
    }
    for (int i = 0; i < sqlite3_column_count(cursor->statement_); ++i) {
      cursor->columns_.emplace_back(sqlite3_column_name(cursor->statement_, i));
    }
    cursor->display_ = location.Display();
    return std::unique_ptr<Cursor>(std::move(cursor));
  }

  const std::vector<std::string>& columns() const override { return columns_; }

  Result<bool> Next(std::vector<Cell>& row) override {
    if (done_) return false;  // stepping again would run the query anew
    const int stepped = sqlite3_step(statement_);
    if (stepped == SQLITE_DONE) {
      done_ = true;
      return false;
    }
    if (stepped != SQLITE_ROW) return InvalidArgument(fmt::format("{}: the query failed: {}", display_, sqlite3_errmsg(db_)));
    ++rows_;
    row.resize(columns_.size());
    for (std::size_t i = 0; i < columns_.size(); ++i) {
      const int c = static_cast<int>(i);
      switch (sqlite3_column_type(statement_, c)) {
        case SQLITE_NULL:
          row[i].reset();
          break;
        case SQLITE_BLOB:
          return InvalidArgument(fmt::format("{}: row {}, column '{}': a BLOB, expected a number or text", display_,
                                             rows_, columns_[i]));
        default:  // INTEGER, REAL (as "%!.15g", so 7.4 reads back as 7.4) and TEXT
          row[i].emplace(reinterpret_cast<const char*>(sqlite3_column_text(statement_, c)),
                         static_cast<std::size_t>(sqlite3_column_bytes(statement_, c)));
      }
    }
    return true;
  }

 private:
  SqliteCursor() = default;
  sqlite3* db_ = nullptr;
  sqlite3_stmt* statement_ = nullptr;
  std::vector<std::string> columns_;
  std::string display_;
  std::size_t rows_ = 0;
  bool done_ = false;
};

// libpq's URL with the password added as a parameter.
std::string ConnectionUrl(const QueryLocation& location, const std::string& password) {
  if (password.empty()) return location.target;
  std::string encoded;
  for (const unsigned char c : password) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      encoded += static_cast<char>(c);
    } else {
      encoded += fmt::format("%{:02X}", c);
    }
  }
  return location.target + (location.target.find('?') == std::string::npos ? "?" : "&") + "password=" + encoded;
}

// libpqxx's messages end in a newline and may span lines: one line for people.
std::string OneLine(const std::exception& e) {
  std::string text = e.what();
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  for (char& c : text) {
    if (c == '\n') c = ' ';
  }
  return text;
}

Result<std::unique_ptr<pqxx::connection>> Connect(const QueryLocation& location, const std::string& password) {
  try {
    return std::make_unique<pqxx::connection>(ConnectionUrl(location, password));
  } catch (const pqxx::broken_connection& e) {
    return Unavailable(fmt::format("{}: cannot connect: {}", location.Display(), OneLine(e)));
  } catch (const std::exception& e) {
    return InvalidArgument(fmt::format("{}: cannot connect: {}", location.Display(), OneLine(e)));
  }
}

// PostgreSQL: a cursor in a read-only transaction, fetched kCursorStride rows at a time.
class PostgresCursor final : public Cursor {
 public:
  static Result<std::unique_ptr<Cursor>> Open(const QueryLocation& location, const std::string& password) {
    auto cursor = std::unique_ptr<PostgresCursor>(new PostgresCursor());
    cursor->display_ = location.Display();
    WHARF_ASSIGN_OR_RETURN(cursor->connection_, Connect(location, password));
    try {
      cursor->work_ = std::make_unique<pqxx::read_transaction>(*cursor->connection_);
      // A DECLARE takes one statement and the transaction is READ ONLY: a
      // query that writes, or holds two statements, is refused by the server.
      cursor->stream_ = std::make_unique<pqxx::icursorstream>(*cursor->work_, location.query, "wharf_source",
                                                              kCursorStride);
      cursor->Fetch();
      for (pqxx::row::size_type i = 0; i < cursor->batch_.columns(); ++i) {  // described even when it has no rows
        cursor->columns_.emplace_back(cursor->batch_.column_name(i));
        cursor->types_.push_back(cursor->batch_.column_type(i));
      }
      if (cursor->columns_.empty()) return InvalidArgument(fmt::format("{}: the query returned no columns", cursor->display_));
    } catch (const std::exception& e) {
      return InvalidArgument(fmt::format("{}: the query failed: {}", cursor->display_, OneLine(e)));
    }
    return std::unique_ptr<Cursor>(std::move(cursor));
  }

  const std::vector<std::string>& columns() const override { return columns_; }

  Result<bool> Next(std::vector<Cell>& row) override {
    try {
      if (next_ >= batch_.size() && (done_ || !Fetch())) return false;
      const pqxx::row r = batch_[static_cast<pqxx::result::size_type>(next_++)];
      row.resize(columns_.size());
      for (std::size_t i = 0; i < columns_.size(); ++i) {
        const pqxx::field f = r[static_cast<pqxx::row::size_type>(i)];
        if (f.is_null()) {
          row[i].reset();
        } else if (types_[i] == kBoolOid) {
          row[i].emplace(f.c_str()[0] == 't' ? "1" : "0");
        } else if (types_[i] == kByteaOid) {
          return InvalidArgument(fmt::format("{}: column '{}': bytea, expected a number or text", display_,
                                             columns_[i]));
        } else {
          row[i].emplace(f.c_str(), f.size());
        }
      }
      return true;
    } catch (const std::exception& e) {
      return InvalidArgument(fmt::format("{}: the query failed: {}", display_, OneLine(e)));
    }
  }

 private:
  static constexpr pqxx::oid kBoolOid = 16, kByteaOid = 17;

  PostgresCursor() = default;

  // Reads the next batch (never empty while it returns true); false once
  // the cursor is exhausted.
  bool Fetch() {
    next_ = 0;
    done_ = !(*stream_ >> batch_);
    return !done_;
  }

  std::string display_;
  std::unique_ptr<pqxx::connection> connection_;
  std::unique_ptr<pqxx::read_transaction> work_;
  std::unique_ptr<pqxx::icursorstream> stream_;
  std::vector<std::string> columns_;
  std::vector<pqxx::oid> types_;
  pqxx::result batch_;
  std::size_t next_ = 0;
  bool done_ = false;
};

// The CREATE TABLE that `columns` make, after dropping an old one when asked.
std::string CreateStatement(const QueryLocation& location, const std::vector<TableColumn>& columns,
                            std::string_view real_type) {
  return fmt::format("CREATE TABLE {} ({})", QuoteIdentifier(location.table), ColumnList(columns, real_type));
}

std::string InsertStatement(const QueryLocation& location, std::size_t columns, char placeholder) {
  std::string values;
  for (std::size_t i = 1; i <= columns; ++i) values += fmt::format("{}{}{}", i > 1 ? ", " : "", placeholder, i);
  return fmt::format("INSERT INTO {} VALUES ({})", QuoteIdentifier(location.table), values);
}

Status TableExists(const QueryLocation& location) {
  return InvalidArgument(fmt::format("{}: the table exists; add if_exists=replace or if_exists=append",
                                     location.Display()));
}

class SqliteWriter final : public TableWriter {
 public:
  ~SqliteWriter() override {
    sqlite3_finalize(insert_);
    if (db_ != nullptr && !committed_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    sqlite3_close_v2(db_);
  }

  static Result<std::unique_ptr<TableWriter>> Open(const QueryLocation& location,
                                                   const std::vector<TableColumn>& columns) {
    auto writer = std::unique_ptr<SqliteWriter>(new SqliteWriter());
    writer->display_ = location.Display();
    writer->columns_ = columns;
    if (sqlite3_open_v2(location.target.c_str(), &writer->db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
        SQLITE_OK) {
      return InvalidArgument(fmt::format("{}: cannot open the database: {}", writer->display_,
                                         writer->db_ ? sqlite3_errmsg(writer->db_) : "out of memory"));
    }
    sqlite3_busy_timeout(writer->db_, 10'000);
    WHARF_RETURN_IF_ERROR(writer->Exec("BEGIN IMMEDIATE"));
    sqlite3_stmt* probe = nullptr;
    sqlite3_prepare_v2(writer->db_, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1", -1, &probe,
                       nullptr);
    sqlite3_bind_text(probe, 1, location.table.c_str(), -1, SQLITE_TRANSIENT);
    const bool exists = sqlite3_step(probe) == SQLITE_ROW;
    sqlite3_finalize(probe);
    if (exists && (location.if_exists.empty() || location.if_exists == "fail")) return TableExists(location);
    if (exists && location.if_exists == "replace") {
      WHARF_RETURN_IF_ERROR(writer->Exec("DROP TABLE " + QuoteIdentifier(location.table)));
    }
    if (!exists || location.if_exists == "replace") {
      WHARF_RETURN_IF_ERROR(writer->Exec(CreateStatement(location, columns, "REAL")));
    }
    const std::string insert = InsertStatement(location, columns.size(), '?');
    if (sqlite3_prepare_v2(writer->db_, insert.c_str(), -1, &writer->insert_, nullptr) != SQLITE_OK) {
      return InvalidArgument(fmt::format("{}: cannot insert: {}", writer->display_, sqlite3_errmsg(writer->db_)));
    }
    return std::unique_ptr<TableWriter>(std::move(writer));
  }

  Status Append(const std::vector<TableCell>& row) override {
    for (std::size_t i = 0; i < columns_.size(); ++i) {
      const int p = static_cast<int>(i) + 1;
      switch (columns_[i].type) {
        case TableColumn::Type::kText:
          sqlite3_bind_text(insert_, p, row[i].text.data(), static_cast<int>(row[i].text.size()), SQLITE_TRANSIENT);
          break;
        case TableColumn::Type::kInteger:
          sqlite3_bind_int64(insert_, p, static_cast<sqlite3_int64>(row[i].number));
          break;
        case TableColumn::Type::kReal:
          sqlite3_bind_double(insert_, p, row[i].number);
          break;
      }
    }
    const int stepped = sqlite3_step(insert_);
    sqlite3_reset(insert_);
    if (stepped != SQLITE_DONE) return IoError(fmt::format("{}: cannot insert: {}", display_, sqlite3_errmsg(db_)));
    return Status::Ok();
  }

  Status Commit() override {
    WHARF_RETURN_IF_ERROR(Exec("COMMIT"));
    committed_ = true;
    return Status::Ok();
  }

 private:
  SqliteWriter() = default;

  Status Exec(const std::string& sql) {
    char* error = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error) == SQLITE_OK) return Status::Ok();
    const std::string message = error != nullptr ? error : "unknown error";
    sqlite3_free(error);
    return IoError(fmt::format("{}: {}", display_, message));
  }

  sqlite3* db_ = nullptr;
  sqlite3_stmt* insert_ = nullptr;
  std::vector<TableColumn> columns_;
  std::string display_;
  bool committed_ = false;
};

class PostgresWriter final : public TableWriter {
 public:
  static Result<std::unique_ptr<TableWriter>> Open(const QueryLocation& location,
                                                   const std::vector<TableColumn>& columns,
                                                   const std::string& password) {
    auto writer = std::unique_ptr<PostgresWriter>(new PostgresWriter());
    writer->display_ = location.Display();
    writer->columns_ = columns;
    WHARF_ASSIGN_OR_RETURN(writer->connection_, Connect(location, password));
    try {
      writer->work_ = std::make_unique<pqxx::work>(*writer->connection_);
      const bool exists =
          !writer->work_->exec_params("SELECT 1 FROM pg_catalog.pg_tables WHERE tablename = $1 AND schemaname = ANY (current_schemas(false))",
                                      location.table)
               .empty();
      if (exists && (location.if_exists.empty() || location.if_exists == "fail")) return TableExists(location);
      if (exists && location.if_exists == "replace") writer->work_->exec("DROP TABLE " + QuoteIdentifier(location.table));
      if (!exists || location.if_exists == "replace") {
        writer->work_->exec(CreateStatement(location, columns, "DOUBLE PRECISION"));
      }
      writer->connection_->prepare("wharf_insert", InsertStatement(location, columns.size(), '$'));
    } catch (const std::exception& e) {
      return InvalidArgument(fmt::format("{}: cannot create the table: {}", writer->display_, OneLine(e)));
    }
    return std::unique_ptr<TableWriter>(std::move(writer));
  }

  Status Append(const std::vector<TableCell>& row) override {
    std::vector<std::string> values;
    values.reserve(columns_.size());
    for (std::size_t i = 0; i < columns_.size(); ++i) {
      values.push_back(columns_[i].type == TableColumn::Type::kText      ? row[i].text
                       : columns_[i].type == TableColumn::Type::kInteger ? fmt::format("{}", static_cast<std::int64_t>(row[i].number))
                                                                         : fmt::format("{:.17g}", row[i].number));
    }
    try {
      work_->exec_prepared("wharf_insert", pqxx::prepare::make_dynamic_params(values));
    } catch (const std::exception& e) {
      return IoError(fmt::format("{}: cannot insert: {}", display_, OneLine(e)));
    }
    return Status::Ok();
  }

  Status Commit() override {
    try {
      work_->commit();
    } catch (const std::exception& e) {
      return IoError(fmt::format("{}: cannot commit: {}", display_, OneLine(e)));
    }
    return Status::Ok();
  }

 private:
  PostgresWriter() = default;
  std::string display_;
  std::vector<TableColumn> columns_;
  std::unique_ptr<pqxx::connection> connection_;
  std::unique_ptr<pqxx::work> work_;  // aborted on destruction unless committed
};

}  // namespace

Result<std::unique_ptr<Cursor>> OpenSqliteCursor(const QueryLocation& location) { return SqliteCursor::Open(location); }

Result<std::unique_ptr<Cursor>> OpenPostgresCursor(const QueryLocation& location, const std::string& password) {
  return PostgresCursor::Open(location, password);
}

Result<std::unique_ptr<TableWriter>> OpenSqliteWriter(const QueryLocation& location,
                                                      const std::vector<TableColumn>& columns) {
  return SqliteWriter::Open(location, columns);
}

Result<std::unique_ptr<TableWriter>> OpenPostgresWriter(const QueryLocation& location,
                                                        const std::vector<TableColumn>& columns,
                                                        const std::string& password) {
  return PostgresWriter::Open(location, columns, password);
}

}  // namespace wharf::data::sql
