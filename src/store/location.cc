#include "store/location.h"

#include <cstdlib>
#include <filesystem>

#include "store/capture_store.h"
#include "store/postgres_database.h"

namespace wharf::store {

bool IsServerLocation(std::string_view location) {
  return location.starts_with("postgresql://") || location.starts_with("postgres://");
}

std::string StoreLocation(std::string_view flag) {
  if (!flag.empty()) return std::string(flag);
  if (const char* env = std::getenv("WHARF_STORE"); env != nullptr && *env != '\0') return env;
  return DefaultDatabasePath().string();
}

std::string CaptureLocation(std::string_view location) {
  if (IsServerLocation(location) || location.empty() || location == ":memory:") return std::string(location);
  const std::filesystem::path path(location);
  return (path.parent_path() / (path.stem().string() + "-captures" + path.extension().string())).string();
}

std::string DisplayLocation(std::string_view location) {
  return IsServerLocation(location) ? RedactPostgresUrl(location) : std::string(location);
}

}  // namespace wharf::store
