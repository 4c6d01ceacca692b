#include "data/number.h"
#include "data/text.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <system_error>

namespace wharf::data {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (IsSpace(s.front()) || s.front() == '"')) s.remove_prefix(1);
  while (!s.empty() && (IsSpace(s.back()) || s.back() == '"')) s.remove_suffix(1);
  return s;
}

bool IsMissingMarker(std::string_view s) {
  if (s.empty()) return true;
  if (s.size() > 4) return false;
  for (std::string_view marker : {"na", "n/a", "nan", "null", "?"}) {
    if (EqualsIgnoreCase(s, marker)) return true;
  }
  return false;
}

// True when `s` (a syntactically valid decimal number that from_chars found
// out of range) is too small rather than too large: its exponent is negative,
// or it has no exponent and its integer part is zero.
bool IsUnderflow(std::string_view s) {
  const auto e = s.find_first_of("eE");
  if (e != std::string_view::npos) return e + 1 < s.size() && s[e + 1] == '-';
  for (char c : s) {
    if (c == '.') return true;
    if (c >= '1' && c <= '9') return false;
  }
  return true;
}

}  // namespace

std::optional<float> ParseNumber(std::string_view text) {
  std::string_view s = Trim(text);
  if (IsMissingMarker(s)) return std::numeric_limits<float>::quiet_NaN();
  const bool negative = s.front() == '-';
  if (s.front() == '+') {  // from_chars rejects a leading '+'
    s.remove_prefix(1);
    if (!s.empty() && s.front() == '-') return std::nullopt;
  }
  // from_chars also accepts "inf", "infinity" and "nan(...)"; features must be
  // finite, so only text starting like a decimal number gets through.
  const std::size_t digits = !s.empty() && s.front() == '-' ? 1 : 0;
  if (digits >= s.size()) return std::nullopt;
  const char first = s[digits];
  if (!(first == '.' || (first >= '0' && first <= '9'))) return std::nullopt;

  const char* begin = s.data();
  const char* end = s.data() + s.size();
  float value = 0;
  auto [ptr, ec] = std::from_chars(begin, end, value, std::chars_format::general);
  if (ptr != end) return std::nullopt;
  if (ec == std::errc::result_out_of_range) {
    if (!IsUnderflow(s)) return std::nullopt;
    return negative ? -0.0f : 0.0f;
  }
  if (ec != std::errc() || !std::isfinite(value)) return std::nullopt;
  return value;
}

}  // namespace wharf::data
