#pragma once
// A connection to store's PostgreSQL database, internal to store: callers use
// OpenPostgresCaptureStore / OpenPostgresMetadataStore (postgres_store.h) or
// OpenCaptureStore / OpenMetadataStore with a postgresql:// URL.
//
// Wraps one pqxx::connection and turns libpqxx's exceptions into Status, so
// no exception leaves store. Thread-compatible: one thread at a time, like
// the connection it owns (the stores serialize their calls).

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <pqxx/pqxx>

#include "core/status.h"

namespace wharf::store {

class PostgresDatabase {
 public:
  // Connects to `url` and applies pending migrations (postgres_migrations.h).
  // Unavailable naming the URL (without its password) if the server cannot
  // be reached; FailedPrecondition if the schema is newer than this build.
  static Result<std::unique_ptr<PostgresDatabase>> Open(std::string_view url);

  // Runs `body` in one transaction (READ COMMITTED) and commits when it
  // returns OK; otherwise, or when it throws, rolls back. A pqxx exception
  // becomes a Status (see Error below).
  Status Transaction(const std::function<Status(pqxx::work&)>& body);

  // Sets a session variable (kept across libpqxx's automatic reconnects).
  Status SetVariable(std::string_view name, std::string_view value);

  // The URL with any password replaced by "***", for messages.
  const std::string& url() const { return url_; }

  // The Status for an exception thrown by libpqxx while `doing` (may be
  // empty), reading "<url>: <doing>: cannot run '<statement>': <message>". Lost or refused connection → Unavailable;
  // unique violation → AlreadyExists; other constraint or bad data →
  // InvalidArgument; serialization failure or deadlock → Unavailable
  // (retrying may succeed); anything else → Internal.
  Status Error(const std::exception& error, std::string_view doing) const;

 private:
  PostgresDatabase(std::unique_ptr<pqxx::connection> connection, std::string url)
      : connection_(std::move(connection)), url_(std::move(url)) {}

  std::unique_ptr<pqxx::connection> connection_;
  std::string url_;
};

// `url` with the password (user:PASSWORD@ or ?password=PASSWORD) replaced
// by "***".
std::string RedactPostgresUrl(std::string_view url);

}  // namespace wharf::store
