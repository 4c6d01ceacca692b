#include "data/shard.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "testing/temp_dir.h"

namespace wharf::data {
namespace {

using ::testing::HasSubstr;

// Every shard's rows, in shard order: what N ranks read together.
Dataset ReadAllShards(const std::filesystem::path& path, const ColumnSpec& spec, std::size_t count) {
  Dataset all;
  for (std::size_t i = 0; i < count; ++i) {
    auto shard = ReadDatasetShard(path, spec, i, count);
    EXPECT_TRUE(shard.ok()) << i << "/" << count << ": " << shard.status().ToString();
    if (!shard.ok()) return all;
    all.features = shard->features;
    all.rows += shard->rows;
    all.x.insert(all.x.end(), shard->x.begin(), shard->x.end());
    all.labels.insert(all.labels.end(), shard->labels.begin(), shard->labels.end());
  }
  return all;
}

TEST(ShardTest, ShardsPartitionTheWineRowsExactlyForAnyCount) {
  const auto path = testing::WineDir() / "TrainingDataset.csv";
  const ColumnSpec spec{"quality", true, {}};
  auto whole = ReadDataset(path, spec);
  ASSERT_TRUE(whole.ok()) << whole.status().ToString();
  for (std::size_t count : {1, 2, 3, 7, 64}) {
    const Dataset all = ReadAllShards(path, spec, count);
    EXPECT_EQ(all.features, whole->features) << count;
    EXPECT_EQ(all.rows, whole->rows) << count;
    EXPECT_EQ(all.labels, whole->labels) << count;
    EXPECT_TRUE(all.x == whole->x) << count;
  }
}

TEST(ShardTest, HandlesCrlfBomBlankLinesAndNoFinalNewline) {
  testing::TempDir dir;
  const auto path = dir.Write("t.csv", "\xEF\xBB\xBF" "a;b;y\r\n1;2;x\r\n\r\n3;4;y\r\n5;6;x\r\n7;8;y");
  const ColumnSpec spec{"y", true, {}};
  for (std::size_t count : {1, 2, 3, 4, 5, 9}) {
    const Dataset all = ReadAllShards(path, spec, count);
    EXPECT_EQ(all.rows, 4u) << count;
    EXPECT_EQ(all.x, (std::vector<float>{1, 2, 3, 4, 5, 6, 7, 8})) << count;
    EXPECT_EQ(all.labels, (std::vector<std::string>{"x", "y", "x", "y"})) << count;
  }
}

TEST(ShardTest, MoreShardsThanRowsLeavesSomeEmpty) {
  testing::TempDir dir;
  const auto path = dir.Write("t.csv", "a,y\n1,x\n2,y\n");
  std::size_t empty = 0;
  for (std::size_t i = 0; i < 8; ++i) {
    auto shard = ReadDatasetShard(path, {"y", true, {}}, i, 8);
    ASSERT_TRUE(shard.ok()) << shard.status().ToString();
    if (shard->rows == 0) ++empty;
  }
  EXPECT_EQ(empty, 6u);
}

TEST(ShardTest, ErrorsNameTheFilesOwnLineNumber) {
  testing::TempDir dir;
  std::string text = "a;y\n";
  for (int i = 0; i < 20; ++i) text += std::to_string(i) + ";x\n";
  text += "oops;x\n";  // line 22
  const auto path = dir.Write("bad.csv", text);
  auto shard = ReadDatasetShard(path, {"y", true, {}}, 1, 2);
  ASSERT_FALSE(shard.ok());
  EXPECT_THAT(shard.status().message(), HasSubstr("bad.csv:22:1")) << shard.status().message();
}

TEST(ShardTest, ShardIndexOutOfRangeIsRefused) {
  EXPECT_FALSE(FindShard(testing::WineDir() / "TrainingDataset.csv", 2, 2).ok());
  EXPECT_FALSE(FindShard(testing::WineDir() / "TrainingDataset.csv", 0, 0).ok());
  EXPECT_EQ(FindShard("/nonexistent.csv", 0, 1).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace wharf::data
