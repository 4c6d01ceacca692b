#include "store/capture_store.h"

#include <cstdlib>

namespace wharf::store {

std::filesystem::path DefaultDatabasePath() {
  if (const char* home = std::getenv("WHARF_HOME"); home != nullptr && *home != '\0') {
    return std::filesystem::path(home) / "wharf.db";
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    return std::filesystem::path(home) / ".wharf" / "wharf.db";
  }
  return std::filesystem::path(".wharf") / "wharf.db";
}

}  // namespace wharf::store
