#include "core/clock.h"

#include <charconv>
#include <chrono>
#include <limits>
#include <optional>

#include <fmt/format.h>

namespace wharf {

namespace {

constexpr std::int64_t kUsPerSecond = 1'000'000;

// Reads exactly `width` digits at `pos`, advancing it.
bool ReadDigits(std::string_view text, std::size_t& pos, std::size_t width, int& out) {
  if (pos + width > text.size()) return false;
  int value = 0;
  for (std::size_t i = 0; i < width; ++i) {
    const char c = text[pos + i];
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  pos += width;
  out = value;
  return true;
}

bool ReadChar(std::string_view text, std::size_t& pos, std::string_view accepted) {
  if (pos >= text.size() || accepted.find(text[pos]) == std::string_view::npos) return false;
  ++pos;
  return true;
}

// Microseconds of the fraction after a '.', from 1 to 9 digits (beyond 6, truncated).
bool ReadFraction(std::string_view text, std::size_t& pos, std::int64_t& us) {
  std::size_t digits = 0;
  us = 0;
  while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9' && digits < 9) {
    if (digits < 6) us = us * 10 + (text[pos] - '0');
    ++digits;
    ++pos;
  }
  for (std::size_t d = digits; d < 6; ++d) us *= 10;
  return digits > 0;
}

// YYYY-MM-DD[(T| )HH:MM[:SS[.fff]]][Z], as UTC.
std::optional<std::int64_t> ParseIsoUtc(std::string_view text) {
  using namespace std::chrono;
  std::size_t pos = 0;
  int y = 0, mo = 0, d = 0;
  if (!ReadDigits(text, pos, 4, y) || !ReadChar(text, pos, "-") || !ReadDigits(text, pos, 2, mo) ||
      !ReadChar(text, pos, "-") || !ReadDigits(text, pos, 2, d)) {
    return std::nullopt;
  }
  const year_month_day date{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!date.ok()) return std::nullopt;
  std::int64_t us = duration_cast<microseconds>(sys_days{date}.time_since_epoch()).count();
  if (pos == text.size()) return us;

  int h = 0, mi = 0, s = 0;
  std::int64_t fraction_us = 0;
  if (!ReadChar(text, pos, "Tt ") || !ReadDigits(text, pos, 2, h) || !ReadChar(text, pos, ":") ||
      !ReadDigits(text, pos, 2, mi)) {
    return std::nullopt;
  }
  if (ReadChar(text, pos, ":")) {
    if (!ReadDigits(text, pos, 2, s)) return std::nullopt;
    if (ReadChar(text, pos, ".") && !ReadFraction(text, pos, fraction_us)) return std::nullopt;
  }
  ReadChar(text, pos, "Zz");
  if (pos != text.size() || h > 23 || mi > 59 || s > 59) return std::nullopt;
  return us + ((h * 60LL + mi) * 60 + s) * kUsPerSecond + fraction_us;
}

// 30s, 15m, 2h, 7d: an age before `now_us`.
std::optional<std::int64_t> ParseAge(std::string_view text, std::int64_t now_us) {
  if (text.size() < 2) return std::nullopt;
  std::int64_t unit_us = 0;
  switch (text.back()) {
    case 's': unit_us = kUsPerSecond; break;
    case 'm': unit_us = 60 * kUsPerSecond; break;
    case 'h': unit_us = 3600 * kUsPerSecond; break;
    case 'd': unit_us = 86400 * kUsPerSecond; break;
    default: return std::nullopt;
  }
  const std::string_view number = text.substr(0, text.size() - 1);
  std::int64_t count = 0;
  const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), count);
  if (ec != std::errc() || end != number.data() + number.size() || count < 0) return std::nullopt;
  if (count > (std::numeric_limits<std::int64_t>::max() / 2) / unit_us) return std::nullopt;
  return now_us - count * unit_us;
}

}  // namespace

std::int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string FormatTimeUtc(std::int64_t time_us) {
  using namespace std::chrono;
  const sys_time<microseconds> time{microseconds{time_us}};
  const auto midnight = floor<days>(time);
  const year_month_day date{midnight};
  const hh_mm_ss clock{floor<milliseconds>(time - midnight)};
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", static_cast<int>(date.year()),
                     static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()), clock.hours().count(),
                     clock.minutes().count(), clock.seconds().count(), clock.subseconds().count());
}

Result<std::int64_t> ParseTimeOrAge(std::string_view text, std::int64_t now_us, std::string_view name) {
  if (auto us = ParseIsoUtc(text)) return *us;
  if (auto us = ParseAge(text, now_us)) return *us;
  return InvalidArgument(fmt::format(
      "{} '{}': expected an ISO-8601 UTC time (2026-11-23T12:00:00Z, 2026-11-23T12:00:00 or 2026-11-23) or an "
      "age (30s, 15m, 2h, 7d)",
      name, text));
}

}  // namespace wharf
