#include "exec/local/child.h"

#include <sys/stat.h>

#include <cerrno>
#include <fstream>

#include <gtest/gtest.h>

#include "testing/temp_dir.h"

namespace wharf::exec::local {
namespace {

namespace fs = std::filesystem;

void MakeFile(const fs::path& path, fs::perms perms) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << "#!/bin/sh\n";
  fs::permissions(path, perms);
}

TEST(FindExecutableTest, SearchesTheGivenPathInOrder) {
  wharf::testing::TempDir dir;
  MakeFile(dir.path() / "a" / "tool", fs::perms::owner_all);
  MakeFile(dir.path() / "b" / "tool", fs::perms::owner_all);
  int error = -1;
  const std::string path = (dir.path() / "missing").string() + ":" + (dir.path() / "a").string() + ":" +
                           (dir.path() / "b").string();
  EXPECT_EQ(FindExecutable("tool", path, "", &error), (dir.path() / "a" / "tool").string());
  EXPECT_EQ(error, 0);
}

TEST(FindExecutableTest, TakesRelativeEntriesFromTheWorkDir) {
  wharf::testing::TempDir dir;
  MakeFile(dir.path() / "bin" / "tool", fs::perms::owner_all);
  int error = -1;
  EXPECT_EQ(FindExecutable("tool", "bin", dir.path().string(), &error), (dir.path() / "bin" / "tool").string());
}

TEST(FindExecutableTest, ReportsWhyNothingWasFound) {
  wharf::testing::TempDir dir;
  int error = 0;
  EXPECT_FALSE(FindExecutable("nothing-here", dir.path().string(), "", &error).has_value());
  EXPECT_EQ(error, ENOENT);
  // Even root needs an x bit to execute a file.
  MakeFile(dir.path() / "plain", fs::perms::owner_read);
  EXPECT_FALSE(FindExecutable("plain", dir.path().string(), "", &error).has_value());
  EXPECT_EQ(error, EACCES);
}

TEST(FindExecutableTest, ANameWithASlashIsUsedAsIs) {
  int error = -1;
  EXPECT_EQ(FindExecutable("./run.sh", "/bin", "", &error), "./run.sh");
  EXPECT_EQ(error, 0);
}

}  // namespace
}  // namespace wharf::exec::local
