#include "data/dataset.h"

#include <charconv>
#include <cmath>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "data/number.h"
#include "data/text.h"

namespace wharf::data {
namespace {

// Rows per ReadBatch call when reading a whole file.
constexpr std::size_t kDatasetBatchRows = 1 << 16;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string ListColumns(const std::vector<std::string>& header) {
  constexpr std::size_t kMaxListed = 40;
  std::string out;
  for (std::size_t i = 0; i < header.size() && i < kMaxListed; ++i) {
    if (i > 0) out += ", ";
    out += "'" + header[i] + "'";
  }
  if (header.size() > kMaxListed) out += " and " + std::to_string(header.size() - kMaxListed) + " more";
  return out;
}

// The field as shown in a message: at most 40 characters.
std::string Excerpt(std::string_view text) {
  constexpr std::size_t kMax = 40;
  if (text.size() <= kMax) return std::string(text);
  return std::string(text.substr(0, kMax)) + "...";
}

}  // namespace

std::string NotANumberHint(std::string_view text) {
  text = Trim(text);
  if (text.find(',') != std::string_view::npos && text.find_first_of("0123456789") != std::string_view::npos) {
    return " (the decimal separator must be '.')";
  }
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  std::string_view magnitude = text;
  if (!magnitude.empty() && magnitude.front() == '-') magnitude.remove_prefix(1);
  if (EqualsIgnoreCase(magnitude, "inf") || EqualsIgnoreCase(magnitude, "infinity")) {
    return " (infinities are not accepted)";
  }
  double value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  const bool parsed = ptr == text.data() + text.size() && !text.empty();
  if (parsed && (ec == std::errc() ? std::isfinite(value) : ec == std::errc::result_out_of_range)) {
    return " (out of the 32-bit float range)";
  }
  return "";
}

Status ColumnNotFound(std::string_view source, const std::vector<std::string>& header, std::string_view what,
                      const std::string& name) {
  std::string message = std::string(source) + ": " + std::string(what) + " '" + name + "' not found";
  for (const auto& h : header) {
    if (EqualsIgnoreCase(Trim(h), Trim(name))) {
      message += "; did you mean '" + h + "'?";
      break;
    }
  }
  return NotFound(message + "; columns present: " + ListColumns(header));
}

Status ColumnNotFound(const CsvReader& csv, std::string_view what, const std::string& name) {
  return ColumnNotFound(csv.source_name(), csv.header(), what, name);
}

Result<ColumnSelection> SelectColumns(const std::vector<std::string>& header, std::string_view source_name,
                                      const ColumnSpec& spec) {
  const std::string source(source_name);
  ColumnSelection out;
  std::unordered_map<std::string_view, std::size_t> index;
  for (std::size_t i = 0; i < header.size(); ++i) index.emplace(header[i], i);

  if (spec.label) {
    if (auto it = index.find(*spec.label); it != index.end()) {
      out.label_index = it->second;
    } else if (spec.label_required) {
      return ColumnNotFound(source, header, "label column", *spec.label);
    }
  }
  std::unordered_set<std::size_t> ignored;
  for (const auto& name : spec.ignore) {
    auto it = index.find(name);
    if (it == index.end()) return ColumnNotFound(source, header, "ignored column", name);
    if (it->second == out.label_index) {
      return InvalidArgument(source + ": column '" + name + "' is the label; it cannot be ignored");
    }
    ignored.insert(it->second);
  }
  if (spec.features.empty()) {
    for (std::size_t i = 0; i < header.size(); ++i) {
      if (i == out.label_index || ignored.count(i)) continue;
      out.features.push_back(header[i]);
      out.feature_index.push_back(i);
    }
  } else {
    std::unordered_set<std::string_view> requested;
    for (const auto& name : spec.features) {
      auto it = index.find(name);
      if (it == index.end()) return ColumnNotFound(source, header, "column", name);
      if (it->second == out.label_index) {
        return InvalidArgument(source + ": column '" + name + "' is the label; it cannot also be a feature");
      }
      if (ignored.count(it->second)) {
        return InvalidArgument(source + ": column '" + name + "' is both a feature and ignored");
      }
      if (!requested.insert(name).second) {
        return InvalidArgument(source + ": feature column '" + name + "' is requested twice");
      }
      out.features.push_back(name);
      out.feature_index.push_back(it->second);
    }
  }
  if (out.features.empty()) {
    return InvalidArgument(source + ": no feature columns, only the label '" + spec.label.value_or("") + "'");
  }
  return out;
}

Result<std::unique_ptr<CsvFeatureReader>> CsvFeatureReader::Open(const std::filesystem::path& path,
                                                                 const ColumnSpec& spec) {
  WHARF_ASSIGN_OR_RETURN(auto csv, CsvReader::Open(path));
  return FromReader(std::move(csv), spec);
}

Result<std::unique_ptr<CsvFeatureReader>> CsvFeatureReader::FromReader(std::unique_ptr<CsvReader> reader,
                                                                       const ColumnSpec& spec) {
  WHARF_CHECK(reader != nullptr);
  WHARF_ASSIGN_OR_RETURN(ColumnSelection selection, SelectColumns(reader->header(), reader->source_name(), spec));
  std::unique_ptr<CsvFeatureReader> out(new CsvFeatureReader());
  out->features_ = std::move(selection.features);
  out->feature_index_ = std::move(selection.feature_index);
  out->label_index_ = selection.label_index;
  out->csv_ = std::move(reader);
  return out;
}

Result<std::size_t> CsvFeatureReader::ReadBatch(std::size_t max_rows, std::vector<float>& x,
                                                std::vector<std::string>* labels) {
  WHARF_CHECK(max_rows > 0);
  const std::size_t x_size = x.size();
  const std::size_t labels_size = labels ? labels->size() : 0;
  auto fail = [&](Status status) {
    x.resize(x_size);
    if (labels) labels->resize(labels_size);
    return status;
  };
  std::size_t rows = 0;
  while (rows < max_rows) {
    Result<bool> more = csv_->Next(record_);
    if (!more.ok()) return fail(more.status());
    if (!*more) break;
    for (std::size_t k = 0; k < feature_index_.size(); ++k) {
      const std::string& text = record_.fields[feature_index_[k]];
      const std::optional<float> value = ParseNumber(text);
      if (!value) {
        return fail(InvalidArgument(csv_->Where(record_, feature_index_[k]) + ": column '" + features_[k] +
                                    "': expected a number, got \"" + Excerpt(text) + "\"" + NotANumberHint(text)));
      }
      x.push_back(*value);
    }
    if (label_index_) {
      const std::string_view label = Trim(record_.fields[*label_index_]);
      if (label.empty()) {
        return fail(InvalidArgument(csv_->Where(record_, *label_index_) + ": column '" + csv_->header()[*label_index_] +
                                    "': missing label, expected a class name or value"));
      }
      if (labels) labels->emplace_back(label);
    }
    ++rows;
  }
  return rows;
}

Result<Dataset> ReadAllRows(FeatureReader& reader) {
  Dataset data;
  data.source = reader.source_name();
  data.features = reader.features();
  std::vector<std::string>* labels = reader.has_label() ? &data.labels : nullptr;
  for (;;) {
    WHARF_ASSIGN_OR_RETURN(const std::size_t rows, reader.ReadBatch(kDatasetBatchRows, data.x, labels));
    if (rows == 0) break;
    data.rows += rows;
  }
  return data;
}

Result<Dataset> ReadDataset(const std::filesystem::path& path, const ColumnSpec& spec) {
  WHARF_ASSIGN_OR_RETURN(auto reader, CsvFeatureReader::Open(path, spec));
  WHARF_ASSIGN_OR_RETURN(Dataset data, ReadAllRows(*reader));
  if (data.rows == 0) {
    return InvalidArgument(data.source + ": no data rows, expected at least one row after the header");
  }
  data.sha256 = reader->csv().ContentSha256();
  return data;
}

}  // namespace wharf::data
