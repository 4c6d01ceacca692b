#pragma once
// Where served requests are captured: one row per request (or shadow call)
// with its inputs, outputs, latency and status. Append-only; queryable.
//
// One interface, two backends: SQLite (the default, a single file in WAL
// mode) and PostgreSQL (a server shared by several wharf hosts); both run
// numbered schema migrations when opened. Thread-safety: an implementation may be used from one thread at a
// time (the capture writer owns its store; readers open their own).

#include <cstdint>
#include <functional>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace wharf::store {

// One captured request.
struct CaptureRecord {
  std::string id;             // request id: the client's (KServe "id", /run/ "id") or generated
  std::int64_t time_us = 0;   // when the request arrived, microseconds since the Unix epoch
  std::string endpoint;       // endpoint name
  std::string variant;        // variant that answered (or the shadow variant)
  std::string model_version;  // that variant's model version
  bool shadow = false;        // a shadow call: its answer was never returned
  std::string inputs;         // JSON text of the inputs as received
  std::string outputs;        // JSON text of the outputs as returned (or as the shadow answered)
  double latency_ms = 0;      // time to compute the answer
  int status = 200;           // HTTP status of the answer
};

// Which records to read, newest first.
struct CaptureQuery {
  std::string endpoint{};                  // required
  std::optional<std::int64_t> since_us{};  // only records at or after this time
  std::optional<std::int64_t> until_us{};  // only records strictly before this time
  std::optional<std::string> id{};         // only this request id
  std::optional<std::string> variant{};    // only this variant's records (a shadow's name: its calls)
  bool include_shadow = true;
  std::size_t limit = 100;  // 0 = no limit
};

// Append-only storage of captured requests; see the top of this file.
class CaptureStore {
 public:
  virtual ~CaptureStore() = default;

  // Appends `records` in one transaction: all or none are stored. When this
  // returns OK they are durable. InvalidArgument for a record without an
  // endpoint or id (and then none of `records` is stored).
  virtual Status Append(std::span<const CaptureRecord> records) = 0;

  // The records matching `query`, newest first, at most query.limit of them.
  virtual Result<std::vector<CaptureRecord>> Query(const CaptureQuery& query) = 0;

  // Streams every matching record, oldest first, to `sink` (for export),
  // one at a time (query.limit applies too: set it to 0 for all); stops
  // early and returns the sink's Status if it fails. The record passed to
  // `sink` is only valid during the call.
  virtual Status ForEach(const CaptureQuery& query,
                         const std::function<Status(const CaptureRecord&)>& sink) = 0;
};

// How hard a commit works to survive failures.
enum class Durability {
  kPowerLoss,     // fsync every commit (synchronous=FULL): survives power loss
  kProcessCrash,  // fsync at checkpoints (synchronous=NORMAL): survives kill -9 and crashes
};

// Opens (creating if needed, with parent directories) the SQLite store at
// `path`, in WAL mode, applying pending migrations. DataLoss if the file is
// not a SQLite database (or is corrupt), FailedPrecondition if its schema is
// newer than this build knows, IoError if it cannot be created or opened.
Result<std::unique_ptr<CaptureStore>> OpenSqliteCaptureStore(const std::filesystem::path& path,
                                                             Durability durability = Durability::kPowerLoss);

// Opens the PostgreSQL store at `url` (postgresql://user[:password]@host[:port]/db
// or postgres://...; libpq's parameters such as ?sslmode= apply), applying
// pending migrations. Unavailable naming the URL (never its password) if the
// server cannot be reached; FailedPrecondition if its schema is newer than
// this build knows. kProcessCrash turns off synchronous_commit.
Result<std::unique_ptr<CaptureStore>> OpenPostgresCaptureStore(std::string_view url,
                                                               Durability durability = Durability::kPowerLoss);

// Opens the store at `location`: PostgreSQL for a postgresql:// or
// postgres:// URL, else the SQLite file at that path. InvalidArgument for a
// URL of another scheme.
Result<std::unique_ptr<CaptureStore>> OpenCaptureStore(std::string_view location,
                                                       Durability durability = Durability::kPowerLoss);

// $WHARF_HOME/wharf.db if WHARF_HOME is set, else $HOME/.wharf/wharf.db
// (else .wharf/wharf.db in the working directory).
std::filesystem::path DefaultDatabasePath();

}  // namespace wharf::store
