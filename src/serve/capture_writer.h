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
// Queued records are packed into blocks of their own (PackedRecords), so the
// byte bound is what capture holds, and a written backlog gives it all back.
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
#include "serve/packed_records.h"
#include "store/capture_store.h"

namespace wharf::serve {

// How much a CaptureWriter may hold; a record past either bound is refused.
struct CaptureQueueLimits {
  std::size_t records = 1 << 16;  // waiting to be written
  // Waiting and being written: the blocks they are packed in, and their callbacks.
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
  bool TryEnqueue(const store::CaptureRecord& record);

  // Durable capture: `on_commit` runs on the writer thread once the group
  // holding the record is committed (OK) or has failed. Returns false, without
  // calling back, when the queue is full or the writer is closed.
  bool Enqueue(const store::CaptureRecord& record, std::function<void(const Status&)> on_commit);

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
  // Memory held by queued records and the batch being written (what Limits::bytes bounds).
  std::size_t bytes() const;

 private:
  // What runs at a point of the record sequence: a durable record's callback
  // (once the transaction holding it is committed), or a barrier (once every
  // record before it is).
  struct Marker {
    std::size_t after;  // records queued before this point (a durable record's own included)
    std::function<void(const Status&)> on_commit;
    std::function<void(store::CaptureStore&)> barrier;
  };

  void Run();
  // Writes `records` in transactions of at most kRecordsPerTransaction,
  // running the markers at their points.
  void Write(const PackedRecords& records, std::vector<Marker>& markers);
  // Appends the reader's next `count` records in one transaction.
  Status Commit(PackedRecords::Reader& reader, std::size_t count);

  // Logs a failed commit to stderr: the first at once, then at most one line
  // per kFailureLogInterval with the count since, so a full disk cannot flood
  // the log (or block the writer on a stderr nobody reads).
  void LogFailure(const Status& status, std::size_t records);
  static constexpr std::chrono::seconds kFailureLogInterval{10};
  static constexpr std::size_t kRecordsPerTransaction = 2048;
  // A string of the writer's transaction buffer longer than this is freed
  // after its transaction (one large request must not stay resident).
  static constexpr std::size_t kKeptStringBytes = 64 << 10;

  // Wakes the writer if it sleeps.
  void WakeLocked(bool now) WHARF_REQUIRES(mu_);
  // Queues `record` if the limits allow it.
  bool PushLocked(const store::CaptureRecord& record, std::function<void(const Status&)>&& on_commit)
      WHARF_REQUIRES(mu_);
  std::size_t QueuedBytesLocked() const WHARF_REQUIRES(mu_);

  std::unique_ptr<store::CaptureStore> store_;
  const Limits limits_;
  const std::chrono::microseconds gather_;
  mutable Mutex mu_;
  std::condition_variable ready_;
  PackedRecords queue_ WHARF_GUARDED_BY(mu_);
  std::vector<Marker> markers_ WHARF_GUARDED_BY(mu_);  // ordered by `after`
  std::size_t writing_bytes_ WHARF_GUARDED_BY(mu_) = 0;  // what the batch being written holds
  bool closing_ WHARF_GUARDED_BY(mu_) = false;
  bool idle_ WHARF_GUARDED_BY(mu_) = false;    // the writer waits for work
  bool urgent_ WHARF_GUARDED_BY(mu_) = false;  // a durable record or a barrier waits
  std::atomic<std::uint64_t> written_{0}, dropped_{0}, failed_{0};
  // Owned by the writer thread: the records of one transaction, their strings'
  // capacity reused; failures not yet logged, and when the last line went out.
  std::vector<store::CaptureRecord> transaction_;
  std::uint64_t unlogged_failures_ = 0;
  std::optional<std::chrono::steady_clock::time_point> last_failure_log_;
  std::thread thread_;
};

}  // namespace wharf::serve
