#include "core/json_depth.h"

#include <string>

#include <gtest/gtest.h>

namespace wharf {
namespace {

std::string Nested(int depth, char open = '[', char close = ']') {
  return std::string(static_cast<std::size_t>(depth), open) + std::string(static_cast<std::size_t>(depth), close);
}

TEST(JsonDepthTest, AcceptsNestingUpToTheLimit) {
  EXPECT_TRUE(CheckJsonDepth(Nested(kMaxJsonDepth), "body").ok());
  EXPECT_TRUE(CheckJsonDepth(R"({"inputs": [{"data": [[1, 2], [3, 4]]}]})", "body").ok());
  EXPECT_TRUE(CheckJsonDepth("", "body").ok());
}

TEST(JsonDepthTest, RefusesOneLevelMoreNamingWhatAndWhere) {
  const Status deep = CheckJsonDepth(Nested(kMaxJsonDepth + 1), "the request body");
  ASSERT_EQ(deep.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(deep.message(), "the request body nests deeper than 64 levels of arrays and objects (at byte 64)");
}

TEST(JsonDepthTest, CountsObjectsAndArraysAlike) {
  std::string mixed;
  for (int i = 0; i <= kMaxJsonDepth; ++i) mixed += i % 2 == 0 ? R"({"a":)" : "[";
  EXPECT_FALSE(CheckJsonDepth(mixed, "spec").ok());
}

TEST(JsonDepthTest, SiblingsDoNotAddUp) {
  std::string wide = "[";
  for (int i = 0; i < 1000; ++i) wide += (i ? "," : "") + Nested(kMaxJsonDepth - 1);
  wide += "]";
  EXPECT_TRUE(CheckJsonDepth(wide, "body").ok());
}

TEST(JsonDepthTest, BracketsInsideStringsDoNotCount) {
  const std::string text = R"({"a": ")" + std::string(1000, '[') + R"(\" [[[", "b": "\\"})";
  EXPECT_TRUE(CheckJsonDepth(text, "body").ok());
}

TEST(JsonDepthTest, AHugeDepthIsRefusedWithoutRecursion) {
  // What crashed the servers: 300,000 levels, far past any stack.
  EXPECT_FALSE(CheckJsonDepth(std::string(300000, '['), "body").ok());
}

}  // namespace
}  // namespace wharf
