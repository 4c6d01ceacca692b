#include "data/feature_table.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <cstring>

#include <fmt/format.h>

#include "data/csv_reader.h"
#include "data/dataset.h"
#include "data/number.h"
#include "data/text.h"

namespace wharf::data {

namespace {

namespace fs = std::filesystem;

constexpr std::string_view kNpyMagic("\x93NUMPY\x01\x00", 8);

fs::path WithSuffix(const fs::path& stem, std::string_view suffix) {
  fs::path p = stem;
  p += suffix;
  return p;
}

// UTF-8 -> code points (an invalid or truncated sequence's first byte
// becomes U+FFFD), for NumPy's '<U' fields.
std::u32string CodePoints(std::string_view s) {
  std::u32string out;
  std::size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<unsigned char>(s[i]);
    const std::size_t extra = b < 0x80 ? 0 : (b >> 5) == 0x6 ? 1 : (b >> 4) == 0xE ? 2 : (b >> 3) == 0x1E ? 3 : 4;
    char32_t c = extra == 0 ? b : b & (0x3F >> extra);
    bool valid = extra < 4 && i + extra < s.size();
    for (std::size_t k = 1; valid && k <= extra; ++k) {
      const auto next = static_cast<unsigned char>(s[i + k]);
      valid = (next >> 6) == 0x2;
      c = (c << 6) | (next & 0x3F);
    }
    out += valid ? c : U'\uFFFD';
    i += valid ? extra + 1 : 1;
  }
  return out;
}

// Appends `s` as a fixed-width little-endian UTF-32 field of `chars` code points.
Status AppendText(std::string& record, std::string_view s, std::size_t chars, std::string_view field) {
  const std::u32string points = CodePoints(s);
  if (points.size() > chars) {
    return InvalidArgument(fmt::format("{} '{}' is longer than the table's {} characters", field, s, chars));
  }
  for (std::size_t i = 0; i < chars; ++i) {
    const std::uint32_t c = i < points.size() ? points[i] : 0;
    for (int k = 0; k < 4; ++k) record += static_cast<char>((c >> (8 * k)) & 0xFF);
  }
  return Status::Ok();
}

std::size_t RecordBytes(const FeatureTableLayout& l) {
  return 4 * l.path_chars + (l.labelled ? 4 * l.label_chars : 0) + 4 * l.feature_names.size();
}

std::string CsvHeader(const FeatureTableLayout& layout) {
  std::string header = "path";
  if (layout.labelled) header += ",label";
  for (const auto& name : layout.feature_names) (header += ',') += CsvField(name);
  return header;
}

// Copies what is left of `in` to `out`; the bytes copied.
std::uint64_t CopyRest(std::ifstream& in, std::ofstream& out) {
  std::vector<char> buffer(1 << 20);
  std::uint64_t copied = 0;
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const auto got = static_cast<std::size_t>(in.gcount());
    out.write(buffer.data(), static_cast<std::streamsize>(got));
    copied += got;
  }
  return copied;
}

// The row count in a part's .npy header, when the header is `layout`'s.
Result<std::uint64_t> NpyRows(std::ifstream& in, const FeatureTableLayout& layout, const fs::path& path) {
  const std::string expected = NpyHeader(layout, 0);
  std::string header(expected.size(), '\0');
  if (!in.read(header.data(), static_cast<std::streamsize>(header.size())) || header.substr(0, 8) != kNpyMagic) {
    return InvalidArgument(fmt::format("{}: not a feature table's .npy", path.string()));
  }
  const std::size_t at = expected.find("'shape': (") + 10;
  std::uint64_t rows = 0;
  const std::string digits = header.substr(at, 20);
  const std::size_t first = digits.find_first_not_of(' ');
  if (first == std::string::npos || digits.find_first_not_of("0123456789", first) != std::string::npos ||
      header.substr(0, at) != expected.substr(0, at) || header.substr(at + 20) != expected.substr(at + 20)) {
    return InvalidArgument(fmt::format("{}: its columns differ from the table's", path.string()));
  }
  rows = std::stoull(digits.substr(first));
  return rows;
}

}  // namespace

std::string NpyHeader(const FeatureTableLayout& layout, std::size_t rows) {
  std::string descr = fmt::format("[('path', '<U{}'), ", layout.path_chars);
  if (layout.labelled) descr += fmt::format("('label', '<U{}'), ", layout.label_chars);
  descr += fmt::format("('features', '<f4', ({},))]", layout.feature_names.size());
  // The count is right-aligned in 20 places, so the header's size does not depend on it.
  std::string dictionary =
      fmt::format("{{'descr': {}, 'fortran_order': False, 'shape': ({:>20},), }}", descr, rows);
  const std::size_t total = (kNpyMagic.size() + 2 + dictionary.size() + 1 + 63) / 64 * 64;
  dictionary.append(total - kNpyMagic.size() - 2 - dictionary.size() - 1, ' ');
  dictionary += '\n';
  std::string header(kNpyMagic);
  header += static_cast<char>(dictionary.size() & 0xFF);
  header += static_cast<char>(dictionary.size() >> 8);
  return header + dictionary;
}

Result<std::unique_ptr<FeatureTableWriter>> FeatureTableWriter::Create(const fs::path& stem, FeatureTableLayout layout) {
  if (layout.feature_names.empty()) return InvalidArgument("a feature table needs at least one feature");
  auto writer = std::unique_ptr<FeatureTableWriter>(new FeatureTableWriter());
  writer->stem_ = stem;
  writer->layout_ = std::move(layout);
  writer->csv_.open(WithSuffix(stem, ".csv.partial"), std::ios::binary | std::ios::trunc);
  writer->npy_.open(WithSuffix(stem, ".npy.partial"), std::ios::binary | std::ios::trunc);
  if (!writer->csv_ || !writer->npy_) {
    return IoError(fmt::format("{}: cannot create the feature table ({})", stem.string(), std::strerror(errno)));
  }
  writer->csv_ << CsvHeader(writer->layout_) << '\n';
  const std::string npy_header = NpyHeader(writer->layout_, 0);
  writer->header_bytes_ = npy_header.size();
  writer->npy_ << npy_header;
  return writer;
}

FeatureTableWriter::~FeatureTableWriter() {
  if (!csv_.is_open() && !npy_.is_open()) return;
  csv_.close();
  npy_.close();
  std::error_code ec;
  fs::remove(WithSuffix(stem_, ".csv.partial"), ec);
  fs::remove(WithSuffix(stem_, ".npy.partial"), ec);
}

Status FeatureTableWriter::Append(std::string_view path, std::string_view label, const float* features) {
  record_.clear();
  WHARF_RETURN_IF_ERROR(AppendText(record_, path, layout_.path_chars, "path"));
  if (layout_.labelled) WHARF_RETURN_IF_ERROR(AppendText(record_, label, layout_.label_chars, "label"));
  const std::size_t n = layout_.feature_names.size();
  const std::size_t at = record_.size();
  record_.resize(at + 4 * n);
  std::memcpy(record_.data() + at, features, 4 * n);  // little-endian hosts only (x86-64, arm64)
  npy_.write(record_.data(), static_cast<std::streamsize>(record_.size()));

  line_ = CsvField(path);
  if (layout_.labelled) (line_ += ',') += CsvField(label);
  for (std::size_t i = 0; i < n; ++i) fmt::format_to(std::back_inserter(line_), ",{}", features[i]);
  line_ += '\n';
  csv_.write(line_.data(), static_cast<std::streamsize>(line_.size()));
  ++rows_;
  if (!csv_ || !npy_) return IoError(fmt::format("{}: writing the feature table failed", stem_.string()));
  return Status::Ok();
}

Status FeatureTableWriter::Finish() {
  npy_.seekp(0);
  const std::string header = NpyHeader(layout_, rows_);
  if (header.size() != header_bytes_) return Internal("the .npy header changed size");
  npy_ << header;
  npy_.close();
  csv_.close();
  if (!csv_ || !npy_) return IoError(fmt::format("{}: closing the feature table failed", stem_.string()));
  std::error_code ec;
  for (const char* suffix : {".csv", ".npy"}) {
    fs::rename(WithSuffix(stem_, std::string(suffix) + ".partial"), WithSuffix(stem_, suffix), ec);
    if (ec) return IoError(fmt::format("{}{}: {}", stem_.string(), suffix, ec.message()));
  }
  return Status::Ok();
}

Status ConcatFeatureTables(const FeatureTableLayout& layout, const std::vector<fs::path>& parts, const fs::path& out) {
  if (parts.empty()) return InvalidArgument("no feature tables to concatenate");
  const std::uint64_t record = RecordBytes(layout);
  // .npy: one header with the total count, then every part's records.
  std::vector<std::uint64_t> rows;
  for (const auto& part : parts) {
    const fs::path path = WithSuffix(part, ".npy");
    std::ifstream in(path, std::ios::binary);
    if (!in) return NotFound(fmt::format("{}: no such file", path.string()));
    WHARF_ASSIGN_OR_RETURN(const std::uint64_t n, NpyRows(in, layout, path));
    std::error_code ec;
    const std::uint64_t bytes = fs::file_size(path, ec) - NpyHeader(layout, 0).size();
    if (ec || bytes != n * record) {
      return DataLoss(fmt::format("{}: {} bytes of records, not the {} its {} rows take", path.string(), bytes,
                                  n * record, n));
    }
    rows.push_back(n);
  }
  std::uint64_t total = 0;
  for (const auto n : rows) total += n;
  std::ofstream npy(WithSuffix(out, ".npy.partial"), std::ios::binary | std::ios::trunc);
  npy << NpyHeader(layout, total);
  for (const auto& part : parts) {
    std::ifstream in(WithSuffix(part, ".npy"), std::ios::binary);
    in.seekg(static_cast<std::streamoff>(NpyHeader(layout, 0).size()));
    CopyRest(in, npy);
  }
  npy.close();
  if (!npy) return IoError(fmt::format("{}.npy: writing failed", out.string()));
  // .csv: one header, then every part's rows.
  std::ofstream csv(WithSuffix(out, ".csv.partial"), std::ios::binary | std::ios::trunc);
  const std::string expected = CsvHeader(layout);
  csv << expected << '\n';
  for (const auto& part : parts) {
    const fs::path path = WithSuffix(part, ".csv");
    std::ifstream in(path, std::ios::binary);
    if (!in) return NotFound(fmt::format("{}: no such file", path.string()));
    std::string header;
    std::getline(in, header);
    if (header != expected) return InvalidArgument(fmt::format("{}: its header differs from the table's", path.string()));
    CopyRest(in, csv);
  }
  csv.close();
  if (!csv) return IoError(fmt::format("{}.csv: writing failed", out.string()));
  std::error_code ec;
  for (const char* suffix : {".csv", ".npy"}) {
    fs::rename(WithSuffix(out, std::string(suffix) + ".partial"), WithSuffix(out, suffix), ec);
    if (ec) return IoError(fmt::format("{}{}: {}", out.string(), suffix, ec.message()));
  }
  return Status::Ok();
}

Result<MixedTable> ReadMixedTable(const fs::path& path, const MixedColumns& columns) {
  WHARF_ASSIGN_OR_RETURN(auto csv, CsvReader::Open(path));
  const auto& header = csv->header();
  auto find = [&](const std::string& name) -> std::optional<std::size_t> {
    const auto it = std::find(header.begin(), header.end(), name);
    if (it == header.end()) return std::nullopt;
    return static_cast<std::size_t>(it - header.begin());
  };
  MixedTable table;
  std::vector<std::size_t> kept_at, feature_at;
  std::vector<bool> taken(header.size(), false);
  for (const auto& name : columns.keep) {
    const auto at = find(name);
    if (!at && columns.keep_if_present) continue;
    if (!at) return ColumnNotFound(*csv, "kept column", name);
    table.kept_names.push_back(name);
    kept_at.push_back(*at);
    taken[*at] = true;
  }
  if (columns.features.empty()) {
    for (std::size_t i = 0; i < header.size(); ++i) {
      if (taken[i]) continue;
      table.feature_names.push_back(header[i]);
      feature_at.push_back(i);
    }
  } else {
    for (const auto& name : columns.features) {
      const auto at = find(name);
      if (!at) return ColumnNotFound(*csv, "feature column", name);
      table.feature_names.push_back(name);
      feature_at.push_back(*at);
    }
  }
  if (table.feature_names.empty()) return InvalidArgument(fmt::format("{}: no feature columns", path.string()));
  CsvRecord record;
  while (true) {
    WHARF_ASSIGN_OR_RETURN(const bool more, csv->Next(record));
    if (!more) break;
    for (const std::size_t at : kept_at) table.kept.push_back(record.fields[at]);
    for (std::size_t j = 0; j < feature_at.size(); ++j) {
      const std::string& text = record.fields[feature_at[j]];
      const std::optional<float> value = ParseNumber(text);
      if (!value || std::isnan(*value)) {
        return InvalidArgument(fmt::format("{}: column '{}': {}", csv->Where(record, feature_at[j]),
                                           table.feature_names[j],
                                           value ? "missing value; every feature needs a value"
                                                 : fmt::format("'{}' is not a number (carry text columns with --keep)",
                                                               text.substr(0, 40))));
      }
      table.x.push_back(*value);
    }
    ++table.rows;
  }
  if (table.rows == 0) return InvalidArgument(fmt::format("{}: no data rows", path.string()));
  table.sha256 = csv->ContentSha256();
  return table;
}

}  // namespace wharf::data
