#include "serve/capture_writer.h"

#include <algorithm>
#include <iostream>

#ifdef __GLIBC__
#include <malloc.h>
#endif

namespace wharf::serve {

CaptureWriter::CaptureWriter(std::unique_ptr<store::CaptureStore> store, Limits limits,
                             std::chrono::microseconds gather)
    : store_(std::move(store)), limits_(limits), gather_(gather), thread_([this] { Run(); }) {}

std::size_t CaptureWriter::QueuedBytes(const store::CaptureRecord& r) {
  std::size_t bytes = sizeof(Item);
  for (const std::string* s : {&r.id, &r.endpoint, &r.variant, &r.model_version, &r.inputs, &r.outputs}) {
    bytes += s->capacity() + 16;  // what the allocator holds for it, roughly
  }
  return bytes;
}

bool CaptureWriter::PushLocked(store::CaptureRecord&& record, std::function<void(const Status&)>&& on_commit) {
  const std::size_t bytes = QueuedBytes(record);
  if (closing_ || records_ >= limits_.records || bytes_ + writing_bytes_ + bytes > limits_.bytes) return false;
  queue_.push_back({std::move(record), std::move(on_commit), nullptr});
  ++records_;
  bytes_ += bytes;
  return true;
}

void CaptureWriter::WakeLocked(bool now) {
  urgent_ = urgent_ || now;
  if (idle_ || now) ready_.notify_one();
}

CaptureWriter::~CaptureWriter() { Close(); }

bool CaptureWriter::TryEnqueue(store::CaptureRecord record) {
  {
    MutexLock lock(mu_);
    if (PushLocked(std::move(record), nullptr)) {
      WakeLocked(false);
      return true;
    }
  }
  dropped_.fetch_add(1, std::memory_order_relaxed);
  return false;
}

bool CaptureWriter::Enqueue(store::CaptureRecord record, std::function<void(const Status&)> on_commit) {
  MutexLock lock(mu_);
  if (!PushLocked(std::move(record), std::move(on_commit))) return false;
  WakeLocked(true);
  return true;
}

bool CaptureWriter::AfterCommit(std::function<void(store::CaptureStore&)> work) {
  MutexLock lock(mu_);
  if (closing_) return false;
  queue_.push_back({{}, nullptr, std::move(work)});
  WakeLocked(true);
  return true;
}

std::size_t CaptureWriter::depth() const {
  MutexLock lock(mu_);
  return records_;
}

std::size_t CaptureWriter::bytes() const {
  MutexLock lock(mu_);
  return bytes_ + writing_bytes_;
}

void CaptureWriter::Close() {
  {
    MutexLock lock(mu_);
    closing_ = true;
    ready_.notify_one();
  }
  if (thread_.joinable()) thread_.join();
}

void CaptureWriter::Run() {
  std::vector<Item> batch;
  for (;;) {
    {
      MutexLock lock(mu_);
      idle_ = true;
      while (queue_.empty() && !closing_) lock.Wait(ready_);
      idle_ = false;
      // Async records may gather a while (pushing them wakes nobody); durable
      // ones and barriers may not wait.
      const auto gathered = std::chrono::steady_clock::now() + gather_;
      while (!urgent_ && !closing_ && lock.WaitUntil(ready_, gathered)) {
      }
      if (queue_.empty()) return;  // closing, and everything is written
      batch.swap(queue_);
      records_ = 0;
      writing_bytes_ = bytes_;
      bytes_ = 0;
      urgent_ = false;
    }
    // Records between barriers form transactions of at most
    // kRecordsPerTransaction (a backlog must not hold a store shared with
    // other writers for long); barriers run in order.
    std::size_t start = 0;
    for (std::size_t i = 0; i <= batch.size(); ++i) {
      if (i < batch.size() && !batch[i].barrier) continue;
      for (std::size_t from = start; from < i; from += kRecordsPerTransaction) {
        Commit(batch, from, std::min(i, from + kRecordsPerTransaction));
      }
      if (i < batch.size()) batch[i].barrier(*store_);
      start = i + 1;
    }
    {
      MutexLock lock(mu_);
      writing_bytes_ = 0;
    }
    if (batch.size() >= kReleaseAfterRecords) {
      // A stalled store let a backlog pile up; now that it is written, give
      // its memory back instead of keeping the high-water mark for good.
      std::vector<Item>().swap(batch);
#ifdef __GLIBC__
      malloc_trim(0);
#endif
    } else {
      batch.clear();
    }
  }
}

void CaptureWriter::LogFailure(const Status& status, std::size_t records) {
  const auto now = std::chrono::steady_clock::now();
  unlogged_failures_ += records;
  if (last_failure_log_ && now - *last_failure_log_ < kFailureLogInterval) return;
  std::cerr << "wharf serve: capture write failed (" << unlogged_failures_ << " record"
            << (unlogged_failures_ == 1 ? "" : "s") << (last_failure_log_ ? " since the last report" : "")
            << "; counted in wharf_capture_failed_total): " << status.message() << std::endl;
  unlogged_failures_ = 0;
  last_failure_log_ = now;
}

void CaptureWriter::Commit(std::vector<Item>& items, std::size_t begin, std::size_t end) {
  if (begin >= end) return;
  std::vector<store::CaptureRecord> records;
  records.reserve(end - begin);
  for (std::size_t i = begin; i < end; ++i) records.push_back(std::move(items[i].record));
  const Status status = store_->Append(records);
  if (status.ok()) {
    written_.fetch_add(records.size(), std::memory_order_relaxed);
    if (last_failure_log_) {
      std::cerr << "wharf serve: capture writes succeed again";
      if (unlogged_failures_ > 0) std::cerr << " (" << unlogged_failures_ << " more failed since the last report)";
      std::cerr << std::endl;
      last_failure_log_.reset();
      unlogged_failures_ = 0;
    }
  } else {
    failed_.fetch_add(records.size(), std::memory_order_relaxed);
    LogFailure(status, records.size());
  }
  for (std::size_t i = begin; i < end; ++i) {
    if (items[i].on_commit) items[i].on_commit(status);
  }
}

}  // namespace wharf::serve
