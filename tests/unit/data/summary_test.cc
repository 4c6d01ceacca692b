#include "data/summary.h"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace wharf::data {
namespace {

using ::testing::DoubleNear;
using ::testing::Each;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

Dataset OneColumn(std::vector<float> values) {
  Dataset d;
  d.features = {"f"};
  d.rows = values.size();
  d.x = std::move(values);
  return d;
}

TEST(SummaryTest, MatchesHandComputedStatistics) {
  const FeatureSummary s = Summarize(OneColumn({4, 1, kNaN, 3, 10, 2}), 0);
  EXPECT_EQ(s.name, "f");
  EXPECT_EQ(s.count, 5u);
  EXPECT_EQ(s.missing, 1u);
  EXPECT_DOUBLE_EQ(s.mean, 4.0);
  EXPECT_DOUBLE_EQ(s.std, std::sqrt(50.0 / 4.0));  // squared deviations 9+4+1+0+36, n-1 = 4
  EXPECT_EQ(s.min, 1.0);
  EXPECT_EQ(s.max, 10.0);
  // numpy.quantile([1, 2, 3, 4, 10], [.01, .05, .25, .5, .75, .95, .99])
  EXPECT_THAT(s.quantiles, ElementsAre(DoubleNear(1.04, 1e-12), DoubleNear(1.2, 1e-12), 2.0, 3.0, 4.0,
                                       DoubleNear(8.8, 1e-12), DoubleNear(9.76, 1e-12)));
  ASSERT_EQ(s.histogram_edges.size(), kSummaryBins + 1);
  EXPECT_EQ(s.histogram_edges.front(), 1.0);
  EXPECT_DOUBLE_EQ(s.histogram_edges[1], 1.9);
  EXPECT_EQ(s.histogram_edges.back(), 10.0);
  EXPECT_THAT(s.histogram_counts, ElementsAre(1u, 1u, 1u, 1u, 0u, 0u, 0u, 0u, 0u, 1u));  // max in the last bin
}

TEST(SummaryTest, SingleValueHasZeroStd) {
  const FeatureSummary s = Summarize(OneColumn({2.5f}), 0);
  EXPECT_EQ(s.count, 1u);
  EXPECT_EQ(s.std, 0.0);
  EXPECT_THAT(s.quantiles, Each(2.5));
}

TEST(SummaryTest, ConstantColumnGoesIntoOneBin) {
  const FeatureSummary s = Summarize(OneColumn({7, 7, 7}), 0);
  EXPECT_EQ(s.std, 0.0);
  EXPECT_THAT(s.histogram_edges, Each(7.0));
  EXPECT_THAT(s.histogram_counts, ElementsAre(3u, 0u, 0u, 0u, 0u, 0u, 0u, 0u, 0u, 0u));
}

TEST(SummaryTest, AllMissingColumnIsZeros) {
  const FeatureSummary s = Summarize(OneColumn({kNaN, kNaN}), 0);
  EXPECT_EQ(s.count, 0u);
  EXPECT_EQ(s.missing, 2u);
  EXPECT_EQ(s.mean, 0.0);
  EXPECT_EQ(s.quantiles.size(), std::size(kSummaryQuantiles));
  EXPECT_THAT(s.quantiles, Each(0.0));
  EXPECT_THAT(s.histogram_counts, Each(0u));
}

TEST(SummaryTest, SummarizeAllCoversEveryColumnInOrder) {
  Dataset d;
  d.features = {"a", "b"};
  d.rows = 2;
  d.x = {1, 10, 3, 20};
  const auto all = SummarizeAll(d);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].name, "a");
  EXPECT_EQ(all[0].mean, 2.0);
  EXPECT_EQ(all[1].name, "b");
  EXPECT_EQ(all[1].mean, 15.0);
}

TEST(SummaryTest, JsonRoundTrips) {
  const FeatureSummary s = Summarize(OneColumn({4, 1, kNaN, 3, 10, 2}), 0);
  const nlohmann::json j = ToJson(s);
  EXPECT_EQ(j.at("std"), s.std);
  auto back = FeatureSummaryFromJson(nlohmann::json::parse(j.dump()));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->name, s.name);
  EXPECT_EQ(back->count, s.count);
  EXPECT_EQ(back->missing, s.missing);
  EXPECT_EQ(back->mean, s.mean);
  EXPECT_EQ(back->std, s.std);
  EXPECT_EQ(back->min, s.min);
  EXPECT_EQ(back->max, s.max);
  EXPECT_EQ(back->quantiles, s.quantiles);
  EXPECT_EQ(back->histogram_edges, s.histogram_edges);
  EXPECT_EQ(back->histogram_counts, s.histogram_counts);
}

TEST(SummaryTest, FromJsonRejectsMissingOrMistypedFields) {
  const nlohmann::json good = ToJson(Summarize(OneColumn({1, 2, 3}), 0));
  const struct {
    const char* key;
    nlohmann::json value;  // null: remove the field
    const char* message;
  } cases[] = {
      {"mean", nullptr, "missing field 'mean'"},
      {"name", 3, "field 'name' must be a string"},
      {"count", -1, "field 'count' must be a non-negative integer"},
      {"count", "5", "field 'count' must be a non-negative integer"},
      {"std", "wide", "field 'std' must be a number"},
      {"quantiles", {1, 2}, "field 'quantiles' must have 7 entries"},
      {"histogram_counts", 4, "field 'histogram_counts' must be an array"},
      {"histogram_counts", {1, 2, 3, 4, 5, 6, 7, 8, 9, 1.5}, "field 'histogram_counts' must hold"},
  };
  for (const auto& c : cases) {
    nlohmann::json j = good;
    if (c.value.is_null()) {
      j.erase(c.key);
    } else {
      j[c.key] = c.value;
    }
    auto s = FeatureSummaryFromJson(j);
    ASSERT_FALSE(s.ok()) << c.key;
    EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(s.status().message(), HasSubstr(c.message));
  }
  EXPECT_FALSE(FeatureSummaryFromJson(nlohmann::json::array()).ok());
  EXPECT_FALSE(FeatureSummaryFromJson(nlohmann::json()).ok());
}

}  // namespace
}  // namespace wharf::data
