#include "dl/training_sets.h"

#include <gtest/gtest.h>

#ifdef WHARF_HAVE_OPENCV
#include <opencv2/imgcodecs.hpp>

#include "testing/temp_dir.h"

namespace wharf::dl {
namespace {

namespace fs = std::filesystem;

// Writes `count` 12x12 PNGs of one shade into root/name.
void WriteClass(const fs::path& root, const std::string& name, int count, int shade) {
  fs::create_directories(root / name);
  for (int i = 0; i < count; ++i) {
    cv::imwrite((root / name / (std::to_string(i) + ".png")).string(), cv::Mat(12, 12, CV_8UC1, cv::Scalar(shade + i)));
  }
}

TEST(TrainingSetsTest, OneFolderIsSplitPerClassBySeed) {
  testing::TempDir dir;
  WriteClass(dir.path(), "cat", 10, 10);
  WriteClass(dir.path(), "dog", 20, 100);
  DataSource source;
  source.data = dir.path();
  source.test_fraction = 0.2;
  auto sets = ReadTrainingSets(source);
  ASSERT_TRUE(sets.ok()) << sets.status().message();
  EXPECT_EQ(sets->classes, (std::vector<std::string>{"cat", "dog"}));
  ASSERT_TRUE(sets->test.has_value());
  EXPECT_EQ(sets->train.count, 24u);
  EXPECT_EQ(sets->test->count, 6u);  // 2 cats, 4 dogs
  EXPECT_EQ(std::count(sets->test->labels.begin(), sets->test->labels.end(), 0), 2);
  EXPECT_EQ(sets->train.height, 12u);
  // The same seed holds out the same images.
  auto again = ReadTrainingSets(source);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->test->names, sets->test->names);
}

TEST(TrainingSetsTest, TrainAndTestFoldersMustShareTheirClasses) {
  testing::TempDir dir;
  WriteClass(dir.path() / "train", "cat", 3, 10);
  WriteClass(dir.path() / "train", "dog", 3, 100);
  WriteClass(dir.path() / "test", "cat", 2, 10);
  WriteClass(dir.path() / "test", "dog", 2, 100);
  DataSource source;
  source.data = dir.path();
  auto sets = ReadTrainingSets(source);
  ASSERT_TRUE(sets.ok()) << sets.status().message();
  EXPECT_EQ(sets->train.count, 6u);
  EXPECT_EQ(sets->test->count, 4u);

  WriteClass(dir.path() / "test", "bird", 1, 50);
  auto mismatched = ReadTrainingSets(source);
  ASSERT_FALSE(mismatched.ok());
  EXPECT_NE(mismatched.status().message().find("different class subfolders"), std::string::npos);
}

TEST(TrainingSetsTest, ClassNamesMustCoverTheLabels) {
  testing::TempDir dir;
  WriteClass(dir.path(), "a", 2, 10);
  WriteClass(dir.path(), "b", 2, 20);
  WriteClass(dir.path(), "c", 2, 30);
  DataSource source;
  source.data = dir.path();
  source.classes = "x,y";
  auto sets = ReadTrainingSets(source);
  ASSERT_FALSE(sets.ok());
  EXPECT_NE(sets.status().message().find("--classes"), std::string::npos) << sets.status().message();
  source.classes = "x,y,z";
  sets = ReadTrainingSets(source);
  ASSERT_TRUE(sets.ok()) << sets.status().message();
  EXPECT_EQ(sets->classes, (std::vector<std::string>{"x", "y", "z"}));
}

TEST(TrainingSetsTest, NoDataIsAClearError) {
  DataSource source;
  EXPECT_EQ(ReadTrainingSets(source).status().code(), StatusCode::kInvalidArgument);
  source.data = "/no/such/dir";
  auto missing = ReadTrainingSets(source);
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace wharf::dl
#endif
