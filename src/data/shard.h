#pragma once
// One rank's share of a CSV for data-parallel training: shard `index` of
// `count` holds the data lines that start in the index-th of `count` equal
// byte ranges of the file, so the shards partition the rows without any rank
// reading another's bytes (beyond finding a line's end).
//
// A line belongs to the shard in which its first byte lies. Sharding needs a
// header on one line and no line break inside a quoted field: numeric
// training files satisfy both.

#include <cstddef>
#include <cstdint>
#include <filesystem>

#include "core/status.h"
#include "data/dataset.h"

namespace wharf::data {

// Where a shard's lines are in the file.
struct ShardRange {
  std::uint64_t header_end = 0;  // byte after the header line's '\n'
  std::uint64_t begin = 0;       // first byte of the shard's first line
  std::uint64_t end = 0;         // one past its last line's '\n'
  std::uint64_t first_line = 0;  // 1-based line number of `begin`
};

// The byte range of shard `index` (< count) of `path`. NotFound or IoError
// for the file; InvalidArgument for a file without a header line.
Result<ShardRange> FindShard(const std::filesystem::path& path, std::size_t index, std::size_t count);

// Reads shard `index` of `count` like ReadDataset reads the whole file:
// same columns, same errors naming the file's real line and column. A shard
// may have no rows (a small file split many ways). `sha256` is left empty: it
// would cover only the shard's bytes.
Result<Dataset> ReadDatasetShard(const std::filesystem::path& path, const ColumnSpec& spec, std::size_t index,
                                 std::size_t count);

}  // namespace wharf::data
