#include "core/parallel.h"

#include <atomic>
#include <vector>

#include <gtest/gtest.h>

namespace wharf {
namespace {

TEST(ParallelForTest, CallsEveryIndexExactlyOnce) {
  std::vector<std::atomic<int>> calls(1000);
  ParallelFor(calls.size(), 4, [&](std::size_t i) { ++calls[i]; });
  for (const auto& c : calls) EXPECT_EQ(c.load(), 1);
}

TEST(ParallelForTest, HandlesNoWorkAndMoreWorkersThanItems) {
  ParallelFor(0, 8, [](std::size_t) { FAIL(); });
  std::atomic<int> n{0};
  ParallelFor(2, 16, [&](std::size_t) { ++n; });
  EXPECT_EQ(n.load(), 2);
}

}  // namespace
}  // namespace wharf
