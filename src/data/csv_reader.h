#pragma once
// Streaming CSV reader with dialect sniffing.
//
// Accepts what circulates in practice: `;` `,` or tab delimiters (sniffed from
// the header line), header names quoted any number of times ("a", """"a""""),
// LF or CRLF line ends, a UTF-8 byte-order mark, blank lines (skipped), and
// RFC 4180 quoted fields (with "" escapes and embedded delimiters/newlines).
// Reads one record at a time, so files larger than memory stream through.
// Every error names the source, line and column and what was expected.
// Not thread-safe: one reader per thread.

#include <cstdint>
#include <filesystem>
#include <istream>
#include <memory>
#include <string>
#include <vector>

#include "core/sha256.h"
#include "core/status.h"

namespace wharf::data {

// One record of a CSV file: its fields (quotes removed) and where they began.
struct CsvRecord {
  std::vector<std::string> fields;
  std::vector<std::uint32_t> columns;  // 1-based character column where each field starts
  // 1-based line where each field starts; differs from `line` only for fields
  // after a newline inside a quoted field.
  std::vector<std::uint64_t> lines;
  std::uint64_t line = 0;  // 1-based line where the record starts
};

struct CsvOptions {
  // 0 sniffs the delimiter from the header line (`;` `,` or tab); otherwise forced.
  char delimiter = 0;
  // 1-based line number of the first line after the header, for a reader over
  // a slice of a file (a shard); 0: the lines follow the header.
  std::uint64_t first_row_line = 0;
  // The most bytes a quoted field may hold across lines: past it, a quote
  // that never closes (a stray '"') is reported where it opened, instead of
  // the rest of the file being read into one field.
  std::size_t max_quoted_field_bytes = std::size_t{64} << 20;
  // The most bytes one physical line may hold: a file without line ends (or
  // not a CSV at all) is refused at this point instead of read into memory.
  std::size_t max_line_bytes = std::size_t{16} << 20;
};

class CsvReader {
 public:
  // Opens `path` and reads its header. NotFound if the file does not exist,
  // InvalidArgument if it is empty or has no header.
  static Result<std::unique_ptr<CsvReader>> Open(const std::filesystem::path& path, CsvOptions options = {});
  // Reads from `in`; `source_name` is used in error messages.
  static Result<std::unique_ptr<CsvReader>> FromStream(std::unique_ptr<std::istream> in, std::string source_name,
                                                       CsvOptions options = {});
  ~CsvReader();

  // Header names with surrounding quotes (any number of layers) and
  // whitespace stripped.
  const std::vector<std::string>& header() const { return header_; }
  char delimiter() const { return delimiter_; }
  const std::string& source_name() const { return source_name_; }

  // Reads the next non-blank record into `record`, reusing its storage.
  // Returns false at the end of input. InvalidArgument, naming line and
  // column, for a record whose field count differs from the header's, an
  // unterminated quote (named where it opened; also one whose field passes
  // CsvOptions::max_quoted_field_bytes), text after a closing quote or a
  // line longer than CsvOptions::max_line_bytes.
  // A newline inside a quoted field is kept as "\n" (also for CRLF files).
  Result<bool> Next(CsvRecord& record);

  // "source:line:column" of field `field` of `record`, for error messages.
  std::string Where(const CsvRecord& record, std::size_t field) const;

  // Lower-case hex SHA-256 of every byte of the input (BOM and line ends
  // included), available once Next() has returned false; empty before that,
  // or when reading failed.
  std::string ContentSha256() const;

 private:
  CsvReader(std::unique_ptr<std::istream> in, std::string source_name);
  Status ReadHeader(CsvOptions options);
  // Reads one physical line (without its LF/CRLF) into `line`; false at EOF,
  // on a read error or past max_line_bytes_ (CheckStream tells which).
  bool ReadLine(std::string& line);
  // Why ReadLine returned false: IoError if the stream failed,
  // InvalidArgument for a line past max_line_bytes_; OK at the end of input.
  Status CheckStream() const;
  // Splits line_ (and any continuation lines) into `record`.
  Status ParseRecord(CsvRecord& record);

  std::unique_ptr<std::istream> in_;
  std::string source_name_;
  char delimiter_ = ',';
  std::size_t max_quoted_field_bytes_ = 0;
  std::size_t max_line_bytes_ = 0;
  Status line_error_;  // a line past max_line_bytes_ (reading stops there)
  std::vector<std::string> header_;
  std::uint64_t line_number_ = 0;
  std::string line_;  // the current physical line, reused between records
  bool exhausted_ = false;
  std::unique_ptr<Sha256> hasher_;
  std::string digest_;  // filled once the input is exhausted
};

// The delimiter as a user would name it: "';'", "','", "tab".
std::string DelimiterName(char delimiter);

}  // namespace wharf::data
