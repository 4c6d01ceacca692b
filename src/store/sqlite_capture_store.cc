// The SQLite CaptureStore: one file in WAL mode, so readers (`wharf capture
// list`) run while a server appends; synchronous=FULL (a committed capture
// survives power loss) or NORMAL (it survives a process crash) per Durability.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>
#include <string>
#include <system_error>
#include <utility>

#include <fmt/format.h>

#include "store/capture_store.h"
#include "store/sqlite_database.h"
#include "store/sqlite_migrations.h"

namespace wharf::store {

namespace {

constexpr std::string_view kInsertSql =
    "INSERT INTO captures (id, time_us, endpoint, variant, model_version, shadow, inputs, outputs, latency_ms, "
    "status) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";

// Column order of every SELECT; ReadRow depends on it.
constexpr std::string_view kSelectSql =
    "SELECT id, time_us, endpoint, variant, model_version, shadow, inputs, outputs, latency_ms, status "
    "FROM captures WHERE endpoint = ?1";

void ReadRow(const SqliteStatement& row, CaptureRecord& record) {
  record.id.assign(row.ColumnText(0));
  record.time_us = row.ColumnInt64(1);
  record.endpoint.assign(row.ColumnText(2));
  record.variant.assign(row.ColumnText(3));
  record.model_version.assign(row.ColumnText(4));
  record.shadow = row.ColumnInt64(5) != 0;
  record.inputs.assign(row.ColumnText(6));
  record.outputs.assign(row.ColumnText(7));
  record.latency_ms = row.ColumnDouble(8);
  record.status = static_cast<int>(row.ColumnInt64(9));
}

Status Validate(const CaptureRecord& record, std::size_t index) {
  if (record.endpoint.empty()) {
    return InvalidArgument(fmt::format("capture #{} (id '{}'): empty endpoint", index, record.id));
  }
  if (record.id.empty()) {
    return InvalidArgument(fmt::format("capture #{} (endpoint '{}'): empty id", index, record.endpoint));
  }
  return Status::Ok();
}

// Thread-compatible: one thread at a time (see CaptureStore).
class SqliteCaptureStore final : public CaptureStore {
 public:
  SqliteCaptureStore(std::unique_ptr<SqliteDatabase> db, SqliteStatement begin, SqliteStatement insert,
                     SqliteStatement commit, SqliteStatement rollback)
      : db_(std::move(db)),
        begin_(std::move(begin)),
        insert_(std::move(insert)),
        commit_(std::move(commit)),
        rollback_(std::move(rollback)) {}

  Status Append(std::span<const CaptureRecord> records) override {
    if (records.empty()) return Status::Ok();
    begin_.Reset();
    WHARF_RETURN_IF_ERROR(begin_.Step());
    Status status = InsertAll(records);
    if (status.ok()) {
      commit_.Reset();
      status = commit_.Step().status();
    }
    if (!status.ok()) {
      insert_.Reset();
      rollback_.Reset();
      // Fails harmlessly when SQLite has already rolled back (e.g. disk full).
      (void)rollback_.Step();
      return status;
    }
    KeepWalBounded();
    return status;
  }

  Result<std::vector<CaptureRecord>> Query(const CaptureQuery& query) override {
    WHARF_ASSIGN_OR_RETURN(SqliteStatement select, PrepareSelect(query, /*newest_first=*/true));
    std::vector<CaptureRecord> records;
    while (true) {
      WHARF_ASSIGN_OR_RETURN(const bool row, select.Step());
      if (!row) break;
      ReadRow(select, records.emplace_back());
    }
    return records;
  }

  Status ForEach(const CaptureQuery& query, const std::function<Status(const CaptureRecord&)>& sink) override {
    WHARF_ASSIGN_OR_RETURN(SqliteStatement select, PrepareSelect(query, /*newest_first=*/false));
    CaptureRecord record;  // reused so each row costs no fresh allocations
    while (true) {
      WHARF_ASSIGN_OR_RETURN(const bool row, select.Step());
      if (!row) return Status::Ok();
      ReadRow(select, record);
      WHARF_RETURN_IF_ERROR(sink(record));
    }
  }

 private:
  // The checkpoint policy (SQLite's own is off, see OpenSqliteCaptureStore).
  // Its automatic checkpoints are passive: while several processes append
  // (an endpoint's replicas), they never catch up with each other's commits,
  // so the log is never restarted and grows without end (5 GB in four
  // minutes of the soak). Instead, past kWalBound the committing writer
  // copies the whole log back and truncates it, the others' commits waiting
  // meanwhile (a passive copy first let the log outgrow it: 600 MB). If
  // another checkpoint runs, or a long reader holds the log past a second,
  // the writer moves on and tries again a second later. The commit stands
  // either way.
  void KeepWalBounded() {
    static constexpr std::uintmax_t kWalBound = std::uintmax_t{32} << 20;
    const auto now = std::chrono::steady_clock::now();
    if (now < next_checkpoint_ || db_->WalBytes() < kWalBound) return;
    const Result<bool> done = db_->TruncateWal(std::chrono::seconds(1));
    if (!done.ok() || !*done) next_checkpoint_ = now + std::chrono::seconds(1);
  }

  Status InsertAll(std::span<const CaptureRecord> records) {
    for (std::size_t i = 0; i < records.size(); ++i) {
      const CaptureRecord& r = records[i];
      WHARF_RETURN_IF_ERROR(Validate(r, i));
      insert_.Reset();
      insert_.BindText(1, r.id);
      insert_.BindInt64(2, r.time_us);
      insert_.BindText(3, r.endpoint);
      insert_.BindText(4, r.variant);
      insert_.BindText(5, r.model_version);
      insert_.BindInt64(6, r.shadow ? 1 : 0);
      insert_.BindText(7, r.inputs);
      insert_.BindText(8, r.outputs);
      insert_.BindDouble(9, r.latency_ms);
      insert_.BindInt64(10, r.status);
      WHARF_RETURN_IF_ERROR(insert_.Step());
    }
    insert_.Reset();  // drops the bound pointers into `records`
    return Status::Ok();
  }

  // Filters are fixed SQL fragments; every value is a bound parameter.
  Result<SqliteStatement> PrepareSelect(const CaptureQuery& query, bool newest_first) {
    if (query.endpoint.empty()) {
      return InvalidArgument(fmt::format("{}: capture query without an endpoint", db_->path().string()));
    }
    std::string sql(kSelectSql);
    if (query.since_us) sql += " AND time_us >= ?2";
    if (query.until_us) sql += " AND time_us < ?3";
    if (query.id) sql += " AND id = ?4";
    if (query.variant) sql += " AND variant = ?5";
    if (!query.include_shadow) sql += " AND shadow = 0";
    sql += newest_first ? " ORDER BY seq DESC" : " ORDER BY seq ASC";
    if (query.limit != 0) sql += " LIMIT ?6";
    WHARF_ASSIGN_OR_RETURN(SqliteStatement select, db_->Prepare(sql));
    select.BindText(1, query.endpoint);
    if (query.since_us) select.BindInt64(2, *query.since_us);
    if (query.until_us) select.BindInt64(3, *query.until_us);
    if (query.id) select.BindText(4, *query.id);
    if (query.variant) select.BindText(5, *query.variant);
    if (query.limit != 0) {
      constexpr auto kMax = static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max());
      select.BindInt64(6, static_cast<std::int64_t>(std::min(query.limit, kMax)));
    }
    return select;
  }

  std::unique_ptr<SqliteDatabase> db_;
  // Prepared once, reused by every Append; declared after db_ so they are
  // finalized before it closes.
  SqliteStatement begin_, insert_, commit_, rollback_;
  std::chrono::steady_clock::time_point next_checkpoint_{};  // no checkpoint before this
};

}  // namespace

Result<std::unique_ptr<CaptureStore>> OpenSqliteCaptureStore(const std::filesystem::path& path,
                                                             Durability durability) {
  WHARF_ASSIGN_OR_RETURN(std::unique_ptr<SqliteDatabase> db, SqliteDatabase::Open(path));
  WHARF_RETURN_IF_ERROR(db->EnableWal());
  WHARF_RETURN_IF_ERROR(
      db->Exec(durability == Durability::kPowerLoss ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL"));
  // Request ids are often random, so each batch touches index pages all over
  // the file: a 32 MiB page cache keeps them in memory, and checkpointing
  // every ~32 MiB of WAL instead of 4 MiB lets repeated pages coalesce
  // (together ~1.5x the rows/s of the defaults for 1,000-row batches).
  // Append checkpoints (KeepWalBounded), not SQLite. Other replicas' commits
  // and checkpoints hold the write lock in turn: a commit waits up to 30 s
  // for it (its queue absorbs the wait, and drops what overflows, counted)
  // rather than failing its records after the default 5 s.
  WHARF_RETURN_IF_ERROR(db->Exec("PRAGMA cache_size=-32768"));
  WHARF_RETURN_IF_ERROR(db->Exec("PRAGMA wal_autocheckpoint=0"));
  db->SetBusyTimeout(std::chrono::seconds(30));
  WHARF_RETURN_IF_ERROR(ApplySqliteMigrations(*db, SqliteMigrations()));
  WHARF_ASSIGN_OR_RETURN(SqliteStatement begin, db->Prepare("BEGIN IMMEDIATE"));
  WHARF_ASSIGN_OR_RETURN(SqliteStatement insert, db->Prepare(kInsertSql));
  WHARF_ASSIGN_OR_RETURN(SqliteStatement commit, db->Prepare("COMMIT"));
  WHARF_ASSIGN_OR_RETURN(SqliteStatement rollback, db->Prepare("ROLLBACK"));
  return std::unique_ptr<CaptureStore>(std::make_unique<SqliteCaptureStore>(
      std::move(db), std::move(begin), std::move(insert), std::move(commit), std::move(rollback)));
}

}  // namespace wharf::store
