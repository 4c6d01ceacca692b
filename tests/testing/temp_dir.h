#pragma once
// A fresh directory under the system temp dir, removed with everything in it
// when the object goes out of scope.

#include <filesystem>
#include <string>
#include <string_view>

namespace wharf::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  // Writes `contents` to path()/name and returns the full path.
  std::filesystem::path Write(std::string_view name, std::string_view contents) const;

 private:
  std::filesystem::path path_;
};

// The whole file as a string (empty if it cannot be read).
std::string ReadFile(const std::filesystem::path& path);

// The source tree, tests/data, and the bundled wine data (examples/wine).
std::filesystem::path SourceDir();
std::filesystem::path TestDataDir();
std::filesystem::path WineDir();

}  // namespace wharf::testing
