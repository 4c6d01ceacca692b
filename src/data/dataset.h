#pragma once
// Numeric feature tables read from CSV: all at once for training, in batches
// for prediction.

#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "data/csv_reader.h"

namespace wharf::data {

// Which columns to read. `features` empty means every column but the label
// and the ignored ones.
struct ColumnSpec {
  std::optional<std::string> label;  // the label column's name, if any
  bool label_required = true;        // NotFound when `label` is set but absent
  std::vector<std::string> features;
  // Columns that are neither (an id, an image's path): NotFound if absent.
  std::vector<std::string> ignore = {};
};

// A numeric feature matrix (row-major, NaN = missing) with optional labels
// (kept as text, so "5" and "red" both work; the learner maps them).
struct Dataset {
  std::string source;                 // file name, for messages
  std::vector<std::string> features;  // column names, in matrix order
  std::size_t rows = 0;
  std::vector<float> x;               // rows * features.size()
  std::vector<std::string> labels;    // empty when the file has no label column
  std::string sha256;                 // of the file's bytes

  std::size_t cols() const { return features.size(); }
  const float* row(std::size_t i) const { return x.data() + i * features.size(); }
};

// Rows of selected columns in batches, from a CSV file (CsvFeatureReader)
// or a SQL query (query_source.h). Not thread-safe.
class FeatureReader {
 public:
  virtual ~FeatureReader() = default;

  virtual const std::vector<std::string>& features() const = 0;
  virtual bool has_label() const = 0;
  // What messages name: a file, or a database and query.
  virtual const std::string& source_name() const = 0;

  // Appends up to `max_rows` (> 0) rows to `x` (row-major) and, when the
  // source has a label column and `labels` is not null, their labels
  // (trimmed). Returns the number of rows appended; 0 means the input is
  // exhausted. InvalidArgument naming where (file:line:column, or query
  // row and column) for text in a feature column or an empty label; on
  // error nothing is appended.
  virtual Result<std::size_t> ReadBatch(std::size_t max_rows, std::vector<float>& x,
                                        std::vector<std::string>* labels) = 0;

  // Lower-case hex SHA-256 of what was read, once the input is exhausted
  // (a file: its bytes; a query: its rows).
  virtual std::string ContentSha256() const = 0;
};

// Reads selected columns of a CSV in row batches. Feature columns must hold
// numbers (or a missing-value marker); anything else is InvalidArgument naming
// file:line:column, the column and the text found.
// Not thread-safe.
class CsvFeatureReader final : public FeatureReader {
 public:
  // NotFound naming the missing column (and listing the columns present) when
  // a requested feature or a required label is not in the header.
  static Result<std::unique_ptr<CsvFeatureReader>> Open(const std::filesystem::path& path, const ColumnSpec& spec);
  static Result<std::unique_ptr<CsvFeatureReader>> FromReader(std::unique_ptr<CsvReader> reader,
                                                              const ColumnSpec& spec);

  const std::vector<std::string>& features() const override { return features_; }
  bool has_label() const override { return label_index_.has_value(); }
  const std::string& source_name() const override { return csv_->source_name(); }
  const CsvReader& csv() const { return *csv_; }

  Result<std::size_t> ReadBatch(std::size_t max_rows, std::vector<float>& x,
                                std::vector<std::string>* labels) override;
  std::string ContentSha256() const override { return csv_->ContentSha256(); }

 private:
  CsvFeatureReader() = default;

  std::unique_ptr<CsvReader> csv_;
  std::vector<std::string> features_;
  std::vector<std::size_t> feature_index_;  // header position of each feature
  std::optional<std::size_t> label_index_;
  CsvRecord record_;
};

// Reads every remaining row of `reader` (sha256 left empty); no rows is not
// an error here.
Result<Dataset> ReadAllRows(FeatureReader& reader);

// NotFound "SOURCE: WHAT 'NAME' not found[; did you mean 'Name'?]; columns
// present: ...", for a column `csv`'s header lacks.
Status ColumnNotFound(const CsvReader& csv, std::string_view what, const std::string& name);
Status ColumnNotFound(std::string_view source, const std::vector<std::string>& header, std::string_view what,
                      const std::string& name);

// The header positions a ColumnSpec picks, in feature order.
struct ColumnSelection {
  std::vector<std::string> features;
  std::vector<std::size_t> feature_index;
  std::optional<std::size_t> label_index;
};
// Applies `spec` to `header` (of `source`, for messages): NotFound naming a
// missing column, InvalidArgument for a column asked to be two things or
// when no feature is left.
Result<ColumnSelection> SelectColumns(const std::vector<std::string>& header, std::string_view source,
                                      const ColumnSpec& spec);

// Why `text` in a feature column is not a number: " (the decimal separator
// must be '.')", " (infinities are not accepted)", ... or "".
std::string NotANumberHint(std::string_view text);

// Reads the whole file. InvalidArgument if it has no data rows; `sha256`
// covers every byte of the file.
Result<Dataset> ReadDataset(const std::filesystem::path& path, const ColumnSpec& spec);

}  // namespace wharf::data
