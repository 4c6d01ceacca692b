#pragma once
// Where a store lives, as users name it: a SQLite file path or a
// postgresql:// URL (see OpenCaptureStore / OpenMetadataStore). Commands
// take it as --store; without one, $WHARF_STORE, else the default file.
// Stateless functions: thread-safe.

#include <string>
#include <string_view>

namespace wharf::store {

// True for a postgresql:// or postgres:// location: a server, not a file.
bool IsServerLocation(std::string_view location);

// `flag` if not empty, else $WHARF_STORE if set, else DefaultDatabasePath().
std::string StoreLocation(std::string_view flag);

// Where the captures of the store at `location` are kept: the same
// PostgreSQL database, or for a SQLite file the file beside it with
// "-captures" before its extension (wharf.db -> wharf-captures.db). Serving
// commits thousands of captures a second; in their own SQLite file they never
// hold the lock that control-plane writes (task states, applies) wait on.
std::string CaptureLocation(std::string_view location);

// `location` fit to print: a URL's password replaced by "***".
std::string DisplayLocation(std::string_view location);

}  // namespace wharf::store
