#include "serve/router.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace wharf::serve {
namespace {

// The share of `picks` that went to each of `size` variants.
template <typename PickFn>
std::vector<double> Shares(std::size_t size, int picks, PickFn pick) {
  std::vector<double> counts(size, 0);
  for (int i = 0; i < picks; ++i) {
    const std::size_t index = pick(i);
    EXPECT_LT(index, size);
    if (index < size) ++counts[index];
  }
  for (double& c : counts) c /= picks;
  return counts;
}

std::string UserKey(int i) { return "user-" + std::to_string(i); }

TEST(TrafficRouterTest, HonoursWeightsOverManyPicks) {
  const TrafficRouter router({1, 3});
  const auto shares = Shares(2, 100'000, [&](int) { return router.Pick(); });
  EXPECT_NEAR(shares[0], 0.25, 0.02);
  EXPECT_NEAR(shares[1], 0.75, 0.02);
}

TEST(TrafficRouterTest, HonoursUnevenWeightsAcrossThreeVariants) {
  const TrafficRouter router({90, 5, 5});
  const auto shares = Shares(3, 100'000, [&](int) { return router.Pick(); });
  EXPECT_NEAR(shares[0], 0.90, 0.02);
  EXPECT_NEAR(shares[1], 0.05, 0.02);
  EXPECT_NEAR(shares[2], 0.05, 0.02);
}

TEST(TrafficRouterTest, SingleVariantIsAlwaysPicked) {
  const TrafficRouter router({7});
  EXPECT_EQ(router.size(), 1u);
  for (int i = 0; i < 1000; ++i) {
    EXPECT_EQ(router.Pick(), 0u);
    EXPECT_EQ(router.PickSticky(UserKey(i)), 0u);
  }
  EXPECT_EQ(router.PickSticky(""), 0u);
}

TEST(TrafficRouterTest, StickyKeyAlwaysGetsTheSameVariant) {
  const TrafficRouter router({1, 1, 1});
  for (int i = 0; i < 200; ++i) {
    const std::size_t first = router.PickSticky(UserKey(i));
    for (int repeat = 0; repeat < 20; ++repeat) EXPECT_EQ(router.PickSticky(UserKey(i)), first) << UserKey(i);
  }
}

TEST(TrafficRouterTest, StickyKeysSpreadByWeight) {
  const TrafficRouter router({1, 3});
  const auto shares = Shares(2, 20'000, [&](int i) { return router.PickSticky(UserKey(i)); });
  EXPECT_NEAR(shares[0], 0.25, 0.05);
  EXPECT_NEAR(shares[1], 0.75, 0.05);
}

TEST(TrafficRouterTest, StickyPickIsTheSameAcrossRoutersWithTheSameWeights) {
  const TrafficRouter a({10, 20, 70});
  const TrafficRouter b({10, 20, 70});
  const TrafficRouter scaled({1, 2, 7});  // only the shares matter
  for (int i = 0; i < 5000; ++i) {
    EXPECT_EQ(a.PickSticky(UserKey(i)), b.PickSticky(UserKey(i)));
    EXPECT_EQ(a.PickSticky(UserKey(i)), scaled.PickSticky(UserKey(i)));
  }
}

}  // namespace
}  // namespace wharf::serve
