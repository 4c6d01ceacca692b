#include "data/number.h"

#include <cmath>
#include <string_view>

#include <gtest/gtest.h>

namespace wharf::data {
namespace {

TEST(ParseNumberTest, ParsesDecimalNumbersInTheirCommonSpellings) {
  const struct {
    std::string_view text;
    float expected;
  } cases[] = {
      {"7.4", 7.4f},
      {"-2", -2.0f},
      {"+1.5", 1.5f},
      {"  3 ", 3.0f},
      {"\t0.5\r", 0.5f},
      {"\"7.4\"", 7.4f},
      {" \"-1e3\" ", -1000.0f},
      {".5", 0.5f},
      {"5.", 5.0f},
      {"1E-2", 0.01f},
      {"0", 0.0f},
      {"-0.0", -0.0f},
      {"1e-40", 1e-40f},
  };
  for (const auto& c : cases) {
    const auto value = ParseNumber(c.text);
    ASSERT_TRUE(value.has_value()) << c.text;
    EXPECT_FLOAT_EQ(*value, c.expected) << c.text;
  }
}

TEST(ParseNumberTest, ValuesTooSmallForAFloatBecomeZero) {
  EXPECT_EQ(ParseNumber("1e-50"), 0.0f);
  EXPECT_EQ(ParseNumber("1e-400"), 0.0f);
  EXPECT_TRUE(std::signbit(*ParseNumber("-1e-50")));
}

TEST(ParseNumberTest, MissingValueMarkersAreNaNInAnyCase) {
  for (std::string_view text : {"", "  ", "\"\"", "NA", "na", "N/A", "n/a", "NaN", "nan", "NAN", "null", "NULL", "Null",
                                "?", " ? ", "\"NA\""}) {
    const auto value = ParseNumber(text);
    ASSERT_TRUE(value.has_value()) << "'" << text << "'";
    EXPECT_TRUE(std::isnan(*value)) << "'" << text << "'";
  }
}

TEST(ParseNumberTest, RejectsTextThatIsNotAFiniteNumber) {
  for (std::string_view text : {"abc", "1.2x", "1.2.3", "1,5",  "1 2",      "0x10",   "1e",   "+-1",   "--1", "-",  "+",
                                ".",   "inf",  "-inf",  "+inf", "Infinity", "nan(1)", "1e39", "-1e39", "NAx", "red"}) {
    EXPECT_FALSE(ParseNumber(text).has_value()) << "'" << text << "'";
  }
}

}  // namespace
}  // namespace wharf::data
