#pragma once
// Reading a whole file, and replacing one so readers never see half of it:
// the one way every module does either.
// Stateless functions: thread-safe.

#include <filesystem>
#include <string>
#include <string_view>

#include "core/status.h"

namespace wharf {

// The whole file at `path`. NotFound "PATH: no such file" if it does not
// exist; IoError naming the path and the system's reason otherwise.
Result<std::string> ReadFile(const std::filesystem::path& path);

// Replaces the file at `path` with `bytes`: writes PATH.partial, then
// renames it over `path`, so a reader sees the old file or the new one,
// never part of one. No fsync: for small files a crash may lose (a pointer
// file, a published configuration), not for data. One writer per path.
// The file gets `mode` (less the umask; 0600 for one holding a secret).
// IoError naming the path and the system's reason.
Status WriteFileAtomically(const std::filesystem::path& path, std::string_view bytes, unsigned mode = 0644);

}  // namespace wharf
