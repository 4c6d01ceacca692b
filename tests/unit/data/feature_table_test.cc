#include "data/feature_table.h"

#include <cstring>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "testing/temp_dir.h"

namespace wharf::data {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::ReadFile;

FeatureTableLayout Layout() { return {{"f1", "f2"}, true, 12, 3}; }

// Writes `rows` of (path, label, two features) to `stem`.
void Write(const fs::path& stem, const std::vector<std::tuple<std::string, std::string, float, float>>& rows) {
  auto writer = FeatureTableWriter::Create(stem, Layout());
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  for (const auto& [path, label, a, b] : rows) {
    const float features[2] = {a, b};
    ASSERT_TRUE((*writer)->Append(path, label, features).ok());
  }
  ASSERT_TRUE((*writer)->Finish().ok());
}

TEST(FeatureTableTest, WritesACsvAndANpyWithOneRecordPerRow) {
  testing::TempDir dir;
  Write(dir.path() / "train", {{"cat/1.png", "cat", 0.5f, -2.0f}, {"dög,2.png", "dog", 1e-7f, 3.25f}});
  EXPECT_EQ(ReadFile(dir.path() / "train.csv"), "path,label,f1,f2\ncat/1.png,cat,0.5,-2\n\"dög,2.png\",dog,1e-07,3.25\n");
  const std::string npy = ReadFile(dir.path() / "train.npy");
  ASSERT_GT(npy.size(), 10u);
  EXPECT_EQ(npy.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
  const std::size_t header = 10 + (static_cast<unsigned char>(npy[8]) | static_cast<unsigned char>(npy[9]) << 8);
  EXPECT_EQ(header % 64, 0u);  // records start aligned, as NumPy writes them
  EXPECT_THAT(npy.substr(10, header - 10),
              HasSubstr("{'descr': [('path', '<U12'), ('label', '<U3'), ('features', '<f4', (2,))], "
                        "'fortran_order': False, 'shape': (                   2,), }"));
  EXPECT_EQ(npy[header - 1], '\n');
  const std::size_t record = 4 * 12 + 4 * 3 + 4 * 2;
  ASSERT_EQ(npy.size(), header + 2 * record);
  // The path is UTF-32: "dög" is three code points, not four bytes.
  EXPECT_EQ(npy.substr(header + record, 12), std::string("d\0\0\0\xf6\0\0\0g\0\0\0", 12));
  float second[2];
  std::memcpy(second, npy.data() + header + 2 * record - 8, 8);
  EXPECT_EQ(second[1], 3.25f);
}

TEST(FeatureTableTest, ConcatenatedPartsAreTheTableWrittenAtOnce) {
  testing::TempDir dir;
  Write(dir.path() / "whole", {{"a", "x", 1, 2}, {"b", "y", 3, 4}, {"c", "z", 5, 6}});
  Write(dir.path() / "part0", {{"a", "x", 1, 2}});
  Write(dir.path() / "part1", {});
  Write(dir.path() / "part2", {{"b", "y", 3, 4}, {"c", "z", 5, 6}});
  ASSERT_TRUE(ConcatFeatureTables(Layout(), {dir.path() / "part0", dir.path() / "part1", dir.path() / "part2"},
                                  dir.path() / "joined")
                  .ok());
  EXPECT_EQ(ReadFile(dir.path() / "joined.csv"), ReadFile(dir.path() / "whole.csv"));
  EXPECT_EQ(ReadFile(dir.path() / "joined.npy"), ReadFile(dir.path() / "whole.npy"));
}

TEST(FeatureTableTest, ConcatRefusesAPartOfAnotherLayoutOrCutShort) {
  testing::TempDir dir;
  Write(dir.path() / "a", {{"a", "x", 1, 2}});
  {
    auto other = FeatureTableWriter::Create(dir.path() / "b", {{"f1", "f2"}, true, 13, 3});
    ASSERT_TRUE(other.ok());
    ASSERT_TRUE((*other)->Finish().ok());
  }
  const Status mixed = ConcatFeatureTables(Layout(), {dir.path() / "a", dir.path() / "b"}, dir.path() / "out");
  EXPECT_EQ(mixed.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(mixed.message(), HasSubstr("b.npy: its columns differ"));
  fs::resize_file(dir.path() / "a.npy", fs::file_size(dir.path() / "a.npy") - 4);
  const Status cut = ConcatFeatureTables(Layout(), {dir.path() / "a"}, dir.path() / "out");
  EXPECT_EQ(cut.code(), StatusCode::kDataLoss);
  EXPECT_FALSE(fs::exists(dir.path() / "out.csv"));
}

TEST(FeatureTableTest, AnUnfinishedTableLeavesNoFiles) {
  testing::TempDir dir;
  {
    auto writer = FeatureTableWriter::Create(dir.path() / "t", Layout());
    ASSERT_TRUE(writer.ok());
    const float f[2] = {1, 2};
    ASSERT_TRUE((*writer)->Append("a", "b", f).ok());
    EXPECT_EQ((*writer)->Append("a-path-longer-than-12", "b", f).code(), StatusCode::kInvalidArgument);
  }
  EXPECT_TRUE(fs::is_empty(dir.path()));
}

TEST(MixedTableTest, KeepsTextColumnsAndReadsTheRestAsNumbers) {
  testing::TempDir dir;
  const fs::path csv = dir.Write("t.csv", "path,label,f1,f2\na.png,cat,1,2.5\nb.png,dog,-3,4\n");
  auto table = ReadMixedTable(csv, {{"path", "label", "split"}, true, {}});
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  EXPECT_THAT(table->kept_names, ElementsAre("path", "label"));
  EXPECT_THAT(table->kept, ElementsAre("a.png", "cat", "b.png", "dog"));
  EXPECT_THAT(table->feature_names, ElementsAre("f1", "f2"));
  EXPECT_THAT(table->x, ElementsAre(1, 2.5, -3, 4));
  EXPECT_EQ(table->rows, 2u);
  // Chosen features, in the order asked.
  auto chosen = ReadMixedTable(csv, {{}, false, {"f2", "f1"}});
  ASSERT_TRUE(chosen.ok());
  EXPECT_THAT(chosen->x, ElementsAre(2.5, 1, 4, -3));
}

TEST(MixedTableTest, TextOrAGapInAFeatureColumnNamesItsPlace) {
  testing::TempDir dir;
  const fs::path csv = dir.Write("t.csv", "path,f1,f2\na.png,1,2\nb.png,x,4\n");
  auto text = ReadMixedTable(csv, {{}, false, {}});
  EXPECT_EQ(text.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(text.status().message(), HasSubstr("t.csv:2:1: column 'path': 'a.png' is not a number (carry text columns with --keep)"));
  auto gap = ReadMixedTable(dir.Write("g.csv", "f1,f2\n1,\n"), {{}, false, {}});
  EXPECT_THAT(gap.status().message(), HasSubstr("g.csv:2:3: column 'f2': missing value"));
  auto absent = ReadMixedTable(csv, {{"label"}, false, {}});
  EXPECT_EQ(absent.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(absent.status().message(), HasSubstr("kept column 'label' not found; columns present: 'path', 'f1', 'f2'"));
}

}  // namespace
}  // namespace wharf::data
