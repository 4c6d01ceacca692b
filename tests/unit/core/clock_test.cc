#include "core/clock.h"

#include <gtest/gtest.h>

namespace wharf {
namespace {

constexpr std::int64_t kNoon = 1'795'435'200'000'000;  // 2026-11-23T12:00:00Z

TEST(ParseTimeOrAgeTest, AcceptsIsoUtcForms) {
  const struct {
    const char* text;
    std::int64_t us;
  } cases[] = {
      {"2026-11-23T12:00:00Z", kNoon},
      {"2026-11-23T12:00:00", kNoon},
      {"2026-11-23 12:00:00", kNoon},
      {"2026-11-23T12:00Z", kNoon},
      {"2026-11-23T12:00:00.25Z", kNoon + 250'000},
      {"2026-11-23T12:00:00.123456789Z", kNoon + 123'456},
      {"2026-11-23", kNoon - 12 * 3600LL * 1'000'000},
      {"1970-01-01", 0},
      {"2024-02-29T23:59:59Z", 1'709'251'199'000'000},
  };
  for (const auto& c : cases) {
    auto us = ParseTimeOrAge(c.text, 0, "--since");
    ASSERT_TRUE(us.ok()) << c.text << ": " << us.status().ToString();
    EXPECT_EQ(*us, c.us) << c.text;
  }
}

TEST(ParseTimeOrAgeTest, AcceptsAgesBeforeNow) {
  const std::int64_t s = 1'000'000;
  EXPECT_EQ(*ParseTimeOrAge("30s", kNoon, "--since"), kNoon - 30 * s);
  EXPECT_EQ(*ParseTimeOrAge("15m", kNoon, "--since"), kNoon - 15 * 60 * s);
  EXPECT_EQ(*ParseTimeOrAge("2h", kNoon, "--since"), kNoon - 2 * 3600 * s);
  EXPECT_EQ(*ParseTimeOrAge("7d", kNoon, "--since"), kNoon - 7 * 86400 * s);
  EXPECT_EQ(*ParseTimeOrAge("0s", kNoon, "--since"), kNoon);
}

TEST(ParseTimeOrAgeTest, RejectsOtherTextNamingTheFlagAndForms) {
  for (const char* bad : {"", "yesterday", "2026-13-01", "2026-02-30", "2026-11-23T24:00:00Z", "2026-11-23T12",
                          "2026-11-23T12:00:00+02:00", "26-11-23", "15", "m", "-5m", "1.5h", "2w", "99999999999999999d",
                          "2026-11-23T12:00:00.Z"}) {
    auto us = ParseTimeOrAge(bad, kNoon, "--since");
    ASSERT_FALSE(us.ok()) << bad;
    EXPECT_EQ(us.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(us.status().message().find("--since"), std::string::npos);
    EXPECT_NE(us.status().message().find(std::string("'") + bad + "'"), std::string::npos);
    EXPECT_NE(us.status().message().find("7d"), std::string::npos);
  }
}

TEST(FormatTimeUtcTest, IsIsoWithMilliseconds) {
  EXPECT_EQ(FormatTimeUtc(kNoon + 123'456), "2026-11-23T12:00:00.123Z");
  EXPECT_EQ(FormatTimeUtc(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatTimeUtc(-1), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(*ParseTimeOrAge(FormatTimeUtc(kNoon + 5'000), 0, "until"), kNoon + 5'000);
}

}  // namespace
}  // namespace wharf
