#include "serve/batcher.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

#include "testing/wait.h"

namespace wharf::serve {
namespace {

// Doubles each of its two inputs; counts its calls and the largest batch.
class DoublingModel final : public artifact::Model {
 public:
  DoublingModel() { schema_.features = {"a", "b"}; }
  const artifact::ModelSchema& schema() const override { return schema_; }
  std::size_t output_width() const override { return 2; }
  Status Predict(const float* x, std::size_t rows, float* out) const override {
    calls.fetch_add(1);
    std::size_t seen = largest.load();
    while (rows > seen && !largest.compare_exchange_weak(seen, rows)) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));  // a forward pass takes time
    for (std::size_t i = 0; i < rows * 2; ++i) out[i] = 2 * x[i];
    return Status::Ok();
  }
  mutable std::atomic<int> calls{0};
  mutable std::atomic<std::size_t> largest{0};

 private:
  artifact::ModelSchema schema_;
};

TEST(BatcherTest, ConcurrentRequestsShareForwardPassesAndEachGetsItsOwnRows) {
  auto model = std::make_shared<DoublingModel>();
  auto metrics = std::make_shared<BatchMetrics>();
  constexpr int kRequests = 64;
  std::vector<std::future<std::vector<float>>> answers;
  {
    Batcher batcher(model, {.max_batch_size = 16, .max_queue_delay = std::chrono::milliseconds(20)}, metrics);
    for (int i = 0; i < kRequests; ++i) {
      auto promise = std::make_shared<std::promise<std::vector<float>>>();
      answers.push_back(promise->get_future());
      batcher.Submit({static_cast<float>(i), static_cast<float>(-i)}, 1, [promise](Result<std::vector<float>> values) {
        promise->set_value(values.ok() ? *values : std::vector<float>{});
      });
    }
  }  // the destructor answers everything queued
  for (int i = 0; i < kRequests; ++i) {
    EXPECT_EQ(answers[i].get(), (std::vector<float>{2.0f * i, -2.0f * i})) << "request " << i;
  }
  EXPECT_LT(model->calls.load(), kRequests);
  EXPECT_LE(model->largest.load(), 16u);
  EXPECT_GT(model->largest.load(), 1u);
  EXPECT_EQ(metrics->rows.load(), static_cast<std::uint64_t>(kRequests));
  EXPECT_EQ(metrics->batches.load(), static_cast<std::uint64_t>(model->calls.load()));
}

TEST(BatcherTest, ALoneRequestWaitsNoLongerThanTheDelay) {
  auto model = std::make_shared<DoublingModel>();
  Batcher batcher(model, {.max_batch_size = 64, .max_queue_delay = std::chrono::milliseconds(5)},
                  std::make_shared<BatchMetrics>());
  std::promise<std::vector<float>> answer;
  batcher.Submit({1, 2}, 1, [&](Result<std::vector<float>> values) { answer.set_value(*values); });
  auto future = answer.get_future();
  ASSERT_EQ(future.wait_for(wharf::testing::kPatience), std::future_status::ready);
  EXPECT_EQ(future.get(), (std::vector<float>{2, 4}));
}

TEST(BatcherTest, ARequestLargerThanTheBatchRunsAloneAndWhole) {
  auto model = std::make_shared<DoublingModel>();
  std::promise<std::vector<float>> answer;
  {
    Batcher batcher(model, {.max_batch_size = 2, .max_queue_delay = std::chrono::microseconds(100)},
                    std::make_shared<BatchMetrics>());
    batcher.Submit({1, 2, 3, 4, 5, 6}, 3, [&](Result<std::vector<float>> values) { answer.set_value(*values); });
  }
  EXPECT_EQ(answer.get_future().get(), (std::vector<float>{2, 4, 6, 8, 10, 12}));
  EXPECT_EQ(model->largest.load(), 3u);
}

TEST(BatchMetricsTest, RendersAPrometheusHistogramOfBatchSizes) {
  BatchMetrics metrics;
  metrics.Observe(1);
  metrics.Observe(3);
  metrics.Observe(300);
  std::string out;
  metrics.Render(R"(endpoint="e")", out);
  EXPECT_NE(out.find(R"(wharf_batch_size_bucket{endpoint="e",le="1"} 1)"), std::string::npos) << out;
  EXPECT_NE(out.find(R"(wharf_batch_size_bucket{endpoint="e",le="4"} 2)"), std::string::npos) << out;
  EXPECT_NE(out.find(R"(wharf_batch_size_bucket{endpoint="e",le="+Inf"} 3)"), std::string::npos) << out;
  EXPECT_NE(out.find(R"(wharf_batch_size_sum{endpoint="e"} 304)"), std::string::npos) << out;
}

}  // namespace
}  // namespace wharf::serve
