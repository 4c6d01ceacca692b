#pragma once
// What the clients of a running `wharf server` share (`wharf taskdef`,
// `wharf run`, `wharf endpoint`, ...): the connection flags every command
// takes, path encoding, and printing the server's answers as JSON or a table.

#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "control/client.h"
#include "core/status.h"

namespace wharf::cli {

// --server, --token-file and --json. Commands extend it with their own flags.
struct ConnectionFlags {
  std::string server, token_file;
  bool json = false;
};

// Declares --json, --server and --token-file on `cmd`, bound to `flags`
// (which must outlive the parse).
void AddConnectionFlags(CLI::App& cmd, ConnectionFlags& flags);

// The client for the server the flags (or their defaults) name.
Result<control::ControlClient> Connect(const ConnectionFlags& flags);

// Percent-encodes all but unreserved characters (and '/' when `keep_slash`),
// so a bad name reaches the server intact and is refused there, by name.
std::string Encode(std::string_view s, bool keep_slash = false);

// `j[key]` as text: a string as is, anything else as compact JSON, a
// missing key or null as "".
std::string Str(const nlohmann::json& j, const char* key);

// Pretty-printed JSON on stdout.
void PrintJson(const nlohmann::json& j);

// Columns padded to their widest cell, two spaces apart; the last unpadded.
// An all-empty header prints no header line.
void PrintTable(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows);

}  // namespace wharf::cli
