#pragma once
// Reading a whole file, the one way every module does it.
// Stateless functions: thread-safe.

#include <filesystem>
#include <string>

#include "core/status.h"

namespace wharf {

// The whole file at `path`. NotFound "PATH: no such file" if it does not
// exist; IoError naming the path and the system's reason otherwise.
Result<std::string> ReadFile(const std::filesystem::path& path);

}  // namespace wharf
