#pragma once
// Feature tables as `wharf featurize` writes them, in two files per table:
//   STEM.csv   path[,label],NAME1,...,NAMEn      (floats in shortest round-trip form)
//   STEM.npy   NumPy 1.0 format, one structured record per row:
//              dtype [('path', '<U{P}'), ('label', '<U{L}'), ('features', '<f4', (n,))]
//              (no 'label' field when the table is unlabelled)
// so `np.load("train.npy")["features"]` is the rows x n matrix. Both are
// written to temporaries and renamed by Finish: a failed run leaves no
// half table. Tables with equal layouts concatenate (shards into one).
// Not thread-safe: one writer per table.

#include <cstddef>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace wharf::data {

// The columns of a table, fixed before its first row.
struct FeatureTableLayout {
  std::vector<std::string> feature_names;
  bool labelled = true;
  // Widths of the .npy text fields in code points: the longest path and
  // label the whole input holds (not one shard's), so shards and a single
  // run have the same dtype.
  std::size_t path_chars = 1, label_chars = 1;
};

class FeatureTableWriter {
 public:
  // Opens STEM.csv and STEM.npy for writing. InvalidArgument for a layout
  // without features; IoError naming the file.
  static Result<std::unique_ptr<FeatureTableWriter>> Create(const std::filesystem::path& stem,
                                                            FeatureTableLayout layout);
  ~FeatureTableWriter();

  // Appends one row of feature_names.size() floats. InvalidArgument when the
  // path or label is longer than the layout's width (in code points).
  Status Append(std::string_view path, std::string_view label, const float* features);

  // Writes the row count into the .npy header and renames both files into place.
  Status Finish();

  std::size_t rows() const { return rows_; }

 private:
  FeatureTableWriter() = default;

  std::filesystem::path stem_;
  FeatureTableLayout layout_;
  std::ofstream csv_, npy_;
  std::size_t rows_ = 0, header_bytes_ = 0;
  std::string line_, record_;
};

// The .npy header (magic, version, length, dictionary, padding) for `rows`
// records of `layout`, padded to a fixed size whatever `rows` is (so it can
// be rewritten in place once the count is known).
std::string NpyHeader(const FeatureTableLayout& layout, std::size_t rows);

// Appends the tables at `parts` (stems, in order), each of `layout`, into
// one table at `out` (a stem). InvalidArgument naming a part whose CSV
// header or .npy dtype is not the layout's; DataLoss for a truncated part.
Status ConcatFeatureTables(const FeatureTableLayout& layout, const std::vector<std::filesystem::path>& parts,
                           const std::filesystem::path& out);

// A CSV read as some text columns carried along (an image's path, its
// label) and numeric feature columns: what `wharf pca` reads.
struct MixedTable {
  std::vector<std::string> kept_names;
  std::vector<std::string> kept;  // rows * kept_names.size(), row-major
  std::vector<std::string> feature_names;
  std::size_t rows = 0;
  std::vector<float> x;  // rows * feature_names.size(), row-major
  std::string sha256;    // of the file's bytes
};

// Which columns ReadMixedTable reads.
struct MixedColumns {
  std::vector<std::string> keep;  // text columns, in this order
  bool keep_if_present = false;   // skip absent `keep` columns instead of NotFound
  // Feature columns in this order; empty: every column not kept.
  std::vector<std::string> features;
};

// Reads the whole file. NotFound naming a missing column (and the columns
// present); InvalidArgument naming file:line:column for a feature that is
// not a number or is missing (a projection has no default for it), and for
// a file without rows.
Result<MixedTable> ReadMixedTable(const std::filesystem::path& path, const MixedColumns& columns);

}  // namespace wharf::data
