#include "data/shard.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <istream>
#include <memory>
#include <streambuf>

namespace wharf::data {

namespace {

constexpr std::size_t kChunk = 1 << 16;

// Reads a file's bytes in chunks from an offset; counts and finds '\n'.
class ByteScanner {
 public:
  explicit ByteScanner(const std::filesystem::path& path) : in_(path, std::ios::binary) {}
  bool ok() const { return in_.is_open(); }

  // Offset just past the first '\n' at or after `from`; `size` if none.
  std::uint64_t NextLineStart(std::uint64_t from, std::uint64_t size) {
    in_.clear();
    in_.seekg(static_cast<std::streamoff>(from));
    std::uint64_t pos = from;
    while (pos < size) {
      const auto n = Read();
      if (n == 0) break;
      const char* nl = static_cast<const char*>(std::memchr(buffer_.data(), '\n', n));
      if (nl != nullptr) return pos + static_cast<std::uint64_t>(nl - buffer_.data()) + 1;
      pos += n;
    }
    return size;
  }

  // Number of '\n' in [0, end).
  std::uint64_t CountLines(std::uint64_t end) {
    in_.clear();
    in_.seekg(0);
    std::uint64_t pos = 0, lines = 0;
    while (pos < end) {
      const auto n = std::min<std::uint64_t>(Read(), end - pos);
      if (n == 0) break;
      lines += static_cast<std::uint64_t>(std::count(buffer_.data(), buffer_.data() + n, '\n'));
      pos += n;
    }
    return lines;
  }

 private:
  std::size_t Read() {
    in_.read(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
    return static_cast<std::size_t>(in_.gcount());
  }

  std::ifstream in_;
  std::array<char, kChunk> buffer_{};
};

// The header line, then the shard's bytes: what a CsvReader reads.
class ShardStreambuf final : public std::streambuf {
 public:
  ShardStreambuf(const std::filesystem::path& path, const ShardRange& range)
      : in_(path, std::ios::binary), header_left_(range.header_end), next_(range.begin), left_(range.end - range.begin) {}

 protected:
  int_type underflow() override {
    if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
    std::uint64_t want = 0;
    if (header_left_ > 0) {
      in_.seekg(static_cast<std::streamoff>(header_offset_));
      want = std::min<std::uint64_t>(header_left_, buffer_.size());
    } else {
      if (!seeked_) {
        in_.seekg(static_cast<std::streamoff>(next_));
        seeked_ = true;
      }
      want = std::min<std::uint64_t>(left_, buffer_.size());
    }
    if (want == 0) return traits_type::eof();
    in_.read(buffer_.data(), static_cast<std::streamsize>(want));
    const auto got = static_cast<std::uint64_t>(in_.gcount());
    if (got == 0) return traits_type::eof();
    if (header_left_ > 0) {
      header_left_ -= got;
      header_offset_ += got;
    } else {
      left_ -= got;
    }
    setg(buffer_.data(), buffer_.data(), buffer_.data() + got);
    return traits_type::to_int_type(*gptr());
  }

 private:
  std::ifstream in_;
  std::uint64_t header_offset_ = 0, header_left_;
  std::uint64_t next_, left_;
  bool seeked_ = false;
  std::array<char, kChunk> buffer_{};
};

// An istream that owns its ShardStreambuf.
class ShardStream final : public std::istream {
 public:
  ShardStream(const std::filesystem::path& path, const ShardRange& range) : std::istream(nullptr), buf_(path, range) {
    rdbuf(&buf_);
  }

 private:
  ShardStreambuf buf_;
};

}  // namespace

Result<ShardRange> FindShard(const std::filesystem::path& path, std::size_t index, std::size_t count) {
  if (count == 0 || index >= count) {
    return InvalidArgument("shard " + std::to_string(index) + " of " + std::to_string(count) + " does not exist");
  }
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec == std::errc::no_such_file_or_directory) return NotFound(path.string() + ": no such file");
  if (ec) return IoError(path.string() + ": " + ec.message());
  ByteScanner scanner(path);
  if (!scanner.ok()) return IoError(path.string() + ": cannot open: " + std::strerror(errno));

  ShardRange range;
  range.header_end = scanner.NextLineStart(0, size);
  if (range.header_end == 0) return InvalidArgument(path.string() + ": empty file, expected a header line");
  // A cut inside a line moves to the next line start; the header is nobody's.
  auto line_start_at_or_after = [&](std::uint64_t cut) {
    if (cut <= range.header_end) return range.header_end;
    return scanner.NextLineStart(cut - 1, size);
  };
  const auto body = size - range.header_end;
  range.begin = line_start_at_or_after(range.header_end + body * index / count);
  range.end = line_start_at_or_after(range.header_end + body * (index + 1) / count);
  range.first_line = scanner.CountLines(range.begin) + 1;
  return range;
}

Result<Dataset> ReadDatasetShard(const std::filesystem::path& path, const ColumnSpec& spec, std::size_t index,
                                 std::size_t count) {
  WHARF_ASSIGN_OR_RETURN(const ShardRange range, FindShard(path, index, count));
  CsvOptions options;
  options.first_row_line = range.first_line;
  WHARF_ASSIGN_OR_RETURN(auto csv,
                         CsvReader::FromStream(std::make_unique<ShardStream>(path, range), path.string(), options));
  WHARF_ASSIGN_OR_RETURN(auto reader, CsvFeatureReader::FromReader(std::move(csv), spec));
  return ReadAllRows(*reader);
}

}  // namespace wharf::data
