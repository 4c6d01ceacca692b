#include "data/csv_reader.h"

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace wharf::data {
namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";

// A line with nothing but spaces is blank. Tabs are not blank: in a
// tab-separated file they delimit a row of empty fields.
bool IsBlank(std::string_view line) { return line.find_first_not_of(' ') == std::string_view::npos; }

// UTF-8 characters in bytes [from, to) of `s`: every byte but continuation bytes.
std::uint32_t CountChars(std::string_view s, std::size_t from, std::size_t to) {
  std::uint32_t n = 0;
  for (std::size_t i = from; i < to; ++i) n += (static_cast<unsigned char>(s[i]) & 0xC0) != 0x80;
  return n;
}

bool IsSpace(char c) { return c == ' ' || c == '\t'; }

// A header name: surrounding quotes (any number of layers) and whitespace
// stripped, doubled quotes inside made single.
std::string CleanHeaderName(std::string_view raw) {
  while (!raw.empty() && (IsSpace(raw.front()) || raw.front() == '"')) raw.remove_prefix(1);
  while (!raw.empty() && (IsSpace(raw.back()) || raw.back() == '"')) raw.remove_suffix(1);
  std::string name;
  name.reserve(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) {
    name.push_back(raw[i]);
    if (raw[i] == '"' && i + 1 < raw.size() && raw[i + 1] == '"') ++i;
  }
  return name;
}

bool IsCandidate(char c) { return c == ',' || c == ';' || c == '\t'; }

// Walks a header the lenient way, calling on_delimiter(i) for each byte i
// outside quotes that is_delimiter accepts; returns whether a quote is left
// open. A quote opens only at the start of a name (after spaces or other
// quotes) and closes anywhere, so layered quotes ("""a""") and "" escapes pair
// up while a quote inside a name (5" pipe) stays literal.
template <typename IsDelimiter, typename OnDelimiter>
bool ScanHeader(std::string_view text, IsDelimiter is_delimiter, OnDelimiter on_delimiter) {
  bool quoted = false;
  bool at_start = true;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '"') {
      if (quoted || at_start) quoted = !quoted;
    } else if (!quoted) {
      if (is_delimiter(c)) {
        on_delimiter(i);
        at_start = true;
      } else if (!IsSpace(c)) {
        at_start = false;
      }
    }
  }
  return quoted;
}

// The candidate delimiter occurring most often outside quotes in `header`;
// ties go to the earlier of ',' ';' tab. ',' (one column) when none occurs.
char SniffDelimiter(std::string_view header) {
  constexpr std::array<char, 3> kCandidates = {',', ';', '\t'};
  std::array<std::size_t, 3> counts{};
  ScanHeader(header, IsCandidate, [&](std::size_t i) {
    for (std::size_t k = 0; k < kCandidates.size(); ++k) counts[k] += header[i] == kCandidates[k];
  });
  std::size_t best = 0;
  for (std::size_t k = 1; k < kCandidates.size(); ++k) {
    if (counts[k] > counts[best]) best = k;
  }
  return kCandidates[best];
}

std::string Location(const std::string& source, std::uint64_t line, std::uint64_t column) {
  return source + ":" + std::to_string(line) + ":" + std::to_string(column);
}

}  // namespace

std::string DelimiterName(char delimiter) {
  if (delimiter == '\t') return "tab";
  return std::string("'") + delimiter + "'";
}

CsvReader::CsvReader(std::unique_ptr<std::istream> in, std::string source_name)
    : in_(std::move(in)), source_name_(std::move(source_name)), hasher_(std::make_unique<Sha256>()) {}

CsvReader::~CsvReader() = default;

Result<std::unique_ptr<CsvReader>> CsvReader::Open(const std::filesystem::path& path, CsvOptions options) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (ec && ec != std::errc::no_such_file_or_directory) return IoError(path.string() + ": " + ec.message());
  if (!std::filesystem::exists(status)) return NotFound(path.string() + ": no such file");
  if (std::filesystem::is_directory(status)) {
    return InvalidArgument(path.string() + ": is a directory, expected a CSV file");
  }
  auto in = std::make_unique<std::ifstream>(path, std::ios::binary);
  if (!in->is_open()) return IoError(path.string() + ": cannot open: " + std::strerror(errno));
  return FromStream(std::move(in), path.string(), options);
}

Result<std::unique_ptr<CsvReader>> CsvReader::FromStream(std::unique_ptr<std::istream> in, std::string source_name,
                                                         CsvOptions options) {
  std::unique_ptr<CsvReader> reader(new CsvReader(std::move(in), std::move(source_name)));
  reader->max_quoted_field_bytes_ = options.max_quoted_field_bytes;
  reader->max_line_bytes_ = options.max_line_bytes;
  WHARF_RETURN_IF_ERROR(reader->ReadHeader(options));
  return reader;
}

bool CsvReader::ReadLine(std::string& line) {
  if (exhausted_) return false;
  // std::getline would take a line of any length: read it in chunks, up to the limit.
  line.clear();
  bool newline = false;
  for (;;) {
    std::array<char, 1 << 14> chunk;
    in_->getline(chunk.data(), chunk.size());
    const auto extracted = static_cast<std::size_t>(in_->gcount());
    // No flag: the line ended at a '\n' (extracted, not stored). failbit
    // alone: the chunk filled up first. eofbit: the input ended.
    newline = !in_->fail() && !in_->eof();
    line.append(chunk.data(), extracted - (newline ? 1 : 0));
    if (line.size() > max_line_bytes_) {
      line_error_ = InvalidArgument(source_name_ + ":" + std::to_string(line_number_ + 1) + ": line longer than " +
                                    std::to_string(max_line_bytes_) + " bytes: not a CSV file, or no line ends?");
      break;
    }
    if (newline || in_->eof() || in_->bad()) break;
    in_->clear(in_->rdstate() & ~std::ios::failbit);
  }
  if (!line_error_.ok() || in_->bad() || (!newline && line.empty())) {
    exhausted_ = true;
    if (line_error_.ok() && !in_->bad()) digest_ = hasher_->HexDigest();
    hasher_.reset();
    return false;
  }
  ++line_number_;
  // Only a last line without a '\n' ends at EOF.
  if (newline) {
    line.push_back('\n');
    hasher_->Update(line);
    line.pop_back();
  } else {
    hasher_->Update(line);
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line_number_ == 1 && std::string_view(line).starts_with(kBom)) line.erase(0, kBom.size());
  return true;
}

Status CsvReader::CheckStream() const {
  if (!line_error_.ok()) return line_error_;
  if (in_->bad()) return IoError(source_name_ + ": read failed after line " + std::to_string(line_number_));
  return Status::Ok();
}

Status CsvReader::ReadHeader(CsvOptions options) {
  if (options.delimiter == '"' || options.delimiter == '\n' || options.delimiter == '\r') {
    return InvalidArgument("a quote or line end cannot be the CSV delimiter");
  }
  do {
    if (!ReadLine(line_)) {
      WHARF_RETURN_IF_ERROR(CheckStream());
      return InvalidArgument(source_name_ + ": empty file, expected a header line");
    }
  } while (IsBlank(line_));

  // A quoted name may span lines: join lines while a quote is open.
  const std::uint64_t first_line = line_number_;
  const char forced = options.delimiter;
  auto is_delimiter = [forced](char c) { return forced != 0 ? c == forced : IsCandidate(c); };
  std::string text = line_;
  while (ScanHeader(text, is_delimiter, [](std::size_t) {})) {
    if (text.size() > max_quoted_field_bytes_) {
      return InvalidArgument(source_name_ + ":" + std::to_string(first_line) + ": the header's quote runs past " +
                             std::to_string(max_quoted_field_bytes_) + " bytes without closing: a stray quote?");
    }
    if (!ReadLine(line_)) {
      WHARF_RETURN_IF_ERROR(CheckStream());
      return InvalidArgument(source_name_ + ":" + std::to_string(first_line) +
                             ": unterminated quote in the header, expected a closing '\"'");
    }
    text += '\n';
    text += line_;
  }
  delimiter_ = forced != 0 ? forced : SniffDelimiter(text);

  std::vector<std::pair<std::size_t, std::size_t>> spans;  // [begin, end) of each name
  std::size_t begin = 0;
  ScanHeader(
      text, [this](char c) { return c == delimiter_; },
      [&](std::size_t i) {
        spans.emplace_back(begin, i);
        begin = i + 1;
      });
  spans.emplace_back(begin, text.size());

  std::uint64_t line = first_line;  // where spans[k] begins, for messages
  std::uint32_t column = 1;
  std::size_t pos = 0;
  std::unordered_map<std::string, std::size_t> seen;
  for (std::size_t k = 0; k < spans.size(); ++k) {
    const auto [name_begin, name_end] = spans[k];
    for (; pos < name_begin; ++pos) {
      if (text[pos] == '\n') {
        ++line;
        column = 1;
      } else {
        column += CountChars(text, pos, pos + 1);
      }
    }
    std::string name = CleanHeaderName(std::string_view(text).substr(name_begin, name_end - name_begin));
    const std::string where = Location(source_name_, line, column);
    if (name.empty()) {
      return InvalidArgument(where + ": header field " + std::to_string(k + 1) +
                             " has no name, expected a column name");
    }
    auto [it, inserted] = seen.emplace(name, k);
    if (!inserted) {
      return InvalidArgument(where + ": duplicate column name '" + name + "' (also header field " +
                             std::to_string(it->second + 1) + ")");
    }
    header_.push_back(std::move(name));
  }
  if (options.first_row_line > 0) line_number_ = options.first_row_line - 1;
  return Status::Ok();
}

Result<bool> CsvReader::Next(CsvRecord& record) {
  do {
    if (!ReadLine(line_)) {
      WHARF_RETURN_IF_ERROR(CheckStream());
      return false;
    }
  } while (IsBlank(line_));
  record.line = line_number_;
  WHARF_RETURN_IF_ERROR(ParseRecord(record));
  const std::size_t n = record.fields.size();
  if (n != header_.size()) {
    // Point at the first extra field, or at the record when fields are missing.
    const std::string where =
        n > header_.size() ? Where(record, header_.size()) : Location(source_name_, record.line, 1);
    return InvalidArgument(where + ": expected " + std::to_string(header_.size()) + " fields (as in the header), got " +
                           std::to_string(n) + " (delimiter " + DelimiterName(delimiter_) + ")");
  }
  return true;
}

Status CsvReader::ParseRecord(CsvRecord& record) {
  std::size_t n = 0;  // fields so far; record.fields keeps its strings for reuse
  record.columns.clear();
  record.lines.clear();
  const bool skip_spaces = delimiter_ != ' ';
  std::size_t pos = 0;       // byte offset in line_
  std::size_t counted = 0;   // bytes of line_ already counted into `column`
  std::uint32_t column = 1;  // character column at byte `counted`
  for (;;) {
    column += CountChars(line_, counted, pos);
    counted = pos;
    record.columns.push_back(column);
    record.lines.push_back(line_number_);
    if (n == record.fields.size()) record.fields.emplace_back();
    std::string& field = record.fields[n++];
    field.clear();

    std::size_t quote = pos;
    while (skip_spaces && quote < line_.size() && line_[quote] == ' ') ++quote;
    if (quote == line_.size() || line_[quote] != '"') {
      const std::size_t end = line_.find(delimiter_, pos);
      if (end == std::string::npos) {
        field.append(line_, pos);
        break;
      }
      field.append(line_, pos, end - pos);
      pos = end + 1;
      continue;
    }

    const std::uint64_t open_line = line_number_;
    const std::uint32_t open_column = column + CountChars(line_, pos, quote);
    pos = quote + 1;
    for (;;) {
      const std::size_t close = line_.find('"', pos);
      if (close == std::string::npos) {
        field.append(line_, pos);
        field.push_back('\n');
        if (field.size() > max_quoted_field_bytes_) {
          return InvalidArgument(Location(source_name_, open_line, open_column) + ": quoted field runs past " +
                                 std::to_string(max_quoted_field_bytes_) + " bytes (to line " +
                                 std::to_string(line_number_) + ") without its closing '\"': a stray quote?");
        }
        if (!ReadLine(line_)) {
          WHARF_RETURN_IF_ERROR(CheckStream());
          return InvalidArgument(Location(source_name_, open_line, open_column) +
                                 ": quoted field is never closed, expected a closing '\"' before the end of input");
        }
        pos = counted = 0;
        column = 1;
        continue;
      }
      field.append(line_, pos, close - pos);
      pos = close + 1;
      if (pos < line_.size() && line_[pos] == '"') {  // "" is an escaped quote
        field.push_back('"');
        ++pos;
        continue;
      }
      break;
    }
    while (skip_spaces && pos < line_.size() && line_[pos] == ' ') ++pos;
    if (pos == line_.size()) break;
    if (line_[pos] != delimiter_) {
      return InvalidArgument(Location(source_name_, line_number_, column + CountChars(line_, counted, pos)) +
                             ": expected " + DelimiterName(delimiter_) + " or end of line after the closing quote of " +
                             "the field at " + std::to_string(open_line) + ":" + std::to_string(open_column) +
                             ", got '" + line_[pos] + "'");
    }
    ++pos;
  }
  record.fields.resize(n);
  return Status::Ok();
}

std::string CsvReader::Where(const CsvRecord& record, std::size_t field) const {
  if (field >= record.columns.size()) return Location(source_name_, record.line, 1);
  const std::uint64_t line = field < record.lines.size() ? record.lines[field] : record.line;
  return Location(source_name_, line, record.columns[field]);
}

std::string CsvReader::ContentSha256() const { return digest_; }

}  // namespace wharf::data
