#pragma once
// The wharf release this binary was built from (set by CMake from project()).

namespace wharf {
inline constexpr const char* kVersion = WHARF_VERSION_STRING;
}  // namespace wharf
