#pragma once
// Wall-clock time as wharf stores and shows it: microseconds since the Unix
// epoch, printed as RFC 3339 UTC with milliseconds.
// Stateless functions: thread-safe.

#include <cstdint>
#include <string>

namespace wharf {

// Microseconds since the Unix epoch, now (system clock).
std::int64_t NowMicros();

// "2026-11-23T12:00:00.123Z" (UTC, milliseconds, rounded down).
std::string FormatTimeUtc(std::int64_t time_us);

}  // namespace wharf
