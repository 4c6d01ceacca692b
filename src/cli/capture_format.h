#pragma once
// The pure parts of `wharf capture`: reading --since, and writing captures as
// a table, a detailed listing, JSON lines or CSV. No I/O, so tests call them
// directly; capture_command.cc wires them to the store and stdout.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "core/clock.h"  // FormatTimeUtc, used with these
#include "core/status.h"
#include "data/text.h"
#include "store/capture_store.h"

namespace wharf::cli {

// Parses --since (or another time flag, `flag`): an ISO-8601 UTC time
// (2026-11-23T12:00:00Z, the same without the Z, with fractional seconds, or
// only the date 2026-11-23) or an age (30s, 15m, 2h, 7d: `now_us` minus
// that). Returns microseconds since the Unix epoch; InvalidArgument naming
// the flag and the accepted forms.
Result<std::int64_t> ParseSince(std::string_view text, std::int64_t now_us, std::string_view flag = "--since");

using data::CsvField;

// The CSV header line and one record's line (each ending in "\n"); inputs and
// outputs are their JSON text in one field.
std::string CaptureCsvHeader();
std::string CaptureCsvLine(const store::CaptureRecord& record);

// One record as a JSON object on one line (ending in "\n"), with inputs and
// outputs embedded as JSON values (as strings if their text is not JSON).
std::string CaptureJsonLine(const store::CaptureRecord& record);

// The `capture list` table: time, id, variant, version, shadow, status,
// latency; one line per record, in the order given, under a header.
std::string FormatCaptureTable(std::span<const store::CaptureRecord> records);

// Every field of one record, inputs and outputs pretty-printed (for `capture show`).
std::string FormatCaptureDetail(const store::CaptureRecord& record);

}  // namespace wharf::cli
