#include "testing/temp_dir.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

namespace wharf::testing {

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "wharf-test-XXXXXX").string();
  char* made = mkdtemp(pattern.data());
  if (made == nullptr) ADD_FAILURE() << "mkdtemp failed";
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::filesystem::path TempDir::Write(std::string_view name, std::string_view contents) const {
  auto file = path_ / name;
  std::ofstream out(file, std::ios::binary);
  out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
  return file;
}

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::filesystem::path SourceDir() { return WHARF_SOURCE_DIR; }
std::filesystem::path TestDataDir() { return SourceDir() / "tests" / "data"; }
std::filesystem::path WineDir() { return SourceDir() / "examples" / "wine"; }

}  // namespace wharf::testing
