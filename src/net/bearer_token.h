#pragma once
// A bearer token for an HTTP API (the control plane's, a replica's admin
// routes): created on first use, kept in a file only its owner can read,
// and compared in constant time.
// Stateless functions: thread-safe.

#include <filesystem>
#include <string>
#include <string_view>

#include "core/status.h"

namespace wharf::net {

// Reads the token in `path` (surrounding whitespace trimmed), or, when the
// file does not exist, creates it with a fresh token (32 random bytes from
// the OS, as 64 lower-case hex digits) and mode 0600, creating parent
// directories. FailedPrecondition if an existing file is empty or readable
// by group or others (naming the file and the fix: chmod 600); IoError if it
// cannot be read or written.
// `kind` names the file in errors ("token file", "secret key file").
Result<std::string> LoadOrCreateToken(const std::filesystem::path& path, std::string_view kind = "token file");

// Reads an existing token file for a client (no permission check).
// NotFound naming the file when it does not exist.
Result<std::string> ReadToken(const std::filesystem::path& path);

// True when `authorization` is exactly "Bearer " + token; compares in time
// independent of where the strings differ.
bool BearerMatches(std::string_view authorization, std::string_view token);

}  // namespace wharf::net
