// OpenCaptureStore / OpenMetadataStore: the backend named by a location.

#include <cctype>

#include <fmt/format.h>

#include "store/capture_store.h"
#include "store/metadata_store.h"

namespace wharf::store {

namespace {

enum class Backend { kSqlite, kPostgres };

Result<Backend> BackendFor(std::string_view location) {
  const std::size_t scheme_end = location.find("://");
  if (scheme_end == std::string_view::npos) return Backend::kSqlite;
  const std::string_view scheme = location.substr(0, scheme_end);
  // "data/run://1.db" is a path: a scheme is a letter then letters, digits, '+', '-' or '.'.
  bool is_scheme = !scheme.empty() && std::isalpha(static_cast<unsigned char>(scheme.front()));
  for (const char c : scheme) {
    is_scheme = is_scheme && (std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.');
  }
  if (!is_scheme) return Backend::kSqlite;
  if (scheme == "postgresql" || scheme == "postgres") return Backend::kPostgres;
  return InvalidArgument(fmt::format(
      "unknown store scheme '{}'; known: postgresql://, postgres://, or a SQLite file path", scheme));
}

}  // namespace

Result<std::unique_ptr<CaptureStore>> OpenCaptureStore(std::string_view location, Durability durability) {
  WHARF_ASSIGN_OR_RETURN(const Backend backend, BackendFor(location));
  if (backend == Backend::kPostgres) return OpenPostgresCaptureStore(location, durability);
  return OpenSqliteCaptureStore(std::filesystem::path(location), durability);
}

Result<std::unique_ptr<MetadataStore>> OpenMetadataStore(std::string_view location) {
  WHARF_ASSIGN_OR_RETURN(const Backend backend, BackendFor(location));
  if (backend == Backend::kPostgres) return OpenPostgresMetadataStore(location);
  return OpenSqliteMetadataStore(std::filesystem::path(location));
}

}  // namespace wharf::store
