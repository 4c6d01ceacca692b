#include "cli/capture_format.h"

#include <algorithm>
#include <array>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/clock.h"

namespace wharf::cli {

namespace {

using Json = nlohmann::ordered_json;  // keeps fields in the order written

std::string Dump(const Json& value, int indent) {
  // Replace, not throw, on text that is not UTF-8: a capture is shown as stored.
  return value.dump(indent, ' ', false, Json::error_handler_t::replace);
}

}  // namespace

std::string FormatCaptureTable(std::span<const store::CaptureRecord> records) {
  using Row = std::array<std::string, 7>;
  std::vector<Row> rows = {{"TIME", "ID", "VARIANT", "VERSION", "SHADOW", "STATUS", "LATENCY_MS"}};
  for (const auto& r : records) {
    rows.push_back({FormatTimeUtc(r.time_us), r.id, r.variant, r.model_version, r.shadow ? "yes" : "no",
                    std::to_string(r.status), fmt::format("{:.3f}", r.latency_ms)});
  }
  std::array<std::size_t, 7> widths{};
  for (const Row& row : rows) {
    for (std::size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], row[c].size());
  }
  std::string out;
  for (const Row& row : rows) {
    std::string line;
    for (std::size_t c = 0; c < row.size(); ++c) {
      const bool numeric = c >= 5;  // status, latency: right-aligned
      line += numeric ? fmt::format("{:>{}}", row[c], widths[c]) : fmt::format("{:<{}}", row[c], widths[c]);
      if (c + 1 < row.size()) line += "  ";
    }
    line.erase(line.find_last_not_of(' ') + 1);
    out += line + "\n";
  }
  return out;
}

std::string FormatCaptureDetail(const store::CaptureRecord& r) {
  auto pretty = [](const std::string& text) {
    const Json value = Json::parse(text, nullptr, /*allow_exceptions=*/false);
    return value.is_discarded() ? text + "  (not valid JSON)" : Dump(value, 2);
  };
  return fmt::format(
      "id:            {}\n"
      "time:          {} ({} us)\n"
      "endpoint:      {}\n"
      "variant:       {}\n"
      "model version: {}\n"
      "shadow:        {}\n"
      "status:        {}\n"
      "latency:       {} ms\n"
      "inputs:\n{}\n"
      "outputs:\n{}\n",
      r.id, FormatTimeUtc(r.time_us), r.time_us, r.endpoint, r.variant, r.model_version,
      r.shadow ? "yes (its answer was not returned)" : "no", r.status, r.latency_ms, pretty(r.inputs),
      pretty(r.outputs));
}

}  // namespace wharf::cli
