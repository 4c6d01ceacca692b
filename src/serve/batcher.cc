#include "serve/batcher.h"

#include <algorithm>
#include <iterator>

#include <fmt/format.h>

namespace wharf::serve {

void BatchMetrics::Observe(std::size_t batch_rows) {
  batches.fetch_add(1, std::memory_order_relaxed);
  rows.fetch_add(batch_rows, std::memory_order_relaxed);
  const auto bucket = static_cast<std::size_t>(std::lower_bound(kBounds.begin(), kBounds.end(), batch_rows) - kBounds.begin());
  sizes[bucket].fetch_add(1, std::memory_order_relaxed);
}

void BatchMetrics::Render(std::string_view labels, std::string& out) const {
  auto it = std::back_inserter(out);
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < kBounds.size(); ++i) {
    cumulative += sizes[i].load(std::memory_order_relaxed);
    fmt::format_to(it, "wharf_batch_size_bucket{{{},le=\"{}\"}} {}\n", labels, kBounds[i], cumulative);
  }
  cumulative += sizes[kBounds.size()].load(std::memory_order_relaxed);
  fmt::format_to(it, "wharf_batch_size_bucket{{{},le=\"+Inf\"}} {}\n", labels, cumulative);
  fmt::format_to(it, "wharf_batch_size_sum{{{}}} {}\nwharf_batch_size_count{{{}}} {}\n", labels,
                 rows.load(std::memory_order_relaxed), labels, batches.load(std::memory_order_relaxed));
}

Batcher::Batcher(std::shared_ptr<const artifact::Model> model, Options options, std::shared_ptr<BatchMetrics> metrics)
    : model_(std::move(model)), options_(options), metrics_(std::move(metrics)) {
  for (int i = 0; i < std::max(options_.workers, 1); ++i) workers_.emplace_back([this] { Run(); });
}

Batcher::~Batcher() {
  {
    MutexLock lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& worker : workers_) worker.join();
}

void Batcher::Submit(std::vector<float> x, std::size_t rows, Done done) {
  {
    MutexLock lock(mutex_);
    queue_.push_back({std::move(x), rows, std::move(done), Clock::now()});
    queued_rows_ += rows;
  }
  wake_.notify_one();
}

void Batcher::Run() {
  for (;;) {
    std::vector<Item> batch;
    bool more = false;
    {
      MutexLock lock(mutex_);
      while (queue_.empty() && !stopping_) lock.Wait(wake_);
      if (queue_.empty()) return;  // stopping, and everything answered
      // Wait for company until the oldest request's delay is spent or the batch is full.
      const auto deadline = queue_.front().queued + options_.max_queue_delay;
      while (queued_rows_ < options_.max_batch_size && !stopping_ && lock.WaitUntil(wake_, deadline)) {
      }
      if (queue_.empty()) continue;  // another worker took them
      std::size_t rows = 0;
      while (!queue_.empty() && (batch.empty() || rows + queue_.front().rows <= options_.max_batch_size)) {
        rows += queue_.front().rows;
        queued_rows_ -= queue_.front().rows;
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      more = !queue_.empty();
    }
    if (more) wake_.notify_one();  // another worker may start gathering the rest
    Predict(batch);
  }
}

void Batcher::Predict(std::vector<Item>& items) {
  std::size_t rows = 0;
  for (const auto& item : items) rows += item.rows;
  const std::size_t width = model_->output_width();
  std::vector<float> out(rows * width);
  Status status = Status::Ok();
  if (items.size() == 1) {
    status = model_->Predict(items.front().x.data(), rows, out.data());
  } else {
    std::vector<float> x;
    x.reserve(rows * model_->schema().input_width());
    for (const auto& item : items) x.insert(x.end(), item.x.begin(), item.x.end());
    status = model_->Predict(x.data(), rows, out.data());
  }
  metrics_->Observe(rows);
  std::size_t at = 0;
  for (auto& item : items) {
    if (!status.ok()) {
      item.done(status);
      continue;
    }
    item.done(std::vector<float>(out.begin() + static_cast<std::ptrdiff_t>(at * width),
                                 out.begin() + static_cast<std::ptrdiff_t>((at + item.rows) * width)));
    at += item.rows;
  }
}

}  // namespace wharf::serve
