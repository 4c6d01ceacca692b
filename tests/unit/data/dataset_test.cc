#include "data/dataset.h"

#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "testing/temp_dir.h"

namespace wharf::data {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

Result<std::unique_ptr<CsvFeatureReader>> FromText(std::string text, const ColumnSpec& spec) {
  auto csv = CsvReader::FromStream(std::make_unique<std::istringstream>(std::move(text)), "wine.csv");
  if (!csv.ok()) return csv.status();
  return CsvFeatureReader::FromReader(std::move(*csv), spec);
}

// The Status of reading every row of `text` in one batch.
Status ReadError(std::string text, const ColumnSpec& spec) {
  auto reader = FromText(std::move(text), spec);
  if (!reader.ok()) return reader.status();
  std::vector<float> x;
  std::vector<std::string> labels;
  auto rows = (*reader)->ReadBatch(100, x, &labels);
  return rows.ok() ? Status::Ok() : rows.status();
}

TEST(DatasetTest, ReadsWineFileWithQuadrupleQuotedHeader) {
  auto data = ReadDataset(testing::TestDataDir() / "wine_quoted_header.csv", {"quality", true, {}});
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  EXPECT_THAT(data->features, ElementsAre("fixed acidity", "volatile acidity", "pH"));
  EXPECT_EQ(data->rows, 3u);
  EXPECT_THAT(data->labels, ElementsAre("5", "5", "6"));
  EXPECT_THAT(data->x, ElementsAre(7.4f, 0.7f, 3.51f, 7.8f, 0.88f, 3.2f, 11.2f, 0.28f, 3.16f));
  EXPECT_FLOAT_EQ(data->row(2)[0], 11.2f);
}

TEST(DatasetTest, RecordsSourceAndSha256OfTheFile) {
  testing::TempDir dir;
  const auto path = dir.Write("d.csv", "a,b\n1,2\n");
  auto data = ReadDataset(path, {"b", true, {}});
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  EXPECT_EQ(data->source, path.string());
  EXPECT_EQ(data->sha256, "492d5ea496056f1a6a6592241032fab764c321596317930b4fa0e1e8bc3b7470");  // sha256sum
}

TEST(DatasetTest, MissingValueMarkersBecomeNaN) {
  auto reader = FromText("a;b;c;d;e;f;g\n;NA;n/a;NaN;null;?;1\n", {});
  ASSERT_TRUE(reader.ok());
  std::vector<float> x;
  ASSERT_EQ(*(*reader)->ReadBatch(10, x, nullptr), 1u);
  ASSERT_EQ(x.size(), 7u);
  for (int i = 0; i < 6; ++i) EXPECT_TRUE(std::isnan(x[i])) << i;
  EXPECT_EQ(x[6], 1.0f);
}

TEST(DatasetTest, ParsesQuotedNumbers) {
  auto reader = FromText("a,b\n\"7.4\",\" 2 \"\n", {});
  ASSERT_TRUE(reader.ok());
  std::vector<float> x;
  ASSERT_EQ(*(*reader)->ReadBatch(10, x, nullptr), 1u);
  EXPECT_THAT(x, ElementsAre(7.4f, 2.0f));
}

TEST(DatasetTest, TextInNumericColumnNamesFileLineColumnAndColumnName) {
  const Status status = ReadError("alcohol;pH;quality\n9.4;3.51;5\n10.2;abc;6\n", {"quality", true, {}});
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "wine.csv:3:6: column 'pH': expected a number, got \"abc\"");
}

TEST(DatasetTest, DecimalCommaGetsAHint) {
  const Status status = ReadError("a;b\n1,5;2\n", {});
  EXPECT_THAT(status.message(), HasSubstr("wine.csv:2:1: column 'a': expected a number, got \"1,5\""));
  EXPECT_THAT(status.message(), HasSubstr("decimal separator"));
}

TEST(DatasetTest, RaggedRowIsReportedThroughReadBatch) {
  const Status status = ReadError("a;b;c\n1;2;3\n1;2\n", {});
  EXPECT_THAT(status.message(), HasSubstr("wine.csv:3:1: expected 3 fields (as in the header), got 2"));
}

TEST(DatasetTest, MissingFeatureColumnIsNotFoundListingColumnsPresent) {
  auto reader = FromText("alcohol;pH;quality\n1;2;3\n", {"quality", true, {"alcohol", "density"}});
  ASSERT_FALSE(reader.ok());
  EXPECT_EQ(reader.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(reader.status().message(),
            "wine.csv: column 'density' not found; columns present: 'alcohol', 'pH', 'quality'");
}

TEST(DatasetTest, MissingColumnSuggestsACaseInsensitiveMatch) {
  auto reader = FromText("alcohol;pH\n1;2\n", {std::nullopt, true, {"ph"}});
  ASSERT_FALSE(reader.ok());
  EXPECT_THAT(reader.status().message(), HasSubstr("did you mean 'pH'?"));
}

TEST(DatasetTest, MissingRequiredLabelIsNotFound) {
  auto reader = FromText("a;b\n1;2\n", {"quality", true, {}});
  ASSERT_FALSE(reader.ok());
  EXPECT_EQ(reader.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(reader.status().message(), HasSubstr("label column 'quality' not found; columns present: 'a', 'b'"));
}

TEST(DatasetTest, OptionalLabelMayBeAbsent) {
  auto reader = FromText("a;b\n1;2\n", {"quality", false, {"b", "a"}});
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_FALSE((*reader)->has_label());
  std::vector<float> x;
  std::vector<std::string> labels;
  ASSERT_EQ(*(*reader)->ReadBatch(10, x, &labels), 1u);
  EXPECT_THAT(x, ElementsAre(2.0f, 1.0f));  // requested order, not file order
  EXPECT_TRUE(labels.empty());
}

TEST(DatasetTest, LabelCannotAlsoBeAFeature) {
  auto reader = FromText("a;quality\n1;2\n", {"quality", true, {"a", "quality"}});
  ASSERT_FALSE(reader.ok());
  EXPECT_EQ(reader.status().code(), StatusCode::kInvalidArgument);
}

TEST(DatasetTest, LabelsAreTrimmedTextAndOtherColumnsIgnored) {
  auto reader = FromText("id,x,colour\nrow-1,1,\" red \"\nrow-2,2, blue\n", {"colour", true, {"x"}});
  ASSERT_TRUE(reader.ok());
  std::vector<float> x;
  std::vector<std::string> labels;
  ASSERT_EQ(*(*reader)->ReadBatch(10, x, &labels), 2u);
  EXPECT_THAT(x, ElementsAre(1.0f, 2.0f));
  EXPECT_THAT(labels, ElementsAre("red", "blue"));
}

TEST(DatasetTest, EmptyLabelIsAnErrorNamingLineAndColumn) {
  const Status status = ReadError("a;quality\n1;5\n2;\n", {"quality", true, {}});
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("wine.csv:3:3: column 'quality': missing label"));
}

TEST(DatasetTest, ReadBatchSplitsRowsAcrossCalls) {
  auto reader = FromText("a;y\n1;p\n2;q\n3;r\n4;s\n5;t\n", {"y", true, {}});
  ASSERT_TRUE(reader.ok());
  std::vector<float> x;
  std::vector<std::string> labels;
  std::vector<std::size_t> sizes;
  for (;;) {
    auto rows = (*reader)->ReadBatch(2, x, &labels);
    ASSERT_TRUE(rows.ok()) << rows.status().ToString();
    sizes.push_back(*rows);
    if (*rows == 0) break;
  }
  EXPECT_THAT(sizes, ElementsAre(2u, 2u, 1u, 0u));
  EXPECT_THAT(x, ElementsAre(1.0f, 2.0f, 3.0f, 4.0f, 5.0f));
  EXPECT_THAT(labels, ElementsAre("p", "q", "r", "s", "t"));
  EXPECT_EQ(*(*reader)->ReadBatch(2, x, &labels), 0u);  // stays exhausted
}

TEST(DatasetTest, ReadBatchAppendsNothingOnError) {
  auto reader = FromText("a;y\n1;p\nbad;q\n", {"y", true, {}});
  ASSERT_TRUE(reader.ok());
  std::vector<float> x = {42.0f};
  std::vector<std::string> labels = {"old"};
  EXPECT_FALSE((*reader)->ReadBatch(10, x, &labels).ok());
  EXPECT_THAT(x, ElementsAre(42.0f));
  EXPECT_THAT(labels, ElementsAre("old"));
}

TEST(DatasetTest, FileWithOnlyAHeaderIsInvalidArgument) {
  testing::TempDir dir;
  const auto path = dir.Write("h.csv", "a;quality\n\n");
  auto data = ReadDataset(path, {"quality", true, {}});
  ASSERT_FALSE(data.ok());
  EXPECT_EQ(data.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(data.status().message(), HasSubstr(path.string() + ": no data rows"));
}

TEST(DatasetTest, MissingFileIsNotFound) {
  testing::TempDir dir;
  auto data = ReadDataset(dir.path() / "nope.csv", {});
  ASSERT_FALSE(data.ok());
  EXPECT_EQ(data.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(data.status().message(), HasSubstr("nope.csv"));
}

TEST(DatasetTest, IgnoredColumnsAreNeitherFeaturesNorLabel) {
  auto reader = FromText("path,label,f1,f2\na.png,cat,1,2\n", {"label", true, {}, {"path"}});
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_THAT((*reader)->features(), ElementsAre("f1", "f2"));
  auto absent = FromText("label,f1\ncat,1\n", {"label", true, {}, {"path"}});
  EXPECT_EQ(absent.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(absent.status().message(), HasSubstr("ignored column 'path' not found"));
  auto label = FromText("label,f1\ncat,1\n", {"label", true, {}, {"label"}});
  EXPECT_THAT(label.status().message(), HasSubstr("is the label; it cannot be ignored"));
}

}  // namespace
}  // namespace wharf::data
