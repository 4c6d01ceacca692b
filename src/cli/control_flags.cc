#include "cli/control_flags.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

namespace wharf::cli {

using nlohmann::json;

void AddConnectionFlags(CLI::App& cmd, ConnectionFlags& flags) {
  cmd.add_flag("--json", flags.json, "Print the server's answer as JSON");
  cmd.add_option("--server", flags.server,
                 "Server URL (default: $WHARF_SERVER, else the URL in $WHARF_HOME/server.json, "
                 "else http://127.0.0.1:8765)");
  cmd.add_option("--token-file", flags.token_file,
                 "File holding the server's token (default: $WHARF_TOKEN holds the token, "
                 "else $WHARF_HOME/server.token)");
}

Result<control::ControlClient> Connect(const ConnectionFlags& flags) {
  return control::ControlClient::Connect({.server = flags.server, .token_file = flags.token_file, .home = {}});
}

std::string Encode(std::string_view s, bool keep_slash) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

std::string Str(const json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || j[key].is_null()) return "";
  return j[key].is_string() ? j[key].get<std::string>() : j[key].dump();
}

void PrintJson(const json& j) { fmt::print("{}\n", j.dump(2, ' ', false, json::error_handler_t::replace)); }

void PrintTable(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> width(header.size());
  for (std::size_t i = 0; i < header.size(); ++i) width[i] = header[i].size();
  for (const auto& row : rows) {
    for (std::size_t i = 0; i < row.size() && i < width.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  auto print_row = [&](const std::vector<std::string>& row) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      line += i + 1 == row.size() ? row[i] : fmt::format("{:<{}}  ", row[i], width[i]);
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    fmt::print("{}\n", line);
  };
  if (std::any_of(header.begin(), header.end(), [](const std::string& h) { return !h.empty(); })) print_row(header);
  for (const auto& row : rows) print_row(row);
}

}  // namespace wharf::cli
