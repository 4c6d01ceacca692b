#include "store/sqlite_database.h"

#include <sqlite3.h>
#include <sys/mman.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>
#include <utility>

#include <fmt/format.h>

namespace wharf::store {

namespace {

constexpr int kBusyTimeoutMs = 5000;

StatusCode CodeFor(int rc) {
  switch (rc & 0xff) {
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT: return StatusCode::kDataLoss;
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return StatusCode::kUnavailable;  // another process holds the lock
    case SQLITE_CONSTRAINT:
    case SQLITE_TOOBIG:
    case SQLITE_MISMATCH: return StatusCode::kInvalidArgument;
    case SQLITE_CANTOPEN:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_NOLFS:
    case SQLITE_NOMEM:
    case SQLITE_PROTOCOL: return StatusCode::kIoError;
    default: return StatusCode::kInternal;
  }
}

// The statement as one short line, for error messages.
std::string Abbreviate(std::string_view sql) {
  constexpr std::size_t kMaxChars = 80;
  std::string out;
  bool space = false;
  for (const char c : sql) {
    if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
    if (out.size() >= kMaxChars) return out + "...";
  }
  return out;
}

}  // namespace

namespace {
// The size of the slab ReserveSqlitePageCache mapped (0: none). SQLite links
// all its slots into a free list at once, so all of it is resident.
std::atomic<std::int64_t> page_cache_slab_bytes{0};
}  // namespace

std::int64_t SqliteMemoryUsed() { return sqlite3_memory_used() + page_cache_slab_bytes; }

Status ReserveSqlitePageCache(std::size_t bytes) {
  int header = 0;
  if (sqlite3_config(SQLITE_CONFIG_PCACHE_HDRSZ, &header) != SQLITE_OK) {
    return FailedPrecondition("SQLite is already in use: its page cache can no longer be configured");
  }
  // A slot holds a default-sized page (4096 bytes) and its header, 8-byte aligned.
  const std::size_t slot = (4096 + static_cast<std::size_t>(header) + 7) / 8 * 8;
  const std::size_t slots = bytes / slot;
  if (slots == 0) return InvalidArgument(fmt::format("a page cache of {} bytes holds no page", bytes));
  // Never unmapped: SQLite keeps using it until the process ends.
  void* slab = mmap(nullptr, slots * slot, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (slab == MAP_FAILED) return IoError(fmt::format("cannot map a {}-byte page cache: {}", bytes, std::strerror(errno)));
  if (sqlite3_config(SQLITE_CONFIG_PAGECACHE, slab, static_cast<int>(slot), static_cast<int>(slots)) != SQLITE_OK) {
    munmap(slab, slots * slot);
    return FailedPrecondition("SQLite is already in use: its page cache can no longer be configured");
  }
  page_cache_slab_bytes = static_cast<std::int64_t>(slots * slot);
  return Status::Ok();
}

Result<std::unique_ptr<SqliteDatabase>> SqliteDatabase::Open(const std::filesystem::path& path) {
  if (path.has_parent_path()) {
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);
    if (ec) return IoError(fmt::format("{}: cannot create directory: {}", path.parent_path().string(), ec.message()));
  }
  sqlite3* db = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  // Wrap at once so the handle is closed on every path, even a failed open.
  std::unique_ptr<SqliteDatabase> database(new SqliteDatabase(db, path, kBusyTimeoutMs));
  if (db == nullptr) return IoError(fmt::format("{}: cannot open: {}", path.string(), sqlite3_errstr(rc)));
  if (rc != SQLITE_OK) return database->Error(rc, "cannot open");
  const int timeout_rc = sqlite3_busy_timeout(db, kBusyTimeoutMs);
  if (timeout_rc != SQLITE_OK) return database->Error(timeout_rc, "cannot set the busy timeout");
  return database;
}

SqliteDatabase::~SqliteDatabase() { sqlite3_close_v2(db_); }

Status SqliteDatabase::Exec(std::string_view sql) {
  const std::string text(sql);
  const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return Error(rc, fmt::format("cannot run '{}'", Abbreviate(sql)));
  return Status::Ok();
}

Status SqliteDatabase::EnableWal() {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kBusyTimeoutMs);
  while (true) {
    Status status = Exec("PRAGMA journal_mode=WAL");
    if (status.code() != StatusCode::kUnavailable || std::chrono::steady_clock::now() >= deadline) return status;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

void SqliteDatabase::SetBusyTimeout(std::chrono::milliseconds timeout) {
  busy_timeout_ms_ = static_cast<int>(timeout.count());
  sqlite3_busy_timeout(db_, busy_timeout_ms_);
}

std::uintmax_t SqliteDatabase::WalBytes() const {
  std::error_code ec;
  const std::uintmax_t bytes = std::filesystem::file_size(path_.string() + "-wal", ec);
  return ec ? 0 : bytes;
}

Result<bool> SqliteDatabase::TruncateWal(std::chrono::milliseconds wait) {
  sqlite3_busy_timeout(db_, static_cast<int>(wait.count()));
  const int rc = sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);
  sqlite3_busy_timeout(db_, busy_timeout_ms_);
  if (rc == SQLITE_BUSY) return false;
  if (rc != SQLITE_OK) return Error(rc, "cannot checkpoint the write-ahead log");
  return true;
}

Result<SqliteStatement> SqliteDatabase::Prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  const int rc =
      sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return Error(rc, fmt::format("cannot prepare '{}'", Abbreviate(sql)));
  }
  return SqliteStatement(this, stmt);
}

Status SqliteDatabase::WriteTransaction(const std::function<Status()>& body) {
  WHARF_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  Status status = body();
  if (status.ok()) status = Exec("COMMIT");
  // Fails harmlessly when SQLite has already rolled back (e.g. disk full).
  if (!status.ok()) (void)Exec("ROLLBACK");
  return status;
}

Status SqliteDatabase::Error(int rc, std::string_view doing) const {
  const char* message = db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
  std::string text;
  switch (rc & 0xff) {
    case SQLITE_NOTADB: text = fmt::format("{}: not a SQLite database ({}: {})", path_.string(), doing, message); break;
    case SQLITE_CORRUPT:
      text = fmt::format("{}: the database is corrupted ({}: {})", path_.string(), doing, message);
      break;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      text = fmt::format("{}: {}: {} (still locked by another connection after {} ms)", path_.string(), doing,
                         message, busy_timeout_ms_);
      break;
    default: text = fmt::format("{}: {}: {}", path_.string(), doing, message);
  }
  return Status(CodeFor(rc), std::move(text));
}

SqliteStatement::SqliteStatement(SqliteStatement&& other) noexcept
    : db_(other.db_),
      stmt_(std::exchange(other.stmt_, nullptr)),
      bind_rc_(other.bind_rc_),
      bind_index_(other.bind_index_) {}

SqliteStatement& SqliteStatement::operator=(SqliteStatement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(stmt_);
    db_ = other.db_;
    stmt_ = std::exchange(other.stmt_, nullptr);
    bind_rc_ = other.bind_rc_;
    bind_index_ = other.bind_index_;
  }
  return *this;
}

SqliteStatement::~SqliteStatement() { sqlite3_finalize(stmt_); }

void SqliteStatement::NoteBind(int rc, int index) {
  if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) {
    bind_rc_ = rc;
    bind_index_ = index;
  }
}

void SqliteStatement::BindText(int index, std::string_view value) {
  // data() of an empty view may be null, which SQLite would store as NULL.
  const char* data = value.data() != nullptr ? value.data() : "";
  NoteBind(sqlite3_bind_text64(stmt_, index, data, value.size(), SQLITE_STATIC, SQLITE_UTF8), index);
}

void SqliteStatement::BindInt64(int index, std::int64_t value) {
  NoteBind(sqlite3_bind_int64(stmt_, index, value), index);
}

void SqliteStatement::BindDouble(int index, double value) { NoteBind(sqlite3_bind_double(stmt_, index, value), index); }

void SqliteStatement::BindNull(int index) { NoteBind(sqlite3_bind_null(stmt_, index), index); }

Result<bool> SqliteStatement::Step() {
  if (bind_rc_ != SQLITE_OK) {
    return db_->Error(bind_rc_,
                      fmt::format("cannot bind parameter {} of '{}'", bind_index_, Abbreviate(sqlite3_sql(stmt_))));
  }
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return db_->Error(rc, fmt::format("cannot run '{}'", Abbreviate(sqlite3_sql(stmt_))));
}

void SqliteStatement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  bind_rc_ = SQLITE_OK;
  bind_index_ = 0;
}

std::int64_t SqliteStatement::ColumnInt64(int column) const { return sqlite3_column_int64(stmt_, column); }

double SqliteStatement::ColumnDouble(int column) const { return sqlite3_column_double(stmt_, column); }

bool SqliteStatement::ColumnIsNull(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }

std::string_view SqliteStatement::ColumnText(int column) const {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  if (text == nullptr) return {};
  return {text, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column))};
}

}  // namespace wharf::store
