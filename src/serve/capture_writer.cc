#include "serve/capture_writer.h"

#include <algorithm>
#include <iostream>
#include <span>
#include <string>

namespace wharf::serve {

CaptureWriter::CaptureWriter(std::unique_ptr<store::CaptureStore> store, Limits limits,
                             std::chrono::microseconds gather)
    : store_(std::move(store)), limits_(limits), gather_(gather), thread_([this] { Run(); }) {}

std::size_t CaptureWriter::QueuedBytesLocked() const {
  return queue_.bytes() + markers_.capacity() * sizeof(Marker);
}

bool CaptureWriter::PushLocked(const store::CaptureRecord& record, std::function<void(const Status&)>&& on_commit) {
  if (closing_ || queue_.size() >= limits_.records) return false;
  // A durable record's callback may need the markers' room doubled.
  const bool grow_markers = on_commit && markers_.size() == markers_.capacity();
  const std::size_t markers_capacity = grow_markers ? std::max<std::size_t>(16, 2 * markers_.capacity()) : 0;
  const std::size_t growth =
      queue_.GrowthFor(record) + (grow_markers ? (markers_capacity - markers_.capacity()) * sizeof(Marker) : 0);
  if (QueuedBytesLocked() + writing_bytes_ + growth > limits_.bytes || !queue_.Push(record)) return false;
  if (on_commit) {
    if (grow_markers) markers_.reserve(markers_capacity);
    markers_.push_back({queue_.size(), std::move(on_commit), nullptr});
  }
  return true;
}

void CaptureWriter::WakeLocked(bool now) {
  urgent_ = urgent_ || now;
  if (idle_ || now) ready_.notify_one();
}

CaptureWriter::~CaptureWriter() { Close(); }

bool CaptureWriter::TryEnqueue(const store::CaptureRecord& record) {
  {
    MutexLock lock(mu_);
    if (PushLocked(record, nullptr)) {
      WakeLocked(false);
      return true;
    }
  }
  dropped_.fetch_add(1, std::memory_order_relaxed);
  return false;
}

bool CaptureWriter::Enqueue(const store::CaptureRecord& record, std::function<void(const Status&)> on_commit) {
  MutexLock lock(mu_);
  if (!PushLocked(record, std::move(on_commit))) return false;
  WakeLocked(true);
  return true;
}

bool CaptureWriter::AfterCommit(std::function<void(store::CaptureStore&)> work) {
  MutexLock lock(mu_);
  if (closing_) return false;
  markers_.push_back({queue_.size(), nullptr, std::move(work)});
  WakeLocked(true);
  return true;
}

std::size_t CaptureWriter::depth() const {
  MutexLock lock(mu_);
  return queue_.size();
}

std::size_t CaptureWriter::bytes() const {
  MutexLock lock(mu_);
  return QueuedBytesLocked() + writing_bytes_;
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
  PackedRecords batch;
  std::vector<Marker> markers;
  for (;;) {
    {
      MutexLock lock(mu_);
      idle_ = true;
      while (queue_.empty() && markers_.empty() && !closing_) lock.Wait(ready_);
      idle_ = false;
      // Async records may gather a while (pushing them wakes nobody); durable
      // ones and barriers may not wait.
      const auto gathered = std::chrono::steady_clock::now() + gather_;
      while (!urgent_ && !closing_ && lock.WaitUntil(ready_, gathered)) {
      }
      if (queue_.empty() && markers_.empty()) return;  // closing, and everything is written
      writing_bytes_ = QueuedBytesLocked();
      batch.swap(queue_);
      markers.swap(markers_);
      urgent_ = false;
    }
    Write(batch, markers);
    batch.Clear();
    std::vector<Marker>().swap(markers);
    MutexLock lock(mu_);
    writing_bytes_ = 0;
  }
}

void CaptureWriter::Write(const PackedRecords& records, std::vector<Marker>& markers) {
  PackedRecords::Reader reader(records);
  std::size_t next = 0;     // the next marker to run
  std::size_t written = 0;  // records committed (or failed)
  for (;;) {
    // Records up to the next barrier go out in bounded transactions (a
    // backlog must not hold a store shared with other writers for long);
    // each durable callback runs once its transaction is done.
    std::size_t barrier = next;
    while (barrier < markers.size() && !markers[barrier].barrier) ++barrier;
    const std::size_t end = barrier < markers.size() ? markers[barrier].after : records.size();
    while (written < end) {
      const std::size_t count = std::min(end - written, kRecordsPerTransaction);
      const Status status = Commit(reader, count);
      written += count;
      for (; next < barrier && markers[next].after <= written; ++next) markers[next].on_commit(status);
    }
    if (barrier == markers.size()) return;
    markers[barrier].barrier(*store_);
    next = barrier + 1;
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

Status CaptureWriter::Commit(PackedRecords::Reader& reader, std::size_t count) {
  if (transaction_.size() < count) transaction_.resize(count);
  for (std::size_t i = 0; i < count; ++i) WHARF_CHECK(reader.Next(transaction_[i]));
  const Status status = store_->Append(std::span<const store::CaptureRecord>(transaction_.data(), count));
  for (std::size_t i = 0; i < count; ++i) {
    for (std::string* s : {&transaction_[i].inputs, &transaction_[i].outputs}) {
      if (s->capacity() > kKeptStringBytes) std::string().swap(*s);
    }
  }
  if (status.ok()) {
    written_.fetch_add(count, std::memory_order_relaxed);
    if (last_failure_log_) {
      std::cerr << "wharf serve: capture writes succeed again";
      if (unlogged_failures_ > 0) std::cerr << " (" << unlogged_failures_ << " more failed since the last report)";
      std::cerr << std::endl;
      last_failure_log_.reset();
      unlogged_failures_ = 0;
    }
  } else {
    failed_.fetch_add(count, std::memory_order_relaxed);
    LogFailure(status, count);
  }
  return status;
}

}  // namespace wharf::serve
