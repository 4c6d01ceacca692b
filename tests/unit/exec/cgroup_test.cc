#include "exec/local/cgroup.h"

#include <fstream>

#include <gtest/gtest.h>

#include "testing/temp_dir.h"

namespace wharf::exec::local {
namespace {

namespace fs = std::filesystem;

void Touch(const fs::path& file, const std::string& contents = "") {
  fs::create_directories(file.parent_path());
  std::ofstream(file) << contents;
}

std::string Read(const fs::path& file) {
  std::ifstream in(file);
  std::string text;
  std::getline(in, text);
  return text;
}

// A directory tree shaped like /sys/fs/cgroup with v1 controllers.
void MakeFakeV1(const fs::path& root) {
  Touch(root / "memory" / "memory.limit_in_bytes");
  Touch(root / "pids" / "pids.max");
  Touch(root / "cpu" / "cpu.cfs_quota_us");
}

TEST(DetectCgroupsTest, FindsV1Controllers) {
  wharf::testing::TempDir dir;
  MakeFakeV1(dir.path());
  const CgroupLayout layout = DetectCgroups(dir.path());
  EXPECT_EQ(layout.version, CgroupVersion::kV1);
  EXPECT_EQ(layout.memory, dir.path() / "memory");
  EXPECT_EQ(layout.pids, dir.path() / "pids");
  EXPECT_EQ(layout.cpu, dir.path() / "cpu");
}

TEST(DetectCgroupsTest, FindsAV2TreeAndItsControllers) {
  wharf::testing::TempDir dir;
  Touch(dir.path() / "cgroup.controllers", "cpuset cpu io memory");
  const CgroupLayout layout = DetectCgroups(dir.path());
  EXPECT_EQ(layout.version, CgroupVersion::kV2);
  EXPECT_EQ(layout.memory, dir.path());
  EXPECT_EQ(layout.cpu, dir.path());
  EXPECT_TRUE(layout.pids.empty());
}

TEST(DetectCgroupsTest, IgnoresAHybridUnifiedTreeWithoutControllers) {
  wharf::testing::TempDir dir;
  Touch(dir.path() / "unified" / "cgroup.controllers", "");
  EXPECT_EQ(DetectCgroups(dir.path()).version, CgroupVersion::kNone);
  EXPECT_EQ(DetectCgroups(dir.path() / "missing").version, CgroupVersion::kNone);
}

TEST(PrepareCgroupParentTest, CreatesTheParentInEachV1Controller) {
  wharf::testing::TempDir dir;
  MakeFakeV1(dir.path());
  const CgroupLayout layout = PrepareCgroupParent(DetectCgroups(dir.path()), "wharf");
  EXPECT_EQ(layout.version, CgroupVersion::kV1);
  for (const char* controller : {"memory", "pids", "cpu"}) {
    EXPECT_TRUE(fs::is_directory(dir.path() / controller / "wharf")) << controller;
  }
}

TEST(PrepareCgroupParentTest, DelegatesV2ControllersToTheParent) {
  wharf::testing::TempDir dir;
  Touch(dir.path() / "cgroup.controllers", "memory pids");
  const CgroupLayout layout = PrepareCgroupParent(DetectCgroups(dir.path()), "wharf");
  EXPECT_EQ(layout.version, CgroupVersion::kV2);
  EXPECT_TRUE(layout.has_memory());
  EXPECT_EQ(Read(dir.path() / "cgroup.subtree_control"), "+pids");  // the fake keeps the last write
  EXPECT_EQ(Read(dir.path() / "wharf" / "cgroup.subtree_control"), "+pids");
}

TEST(PrepareCgroupParentTest, NoneStaysNone) {
  EXPECT_EQ(PrepareCgroupParent(CgroupLayout{}, "wharf").version, CgroupVersion::kNone);
}

TEST(TaskCgroupTest, CreatesV1GroupsWithTheLimits) {
  wharf::testing::TempDir dir;
  MakeFakeV1(dir.path());
  const Resources resources{1.5, 64 << 20, 32};
  Result<TaskCgroup> group = TaskCgroup::Create(DetectCgroups(dir.path()), "wharf", "t2", resources);
  ASSERT_TRUE(group.ok()) << group.status().ToString();
  EXPECT_EQ(Read(dir.path() / "memory" / "wharf" / "t2" / "memory.limit_in_bytes"), std::to_string(64 << 20));
  EXPECT_EQ(Read(dir.path() / "pids" / "wharf" / "t2" / "pids.max"), "32");
  EXPECT_EQ(Read(dir.path() / "cpu" / "wharf" / "t2" / "cpu.cfs_quota_us"), "150000");
  EXPECT_EQ(group->procs_files().size(), 3u);
  EXPECT_TRUE(group->limits_memory());
}

TEST(TaskCgroupTest, V1SkipsTheMemoryGroupWithoutAMemoryLimit) {
  wharf::testing::TempDir dir;
  MakeFakeV1(dir.path());
  Result<TaskCgroup> group = TaskCgroup::Create(DetectCgroups(dir.path()), "wharf", "t", Resources{0.001, {}, {}});
  ASSERT_TRUE(group.ok()) << group.status().ToString();
  EXPECT_FALSE(fs::exists(dir.path() / "memory" / "wharf" / "t"));
  EXPECT_FALSE(group->limits_memory());
  EXPECT_EQ(group->procs_files().size(), 2u);
  EXPECT_EQ(Read(dir.path() / "cpu" / "wharf" / "t" / "cpu.cfs_quota_us"), "1000");  // the kernel's minimum
}

TEST(TaskCgroupTest, CreatesOneV2GroupWithTheLimits) {
  wharf::testing::TempDir dir;
  Touch(dir.path() / "cgroup.controllers", "cpu memory pids");
  Result<TaskCgroup> group = TaskCgroup::Create(DetectCgroups(dir.path()), "wharf", "t", Resources{2, 1 << 30, 8});
  ASSERT_TRUE(group.ok()) << group.status().ToString();
  const fs::path task = dir.path() / "wharf" / "t";
  EXPECT_EQ(Read(task / "memory.max"), std::to_string(1 << 30));
  EXPECT_EQ(Read(task / "pids.max"), "8");
  EXPECT_EQ(Read(task / "cpu.max"), "200000 100000");
  EXPECT_EQ(Read(dir.path() / "wharf" / "cgroup.subtree_control"), "+cpu");  // the fake keeps the last write
  EXPECT_EQ(group->procs_files(), std::vector<std::string>{(task / "cgroup.procs").string()});
}

TEST(TaskCgroupTest, ReadsTheOomKillCounter) {
  wharf::testing::TempDir dir;
  Touch(dir.path() / "cgroup.controllers", "memory");
  Result<TaskCgroup> group = TaskCgroup::Create(DetectCgroups(dir.path()), "wharf", "t", Resources{1, 1 << 20, {}});
  ASSERT_TRUE(group.ok());
  const fs::path events = dir.path() / "wharf" / "t" / "memory.events";
  Touch(events, "low 0\nhigh 0\nmax 3\noom 1\noom_kill 0\n");
  EXPECT_FALSE(group->OomKilled(true));
  Touch(events, "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n");
  EXPECT_TRUE(group->OomKilled(false));
}

TEST(FormatBytesTest, UsesTheLargestWholeUnit) {
  EXPECT_EQ(FormatBytes(64ull << 20), "64 MiB");
  EXPECT_EQ(FormatBytes(3ull << 30), "3 GiB");
  EXPECT_EQ(FormatBytes(1536ull << 20), "1.5 GiB");
  EXPECT_EQ(FormatBytes(2048), "2 KiB");
  EXPECT_EQ(FormatBytes(1000), "1000 bytes");
}

}  // namespace
}  // namespace wharf::exec::local
