#include "data/query_source.h"

#include <cctype>
#include <limits>
#include <optional>
#include <utility>

#include <fmt/format.h>

#include "core/sha256.h"
#include "data/number.h"
#include "data/sql_engines.h"

namespace wharf::data {

namespace {

constexpr std::string_view kSqlite = "sqlite://";
constexpr std::string_view kQueryParameter = "query=";

std::optional<int> HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return std::nullopt;
}

// %XX escapes decoded; '+' is a space in parameters, itself in a path.
std::string PercentDecode(std::string_view text, bool plus_is_space) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      const auto high = HexDigit(text[i + 1]), low = HexDigit(text[i + 2]);
      if (high && low) {
        out += static_cast<char>(*high * 16 + *low);
        i += 2;
        continue;
      }
    }
    out += text[i] == '+' && plus_is_space ? ' ' : text[i];
  }
  return out;
}

std::string_view TrimSpace(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// A URL with its userinfo's password replaced by "***".
std::string HidePassword(std::string_view url) {
  const std::size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return std::string(url);
  const std::size_t host_end = url.find_first_of("/?", scheme + 3);
  const std::size_t at = url.substr(0, host_end).rfind('@');
  if (at == std::string_view::npos || at < scheme) return std::string(url);
  const std::size_t colon = url.substr(0, at).find(':', scheme + 3);
  if (colon == std::string_view::npos) return std::string(url);
  return std::string(url.substr(0, colon + 1)) + "***" + std::string(url.substr(at));
}

bool IsTableName(std::string_view name) {
  if (name.empty() || name.size() > 63 || std::isdigit(static_cast<unsigned char>(name[0]))) return false;
  for (const char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

// Rows of a query as a FeatureReader: cells as text, numbers parsed as a CSV's are.
class QueryFeatureReader final : public FeatureReader {
 public:
  QueryFeatureReader(std::unique_ptr<sql::Cursor> cursor, std::string source, ColumnSelection selection)
      : cursor_(std::move(cursor)), source_(std::move(source)), selection_(std::move(selection)) {}

  const std::vector<std::string>& features() const override { return selection_.features; }
  bool has_label() const override { return selection_.label_index.has_value(); }
  const std::string& source_name() const override { return source_; }
  // Once exhausted (the digest ends the hash).
  std::string ContentSha256() const override { return hash_->HexDigest(); }

  Result<std::size_t> ReadBatch(std::size_t max_rows, std::vector<float>& x,
                                std::vector<std::string>* labels) override {
    const std::size_t x_size = x.size();
    const std::size_t labels_size = labels ? labels->size() : 0;
    auto fail = [&](Status status) {
      x.resize(x_size);
      if (labels) labels->resize(labels_size);
      return status;
    };
    std::size_t rows = 0;
    while (rows < max_rows) {
      Result<bool> more = cursor_->Next(row_);
      if (!more.ok()) return fail(more.status());
      if (!*more) break;
      ++row_number_;
      for (std::size_t k = 0; k < selection_.feature_index.size(); ++k) {
        const sql::Cell& cell = row_[selection_.feature_index[k]];
        if (!cell) {  // NULL: a missing value
          x.push_back(std::numeric_limits<float>::quiet_NaN());
          continue;
        }
        const std::optional<float> value = ParseNumber(*cell);
        if (!value) {
          return fail(InvalidArgument(fmt::format("{}: row {}, column '{}': expected a number, got \"{}\"{}", source_,
                                                  row_number_, selection_.features[k], cell->substr(0, 40),
                                                  NotANumberHint(*cell))));
        }
        x.push_back(*value);
      }
      if (selection_.label_index) {
        const sql::Cell& cell = row_[*selection_.label_index];
        const std::string_view label = cell ? TrimSpace(*cell) : std::string_view();
        if (label.empty()) {
          return fail(InvalidArgument(fmt::format("{}: row {}, column '{}': missing label, expected a class name or value",
                                                  source_, row_number_, cursor_->columns()[*selection_.label_index])));
        }
        if (labels) labels->emplace_back(label);
      }
      for (const auto& cell : row_) {  // the rows' hash: each cell, NULL distinct from empty
        hash_->Update(cell ? "v" : "n");
        if (cell) hash_->Update(*cell);
        hash_->Update("\x1f");
      }
      hash_->Update("\x1e");
      ++rows;
    }
    return rows;
  }

 private:
  std::unique_ptr<sql::Cursor> cursor_;
  std::string source_;
  ColumnSelection selection_;
  std::vector<sql::Cell> row_;
  std::size_t row_number_ = 0;
  std::unique_ptr<Sha256> hash_ = std::make_unique<Sha256>();  // of every cell read, in order
};

Result<std::string> Password(const QueryLocation& location, const SecretLookup& secrets) {
  if (location.password_secret.empty()) return std::string();
  if (!secrets) {
    return FailedPrecondition(
        fmt::format("{}: password_secret needs the secret store, which is not available here", location.Display()));
  }
  Result<std::string> password = secrets(location.password_secret);
  if (!password.ok()) return password.status().WithContext(location.Display());
  return password;
}

}  // namespace

std::string QueryLocation::Display() const {
  const std::string where = engine == Engine::kSqlite ? std::string(kSqlite) + target : HidePassword(target);
  if (!query.empty()) return fmt::format("{} (query: {})", where, query.size() > 80 ? query.substr(0, 77) + "..." : query);
  if (!table.empty()) return fmt::format("{} (table {})", where, table);
  return where;
}

bool IsQueryLocation(std::string_view location) {
  return location.starts_with(kSqlite) || location.starts_with("postgresql://") || location.starts_with("postgres://");
}

Result<QueryLocation> ParseQueryLocation(std::string_view text) {
  if (!IsQueryLocation(text)) {
    return InvalidArgument(fmt::format("'{}' is not a database location (sqlite://, postgresql://)", HidePassword(text)));
  }
  if (HidePassword(text.substr(0, text.find('?'))) != text.substr(0, text.find('?'))) {
    return InvalidArgument(fmt::format(
        "{}: a password in the URL would show in task records and process lists; keep it in a secret and name it "
        "with password_secret=NAME (or give the task PGPASSWORD from a secret)",
        HidePassword(text)));
  }
  QueryLocation location;
  location.engine = text.starts_with(kSqlite) ? QueryLocation::Engine::kSqlite : QueryLocation::Engine::kPostgres;
  std::string_view rest = text;
  // query= is last and verbatim: take it off first.
  const std::size_t question = rest.find('?');
  std::string_view parameters = question == std::string_view::npos ? std::string_view() : rest.substr(question + 1);
  std::string_view base = rest.substr(0, question);
  if (const std::size_t q = parameters.starts_with(kQueryParameter) ? 0 : parameters.find("&query=");
      q != std::string_view::npos) {
    const std::size_t start = q == 0 ? kQueryParameter.size() : q + 1 + kQueryParameter.size();
    location.query = std::string(TrimSpace(parameters.substr(start)));
    parameters = parameters.substr(0, q);
  }
  std::vector<std::string> passed;  // PostgreSQL's own parameters
  while (!parameters.empty()) {
    const std::size_t amp = parameters.find('&');
    const std::string_view pair = parameters.substr(0, amp);
    parameters = amp == std::string_view::npos ? std::string_view() : parameters.substr(amp + 1);
    if (pair.empty()) continue;
    const std::size_t eq = pair.find('=');
    const std::string key(pair.substr(0, eq));
    const std::string value = eq == std::string_view::npos ? "" : PercentDecode(pair.substr(eq + 1), /*plus_is_space=*/true);
    std::string* field = key == "table" ? &location.table
                         : key == "if_exists" ? &location.if_exists
                         : key == "password_secret" ? &location.password_secret
                                                    : nullptr;
    if (field != nullptr) {
      if (!field->empty()) return InvalidArgument(fmt::format("{}: parameter '{}' given twice", HidePassword(text), key));
      *field = value;
    } else if (location.engine == QueryLocation::Engine::kPostgres && key != "password") {
      passed.emplace_back(pair);
    } else {
      return InvalidArgument(fmt::format(
          "{}: unknown parameter '{}' (known: query, table, if_exists{})", HidePassword(text), key,
          location.engine == QueryLocation::Engine::kPostgres ? ", password_secret, and libpq's own but password" : ""));
    }
  }
  if (!location.if_exists.empty() && location.if_exists != "fail" && location.if_exists != "replace" &&
      location.if_exists != "append") {
    return InvalidArgument(fmt::format("{}: if_exists must be fail, replace or append", HidePassword(text)));
  }
  if (!location.table.empty() && !IsTableName(location.table)) {
    return InvalidArgument(fmt::format("{}: table '{}' must be 1 to 63 letters, digits or '_', not starting with a digit",
                                       HidePassword(text), location.table));
  }
  if (location.engine == QueryLocation::Engine::kSqlite) {
    location.target = PercentDecode(base.substr(kSqlite.size()), /*plus_is_space=*/false);
    if (location.target.empty()) {
      return InvalidArgument(fmt::format("{}: no database file (sqlite:///abs/path.db or sqlite://relative.db)",
                                         HidePassword(text)));
    }
  } else {
    location.target = std::string(base);
    for (std::size_t i = 0; i < passed.size(); ++i) location.target += (i == 0 ? "?" : "&") + passed[i];
  }
  return location;
}

Result<std::unique_ptr<FeatureReader>> OpenQueryReader(const QueryLocation& location, const ColumnSpec& spec,
                                                       const SecretLookup& secrets) {
  if (location.query.empty()) {
    return InvalidArgument(fmt::format("{}: no query; add ?query=SELECT ... at the end", location.Display()));
  }
  std::unique_ptr<sql::Cursor> cursor;
  if (location.engine == QueryLocation::Engine::kSqlite) {
    WHARF_ASSIGN_OR_RETURN(cursor, sql::OpenSqliteCursor(location));
  } else {
    WHARF_ASSIGN_OR_RETURN(const std::string password, Password(location, secrets));
    WHARF_ASSIGN_OR_RETURN(cursor, sql::OpenPostgresCursor(location, password));
  }
  const std::string source = location.Display();
  WHARF_ASSIGN_OR_RETURN(ColumnSelection selection, SelectColumns(cursor->columns(), source, spec));
  return std::unique_ptr<FeatureReader>(new QueryFeatureReader(std::move(cursor), source, std::move(selection)));
}

Result<std::unique_ptr<FeatureReader>> OpenFeatureSource(const std::string& location, const ColumnSpec& spec,
                                                         const SecretLookup& secrets) {
  if (!IsQueryLocation(location)) {
    WHARF_ASSIGN_OR_RETURN(auto reader, CsvFeatureReader::Open(location, spec));
    return std::unique_ptr<FeatureReader>(std::move(reader));
  }
  WHARF_ASSIGN_OR_RETURN(const QueryLocation parsed, ParseQueryLocation(location));
  return OpenQueryReader(parsed, spec, secrets);
}

Result<Dataset> ReadFeatureSource(const std::string& location, const ColumnSpec& spec, const SecretLookup& secrets) {
  if (!IsQueryLocation(location)) return ReadDataset(location, spec);
  WHARF_ASSIGN_OR_RETURN(auto reader, OpenFeatureSource(location, spec, secrets));
  WHARF_ASSIGN_OR_RETURN(Dataset data, ReadAllRows(*reader));
  if (data.rows == 0) return InvalidArgument(data.source + ": no data rows, expected at least one");
  data.sha256 = reader->ContentSha256();
  return data;
}

Result<std::unique_ptr<TableWriter>> OpenTableWriter(const QueryLocation& location,
                                                     const std::vector<TableColumn>& columns,
                                                     const SecretLookup& secrets) {
  if (location.table.empty()) return InvalidArgument(fmt::format("{}: no table; add ?table=NAME", location.Display()));
  if (!location.query.empty()) {
    return InvalidArgument(fmt::format("{}: a query names what to read; to write, give only table=", location.Display()));
  }
  if (location.engine == QueryLocation::Engine::kSqlite) return sql::OpenSqliteWriter(location, columns);
  WHARF_ASSIGN_OR_RETURN(const std::string password, Password(location, secrets));
  return sql::OpenPostgresWriter(location, columns, password);
}

}  // namespace wharf::data
