#pragma once
// Dynamic batching: the rows of requests that reach one model within a
// short window share one Predict call, so an image model runs one forward
// pass of 32 images instead of 32 passes of one. A request waits at most
// `max_queue_delay_us` for company; a batch holds at most `max_batch_size`
// rows (a larger request runs alone, never split). `workers` threads each
// gather and run batches, so one batch is gathered while another runs.
// Thread-safe: Submit from any thread; answers run on a worker thread.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "artifact/model.h"
#include "core/mutex.h"
#include "core/status.h"
#include "serve/metrics.h"

namespace wharf::serve {

// Counts of one batcher, rendered as wharf_batch_* on /metrics.
struct BatchMetrics {
  std::atomic<std::uint64_t> batches{0};
  std::atomic<std::uint64_t> rows{0};
  // Batches by rows: bucket i counts batches of at most kBounds[i] rows.
  static constexpr std::array<std::size_t, 9> kBounds = {1, 2, 4, 8, 16, 32, 64, 128, 256};
  std::array<std::atomic<std::uint64_t>, kBounds.size() + 1> sizes{};

  void Observe(std::size_t batch_rows);
  void Render(std::string_view labels, std::string& out) const;
};

class Batcher {
 public:
  struct Options {
    std::size_t max_batch_size = 32;
    std::chrono::microseconds max_queue_delay{1000};
    int workers = 1;
  };
  // The predicted values, rows * model.output_width().
  using Done = std::function<void(Result<std::vector<float>>)>;

  Batcher(std::shared_ptr<const artifact::Model> model, Options options, std::shared_ptr<BatchMetrics> metrics);
  // Answers everything queued, then stops the workers.
  ~Batcher();
  Batcher(const Batcher&) = delete;
  Batcher& operator=(const Batcher&) = delete;

  // Queues `rows` rows (x holds rows * input width floats); `done` runs once.
  void Submit(std::vector<float> x, std::size_t rows, Done done);

  const BatchMetrics& metrics() const { return *metrics_; }

 private:
  using Clock = std::chrono::steady_clock;
  struct Item {
    std::vector<float> x;
    std::size_t rows;
    Done done;
    Clock::time_point queued;
  };

  void Run();
  void Predict(std::vector<Item>& items);

  std::shared_ptr<const artifact::Model> model_;
  Options options_;
  std::shared_ptr<BatchMetrics> metrics_;
  Mutex mutex_;
  std::condition_variable wake_;
  std::deque<Item> queue_ WHARF_GUARDED_BY(mutex_);
  std::size_t queued_rows_ WHARF_GUARDED_BY(mutex_) = 0;
  bool stopping_ WHARF_GUARDED_BY(mutex_) = false;
  std::vector<std::thread> workers_;
};

}  // namespace wharf::serve
