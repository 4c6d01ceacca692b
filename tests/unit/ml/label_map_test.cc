#include "ml/label_map.h"

#include <gtest/gtest.h>

namespace wharf::ml {
namespace {

TEST(LabelMapTest, OrdersNumericLabelsNumericallyAndMapsBack) {
  const LabelMap map = LabelMap::FromLabels({"8", "3", "10", "5", "3"});
  EXPECT_EQ(map.classes(), (std::vector<std::string>{"3", "5", "8", "10"}));
  EXPECT_EQ(map.Find("10"), 3);
  EXPECT_EQ(map.Find("5.0"), 1);  // the same number written differently
  EXPECT_FALSE(map.Find("4").has_value());
}

TEST(LabelMapTest, KeepsTextLabelsInTextOrder) {
  const LabelMap map = LabelMap::FromLabels({"white", "red", "white"});
  EXPECT_EQ(map.classes(), (std::vector<std::string>{"red", "white"}));
}

TEST(LabelMapTest, EncodeAllNamesTheUnknownLabelAndItsRow) {
  const LabelMap map = LabelMap::FromLabels({"3", "4"});
  auto encoded = map.EncodeAll({"3", "9"});
  ASSERT_FALSE(encoded.ok());
  EXPECT_NE(encoded.status().message().find("'9'"), std::string::npos);
  EXPECT_NE(encoded.status().message().find("row 2"), std::string::npos);
}

}  // namespace
}  // namespace wharf::ml
