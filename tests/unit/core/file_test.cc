#include "core/file.h"

#include <filesystem>

#include <gtest/gtest.h>

#include "testing/temp_dir.h"

namespace wharf {
namespace {

TEST(WriteFileAtomicallyTest, ReplacesTheFileAndLeavesNoPartialBehind) {
  testing::TempDir dir;
  const auto path = dir.path() / "current.json";
  ASSERT_TRUE(WriteFileAtomically(path, "old\n").ok());
  ASSERT_TRUE(WriteFileAtomically(path, "new\n").ok());
  EXPECT_EQ(ReadFile(path).value(), "new\n");
  EXPECT_FALSE(std::filesystem::exists(path.string() + ".partial"));
}

TEST(WriteFileAtomicallyTest, AMissingDirectoryIsAnErrorNamingThePath) {
  testing::TempDir dir;
  const auto path = dir.path() / "missing" / "file";
  const Status written = WriteFileAtomically(path, "x");
  ASSERT_FALSE(written.ok());
  EXPECT_NE(written.message().find(path.string()), std::string::npos) << written.message();
}

}  // namespace
}  // namespace wharf
