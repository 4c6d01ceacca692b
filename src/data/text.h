#pragma once
// Small text helpers shared by the CSV readers and writers (ASCII only,
// locale-free).

#include <charconv>
#include <cstddef>
#include <string>
#include <string_view>

namespace wharf::data {

inline char AsciiLower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

inline bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (AsciiLower(a[i]) != AsciiLower(b[i])) return false;
  }
  return true;
}

// A field for a comma-separated file: quoted (RFC 4180) when it holds a
// comma, quote or line break.
inline std::string CsvField(std::string_view value) {
  if (value.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(value);
  std::string quoted = "\"";
  for (const char c : value) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  quoted += '"';
  return quoted;
}

// A CSV field a spreadsheet shows as text and never evaluates: a value that
// would start a formula (= + - @, a tab or carriage return) and is not a
// number gets a leading apostrophe (OWASP's defence against CSV injection).
// For fields a client wrote (request ids, inputs) in files people open.
inline std::string SpreadsheetSafeCsvField(std::string_view value) {
  if (value.empty() || std::string_view("=+-@\t\r").find(value.front()) == std::string_view::npos) {
    return CsvField(value);
  }
  // A number, signed or not, is no formula.
  const std::string_view unsigned_part = value.substr(value.front() == '+' || value.front() == '-' ? 1 : 0);
  double number = 0;
  const char* end = unsigned_part.data() + unsigned_part.size();
  const auto parsed = std::from_chars(unsigned_part.data(), end, number);
  const bool is_number = !unsigned_part.empty() && unsigned_part.front() != '-' && parsed.ec == std::errc() &&
                         parsed.ptr == end;
  return is_number ? CsvField(value) : CsvField("'" + std::string(value));
}

}  // namespace wharf::data
