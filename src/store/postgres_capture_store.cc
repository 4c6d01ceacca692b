// The PostgreSQL CaptureStore: a batch is one COPY in one transaction, so a
// reader sees all of it or none. Durability::kProcessCrash turns off
// synchronous_commit for the session: a commit returns before its WAL is
// flushed, which a crash of wharf cannot lose (a crash of the server can
// lose the last fraction of a second).

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "store/capture_store.h"
#include "store/postgres_database.h"

namespace wharf::store {

namespace {

const std::vector<std::string> kColumns = {"id",      "time_us", "endpoint",   "variant", "model_version",
                                           "shadow",  "inputs",  "outputs",    "latency_ms", "status"};

// Column order of every SELECT; ReadRow depends on it.
constexpr std::string_view kSelectSql =
    "SELECT id, time_us, endpoint, variant, model_version, shadow, inputs, outputs, latency_ms, status "
    "FROM captures WHERE endpoint = $1";

// Rows fetched from the export cursor at a time.
constexpr int kFetchRows = 1000;

void ReadRow(const pqxx::row& row, CaptureRecord& record) {
  row[0].to(record.id);
  row[1].to(record.time_us);
  row[2].to(record.endpoint);
  row[3].to(record.variant);
  row[4].to(record.model_version);
  row[5].to(record.shadow);
  row[6].to(record.inputs);
  row[7].to(record.outputs);
  row[8].to(record.latency_ms);
  row[9].to(record.status);
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
class PostgresCaptureStore final : public CaptureStore {
 public:
  explicit PostgresCaptureStore(std::unique_ptr<PostgresDatabase> db) : db_(std::move(db)) {}

  Status Append(std::span<const CaptureRecord> records) override {
    for (std::size_t i = 0; i < records.size(); ++i) WHARF_RETURN_IF_ERROR(Validate(records[i], i));
    if (records.empty()) return Status::Ok();
    return db_->Transaction([&](pqxx::work& work) -> Status {
      pqxx::stream_to copy(work, "captures", kColumns);
      for (const CaptureRecord& r : records) {
        copy << std::tie(r.id, r.time_us, r.endpoint, r.variant, r.model_version, r.shadow, r.inputs, r.outputs,
                         r.latency_ms, r.status);
      }
      copy.complete();
      return Status::Ok();
    });
  }

  Result<std::vector<CaptureRecord>> Query(const CaptureQuery& query) override {
    WHARF_ASSIGN_OR_RETURN(const auto select, SelectSql(query, /*newest_first=*/true));
    std::vector<CaptureRecord> records;
    WHARF_RETURN_IF_ERROR(db_->Transaction([&](pqxx::work& work) -> Status {
      const pqxx::result rows = work.exec_params(select.first, pqxx::prepare::make_dynamic_params(select.second));
      records.resize(rows.size());
      for (std::size_t i = 0; i < rows.size(); ++i) ReadRow(rows[i], records[i]);
      return Status::Ok();
    }));
    return records;
  }

  // Reads through a cursor, kFetchRows at a time, so an export of millions
  // of rows never holds them all in memory.
  Status ForEach(const CaptureQuery& query, const std::function<Status(const CaptureRecord&)>& sink) override {
    WHARF_ASSIGN_OR_RETURN(const auto select, SelectSql(query, /*newest_first=*/false));
    return db_->Transaction([&](pqxx::work& work) -> Status {
      work.exec_params("DECLARE capture_export NO SCROLL CURSOR FOR " + select.first,
                       pqxx::prepare::make_dynamic_params(select.second));
      const std::string fetch = fmt::format("FETCH {} FROM capture_export", kFetchRows);
      CaptureRecord record;  // reused so each row costs no fresh allocations
      while (true) {
        const pqxx::result rows = work.exec(fetch);
        for (const pqxx::row& row : rows) {
          ReadRow(row, record);
          WHARF_RETURN_IF_ERROR(sink(record));
        }
        if (rows.size() < static_cast<std::size_t>(kFetchRows)) return Status::Ok();
      }
    });
  }

 private:
  // The SELECT for `query` and its parameters. Filters are fixed SQL
  // fragments; every value is a bound parameter.
  Result<std::pair<std::string, std::vector<std::string>>> SelectSql(const CaptureQuery& query,
                                                                     bool newest_first) const {
    if (query.endpoint.empty()) {
      return InvalidArgument(fmt::format("{}: capture query without an endpoint", db_->url()));
    }
    std::string sql(kSelectSql);
    std::vector<std::string> values{query.endpoint};
    if (query.since_us) {
      values.push_back(std::to_string(*query.since_us));
      sql += fmt::format(" AND time_us >= ${}", values.size());
    }
    if (query.until_us) {
      values.push_back(std::to_string(*query.until_us));
      sql += fmt::format(" AND time_us < ${}", values.size());
    }
    if (query.id) {
      values.push_back(*query.id);
      sql += fmt::format(" AND id = ${}", values.size());
    }
    if (query.variant) {
      values.push_back(*query.variant);
      sql += fmt::format(" AND variant = ${}", values.size());
    }
    if (!query.include_shadow) sql += " AND NOT shadow";
    sql += newest_first ? " ORDER BY seq DESC" : " ORDER BY seq ASC";
    if (query.limit != 0) {
      constexpr auto kMax = static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max());
      values.push_back(std::to_string(std::min(query.limit, kMax)));
      sql += fmt::format(" LIMIT ${}", values.size());
    }
    return std::pair{std::move(sql), std::move(values)};
  }

  std::unique_ptr<PostgresDatabase> db_;
};

}  // namespace

Result<std::unique_ptr<CaptureStore>> OpenPostgresCaptureStore(std::string_view url, Durability durability) {
  WHARF_ASSIGN_OR_RETURN(std::unique_ptr<PostgresDatabase> db, PostgresDatabase::Open(url));
  WHARF_RETURN_IF_ERROR(
      db->SetVariable("synchronous_commit", durability == Durability::kPowerLoss ? "on" : "off"));
  return std::unique_ptr<CaptureStore>(std::make_unique<PostgresCaptureStore>(std::move(db)));
}

}  // namespace wharf::store
