#pragma once
// Wall-clock time as wharf stores and shows it: microseconds since the Unix
// epoch, printed as RFC 3339 UTC with milliseconds.
// Stateless functions: thread-safe.

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace wharf {

// Microseconds since the Unix epoch, now (system clock).
std::int64_t NowMicros();

// "2026-11-23T12:00:00.123Z" (UTC, milliseconds, rounded down).
std::string FormatTimeUtc(std::int64_t time_us);

// A time as users give it (`--since`, `?since=`): an ISO-8601 UTC time
// (2026-11-23T12:00:00Z, the same without the Z, with fractional seconds, or
// only the date 2026-11-23) or an age (30s, 15m, 2h, 7d: `now_us` minus
// that). Returns microseconds since the Unix epoch; InvalidArgument naming
// `name` (the flag or parameter), the text and the accepted forms.
Result<std::int64_t> ParseTimeOrAge(std::string_view text, std::int64_t now_us, std::string_view name);

}  // namespace wharf
