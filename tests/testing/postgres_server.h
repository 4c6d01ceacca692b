#pragma once
// A private PostgreSQL server for the tests of one process, started with
// scripts/pg-up (in a fresh directory under /tmp) the first time a test asks
// for a database, and stopped with scripts/pg-down, its directory removed,
// when the process exits. ctest runs each test in its own process, so each
// PostgreSQL test pays for one start (about a second).

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace wharf::testing {

// The URL of a fresh, empty database (test_1, test_2, ...) on this process's
// server, so tests never see each other's rows. Unavailable with the reason
// when no server can start here (PostgreSQL not installed, ...): the caller
// skips with it. Thread-safe.
Result<std::string> NewPostgresDatabase();

// Stops this process's server (fast shutdown: open connections are cut)
// and starts it again on the same data directory and port, for tests of
// what outlives a database restart. FailedPrecondition if no server was
// started (call NewPostgresDatabase first). Thread-safe.
Status StopPostgres();
Status RestartPostgres();

// Runs `sql` (one or more statements, no parameters) on the database at `url`.
Status ExecPostgres(std::string_view url, std::string_view sql);

// The rows `sql` returns from the database at `url`, each field as text
// ("NULL" for null).
Result<std::vector<std::vector<std::string>>> QueryPostgres(std::string_view url, std::string_view sql);

}  // namespace wharf::testing
