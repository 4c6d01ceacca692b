#pragma once
// One SQLite connection and its prepared statements, with every SQLite error
// turned into a Status that names the database file and sqlite3_errmsg.
//
// The building block of store's SQLite backends (and of their tests, which
// use it to inspect or tamper with a database). Not thread-safe: one thread
// at a time, like the connection it wraps. SQLite's own types stay out of
// this header so callers need not include <sqlite3.h>.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "core/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace wharf::store {

class SqliteStatement;

// Bytes SQLite holds in this process: its heap (page caches, schemas,
// statements: sqlite3_memory_used) and the page-cache slab, if reserved.
std::int64_t SqliteMemoryUsed();

// Gives SQLite's page caches, process-wide, a slab of `bytes`, resident from
// the start and reused by every cache, instead of pages freed into the
// allocator at each cache reset (another process's commit empties a
// connection's cache) and fetched again: a busy writer's memory stays put
// rather than swinging by its cache size, and its caches cost no malloc.
// Pages past the slab come from the heap as usual. Call before this process
// opens any database: FailedPrecondition after (SQLite is configured once).
Status ReserveSqlitePageCache(std::size_t bytes);

// An open connection. Owns the sqlite3 handle; closes it when destroyed, so
// every SqliteStatement prepared on it must be destroyed first.
class SqliteDatabase {
 public:
  // Opens `path`, creating the file and its parent directories if need be,
  // and sets a 5 s busy timeout so a reader waits out a writer's lock instead
  // of failing at once. SQLite reads the file lazily: a file that is not a
  // database fails on the first statement, with DataLoss.
  static Result<std::unique_ptr<SqliteDatabase>> Open(const std::filesystem::path& path);

  ~SqliteDatabase();
  SqliteDatabase(const SqliteDatabase&) = delete;
  SqliteDatabase& operator=(const SqliteDatabase&) = delete;

  // Runs `sql` (one or more statements, no parameters, results discarded).
  Status Exec(std::string_view sql);

  // Switches the file to WAL journal mode (readers and one writer at once;
  // the mode is stored in the file). Several connections may race to
  // convert a new file: SQLite answers the losers BUSY without waiting, so
  // this retries until the busy timeout.
  Status EnableWal();

  // How long a statement waits for another connection's lock before it
  // fails with Unavailable (5 s from Open).
  void SetBusyTimeout(std::chrono::milliseconds timeout);

  // Bytes in the write-ahead log file (0 without one).
  std::uintmax_t WalBytes() const;

  // Copies the whole write-ahead log into the database and truncates it to
  // nothing, waiting at most `wait` for other connections' writes, reads
  // and checkpoints to finish (new writers wait meanwhile). False when they
  // did not finish in time: part of the log may be copied, none truncated.
  Result<bool> TruncateWal(std::chrono::milliseconds wait);

  // Compiles one statement; the statement must not outlive this database.
  Result<SqliteStatement> Prepare(std::string_view sql);

  // Runs `body` in one write transaction: BEGIN IMMEDIATE takes the write
  // lock up front (waiting out other writers up to the busy timeout), so
  // what `body` reads cannot change before it writes. Commits when `body`
  // returns OK, rolls back otherwise; returns body's Status or the commit's.
  // Statements `body` stepped must be reset or destroyed before it returns.
  Status WriteTransaction(const std::function<Status()>& body);

  const std::filesystem::path& path() const { return path_; }

  // The Status for SQLite result code `rc`, reading "<path>: <doing>: <errmsg>".
  // Codes map to kinds: not a database or corrupt → DataLoss; constraint or
  // too big → InvalidArgument; still locked after the busy timeout →
  // Unavailable; I/O, permissions, disk full → IoError; anything else →
  // Internal.
  Status Error(int rc, std::string_view doing) const;

 private:
  SqliteDatabase(sqlite3* db, std::filesystem::path path, int busy_timeout_ms)
      : db_(db), path_(std::move(path)), busy_timeout_ms_(busy_timeout_ms) {}

  sqlite3* db_;
  std::filesystem::path path_;
  int busy_timeout_ms_;
};

// A prepared statement. Bind parameters (1-based), then Step() through the
// rows and read columns (0-based); Reset() to run it again. A failed Bind is
// remembered and reported by the next Step(), so callers check once.
// Text passed to BindText must stay alive until Step() returns false or
// Reset() is called (SQLite does not copy it).
class SqliteStatement {
 public:
  SqliteStatement(SqliteStatement&& other) noexcept;
  SqliteStatement& operator=(SqliteStatement&& other) noexcept;
  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;
  ~SqliteStatement();

  void BindText(int index, std::string_view value);
  void BindInt64(int index, std::int64_t value);
  void BindDouble(int index, double value);
  void BindNull(int index);

  // True when a row is ready to read, false when the statement is done.
  Result<bool> Step();

  // Makes the statement ready to run again and forgets its bindings.
  void Reset();

  std::int64_t ColumnInt64(int column) const;
  double ColumnDouble(int column) const;
  bool ColumnIsNull(int column) const;
  // Valid until the next Step() or Reset().
  std::string_view ColumnText(int column) const;

 private:
  friend class SqliteDatabase;
  SqliteStatement(const SqliteDatabase* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  void NoteBind(int rc, int index);

  const SqliteDatabase* db_;
  sqlite3_stmt* stmt_;
  int bind_rc_ = 0;  // SQLITE_OK, or the first failed bind since Reset()
  int bind_index_ = 0;
};

}  // namespace wharf::store
