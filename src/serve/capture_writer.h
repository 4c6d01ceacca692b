#pragma once
// Writes captured requests to a CaptureStore off the request path: a bounded
// queue drained by one writer thread that commits whatever has accumulated in
// one transaction (group commit: while one group is being committed, the next
// one gathers, so batches grow with load).
//
// Two ways in: TryEnqueue never blocks and drops (counted exactly) when the
// queue is full (in records or in bytes: the memory a slow store can cost is
// bounded either way) — async capture; Enqueue calls back once the record is
// committed — durable capture, where the response waits for that callback.
// Thread-safe; the store is used only by the writer thread.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "core/mutex.h"
#include "core/status.h"
#include "store/capture_store.h"

namespace wharf::serve {

// How much a CaptureWriter may hold; a record past either bound is refused.
struct CaptureQueueLimits {
  std::size_t records = 1 << 16;  // waiting to be written
  // Waiting and being written: the records' memory (CaptureWriter::QueuedBytes).
  std::size_t bytes = 32 << 20;
};

class CaptureWriter {
 public:
  using Limits = CaptureQueueLimits;

  // `gather` is how long the writer lets async records accumulate before a
  // commit (fewer, larger transactions); a durable record is committed at once.
  explicit CaptureWriter(std::unique_ptr<store::CaptureStore> store, Limits limits = {},
                         std::chrono::microseconds gather = std::chrono::milliseconds(5));
  ~CaptureWriter();  // Close()

  // Async capture: false (and counted as dropped) when the queue is full.
  bool TryEnqueue(store::CaptureRecord record);

  // Durable capture: `on_commit` runs on the writer thread once the group
  // holding the record is committed (OK) or has failed. Returns false, without
  // calling back, when the queue is full or the writer is closed.
  bool Enqueue(store::CaptureRecord record, std::function<void(const Status&)> on_commit);

  // Runs `work` on the writer thread, with the store, once every record
  // enqueued before this call has been committed. Always accepted (even when
  // full), never after Close(); returns false then.
  bool AfterCommit(std::function<void(store::CaptureStore&)> work);

  // Commits everything queued, then stops the thread. Idempotent; call it
  // from one thread (the owner's).
  void Close();

  std::uint64_t written() const { return written_.load(std::memory_order_relaxed); }
  std::uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }
  std::uint64_t failed() const { return failed_.load(std::memory_order_relaxed); }
  std::size_t depth() const;
  // Memory held by queued records and the batch being written (QueuedBytes).
  std::size_t bytes() const;

  // What a queued record counts against Limits::bytes: its allocations, roughly.
  static std::size_t QueuedBytes(const store::CaptureRecord& record);

 private:
  // A record to write (with its durable callback), or a barrier to run.
  struct Item {
    store::CaptureRecord record;
    std::function<void(const Status&)> on_commit;
    std::function<void(store::CaptureStore&)> barrier;
  };

  void Run();
  // Appends `records` in one transaction and runs their callbacks.
  void Commit(std::vector<Item>& items, std::size_t begin, std::size_t end);

  // Logs a failed commit to stderr: the first at once, then at most one line
  // per kFailureLogInterval with the count since, so a full disk cannot flood
  // the log (or block the writer on a stderr nobody reads).
  void LogFailure(const Status& status, std::size_t records);
  static constexpr std::chrono::seconds kFailureLogInterval{10};
  // A batch this large was a backlog: its memory is returned to the system once written.
  static constexpr std::size_t kReleaseAfterRecords = 4096;
  static constexpr std::size_t kRecordsPerTransaction = 2048;

  // Wakes the writer if it sleeps.
  void WakeLocked(bool now) WHARF_REQUIRES(mu_);
  // Queues `record` if the limits allow it.
  bool PushLocked(store::CaptureRecord&& record, std::function<void(const Status&)>&& on_commit)
      WHARF_REQUIRES(mu_);

  std::unique_ptr<store::CaptureStore> store_;
  const Limits limits_;
  const std::chrono::microseconds gather_;
  mutable Mutex mu_;
  std::condition_variable ready_;
  std::vector<Item> queue_ WHARF_GUARDED_BY(mu_);
  std::size_t records_ WHARF_GUARDED_BY(mu_) = 0;  // records (not barriers) in queue_
  std::size_t bytes_ WHARF_GUARDED_BY(mu_) = 0;    // their QueuedBytes
  std::size_t writing_bytes_ WHARF_GUARDED_BY(mu_) = 0;  // QueuedBytes of the batch being written
  bool closing_ WHARF_GUARDED_BY(mu_) = false;
  bool idle_ WHARF_GUARDED_BY(mu_) = false;    // the writer waits for work
  bool urgent_ WHARF_GUARDED_BY(mu_) = false;  // a durable record or a barrier waits
  std::atomic<std::uint64_t> written_{0}, dropped_{0}, failed_{0};
  // Owned by the writer thread: failures not yet logged, and when the last line went out.
  std::uint64_t unlogged_failures_ = 0;
  std::optional<std::chrono::steady_clock::time_point> last_failure_log_;
  std::thread thread_;
};

}  // namespace wharf::serve
