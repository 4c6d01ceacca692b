#pragma once
// The pure parts of `wharf capture`: captures as a table or a detailed
// listing (as JSON lines or CSV, they are written by control/capture_export.h,
// which the API shares). No I/O, so tests call them directly;
// capture_command.cc wires them to the store and stdout.

#include <span>
#include <string>

#include "store/capture_store.h"

namespace wharf::cli {

// The `capture list` table: time, id, variant, version, shadow, status,
// latency; one line per record, in the order given, under a header.
std::string FormatCaptureTable(std::span<const store::CaptureRecord> records);

// Every field of one record, inputs and outputs pretty-printed (for `capture show`).
std::string FormatCaptureDetail(const store::CaptureRecord& record);

}  // namespace wharf::cli
