// libFuzzer target: the CSV reader and the feature reader on top of it, on
// arbitrary bytes. Every input must end in rows or in an error Status, never
// a crash, a hang or a leak.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "data/csv_reader.h"
#include "data/dataset.h"

using namespace wharf;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  // Records as they are, every field and position.
  if (auto csv = data::CsvReader::FromStream(std::make_unique<std::istringstream>(text), "fuzz.csv"); csv.ok()) {
    data::CsvRecord record;
    while (true) {
      Result<bool> more = (*csv)->Next(record);
      if (!more.ok() || !*more) break;
      for (std::size_t i = 0; i < record.fields.size(); ++i) (void)(*csv)->Where(record, i);
    }
    (void)(*csv)->ContentSha256();
  }
  // Numbers: every column but the last is a feature, the last the label.
  auto csv = data::CsvReader::FromStream(std::make_unique<std::istringstream>(text), "fuzz.csv");
  if (!csv.ok() || (*csv)->header().size() < 2) return 0;
  data::ColumnSpec spec;
  spec.label = (*csv)->header().back();
  spec.features.assign((*csv)->header().begin(), (*csv)->header().end() - 1);
  auto reader = data::CsvFeatureReader::FromReader(std::move(*csv), spec);
  if (!reader.ok()) return 0;
  std::vector<float> x;
  std::vector<std::string> labels;
  while (true) {
    Result<std::size_t> rows = (*reader)->ReadBatch(64, x, &labels);
    if (!rows.ok() || *rows == 0) break;
  }
  return 0;
}
