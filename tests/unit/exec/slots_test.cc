#include "exec/slots.h"

#include <atomic>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace wharf::exec {
namespace {

TEST(SlotSchedulerTest, AdmitsTasksWhileTheyFit) {
  SlotScheduler slots(4);
  EXPECT_TRUE(slots.TryAcquire(2));
  EXPECT_TRUE(slots.TryAcquire(1.5));
  EXPECT_FALSE(slots.TryAcquire(1));
  EXPECT_TRUE(slots.TryAcquire(0.5));
  EXPECT_DOUBLE_EQ(slots.used(), 4);
  EXPECT_EQ(slots.running(), 3);
  slots.Release(2);
  EXPECT_TRUE(slots.TryAcquire(1));
  EXPECT_DOUBLE_EQ(slots.used(), 3);
}

TEST(SlotSchedulerTest, FractionalCpusAddUpExactly) {
  SlotScheduler slots(1);
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(slots.TryAcquire(0.1)) << i;
  EXPECT_FALSE(slots.TryAcquire(0.1));
}

TEST(SlotSchedulerTest, AnOversizedTaskRunsOnlyAlone) {
  SlotScheduler slots(2);
  EXPECT_TRUE(slots.TryAcquire(1));
  EXPECT_FALSE(slots.TryAcquire(8));  // would never fit: waits until the machine is idle
  slots.Release(1);
  EXPECT_TRUE(slots.TryAcquire(8));
  EXPECT_FALSE(slots.TryAcquire(0.5));  // and nothing joins it
  slots.Release(8);
  EXPECT_EQ(slots.running(), 0);
  EXPECT_DOUBLE_EQ(slots.used(), 0);
}

TEST(SlotSchedulerTest, DefaultCapacityIsTheNumberOfCores) {
  SlotScheduler slots;
  EXPECT_GE(slots.capacity(), 1);
  EXPECT_EQ(slots.capacity(), static_cast<double>(std::max(1u, std::thread::hardware_concurrency())));
}

TEST(SlotSchedulerTest, NeverOvercommitsUnderContention) {
  SlotScheduler slots(3);
  std::atomic<int> holders{0};
  std::atomic<int> most{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) {
        if (!slots.TryAcquire(1)) continue;
        const int now = ++holders;
        int seen = most.load();
        while (now > seen && !most.compare_exchange_weak(seen, now)) {
        }
        --holders;
        slots.Release(1);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_LE(most.load(), 3);
  EXPECT_EQ(slots.running(), 0);
}

TEST(SlotSchedulerTest, AcquireTakesEvenWhenFullAndBlocksOthersUntilReleased) {
  SlotScheduler slots(2);
  ASSERT_TRUE(slots.TryAcquire(2));
  slots.Acquire(1);  // an adopted task: over capacity, but it is already running
  EXPECT_DOUBLE_EQ(slots.used(), 3);
  EXPECT_EQ(slots.running(), 2);
  slots.Release(2);
  EXPECT_FALSE(slots.TryAcquire(1.5));
  EXPECT_TRUE(slots.TryAcquire(1));
}

}  // namespace
}  // namespace wharf::exec
