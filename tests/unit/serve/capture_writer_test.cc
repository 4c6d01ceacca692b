#include "serve/capture_writer.h"

#include <chrono>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "testing/wait.h"

namespace wharf::serve {
namespace {

using namespace std::chrono_literals;
using wharf::testing::kPatience;

// What the fake store saw, shared with the test (the writer owns the store).
// Append blocks while the gate is closed, so a test can hold the writer
// inside a commit and fill the queue deterministically.
struct StoreState {
  std::mutex mu;
  std::condition_variable changed;
  bool gate_open = true;
  bool in_append = false;
  int appends_entered = 0;
  Status result;                        // what Append returns
  std::vector<std::string> ids;         // ids of appended records, in order
  std::vector<std::size_t> batch_sizes;  // one per Append call

  void SetGate(bool open) {
    std::lock_guard lock(mu);
    gate_open = open;
    changed.notify_all();
  }
  // Waits until Append has been entered `n` times; false on timeout.
  bool WaitForAppends(int n) {
    std::unique_lock lock(mu);
    return changed.wait_for(lock, kPatience, [&] { return appends_entered >= n; });
  }
  std::size_t appended() {
    std::lock_guard lock(mu);
    return ids.size();
  }
};

class FakeStore : public store::CaptureStore {
 public:
  explicit FakeStore(std::shared_ptr<StoreState> state) : state_(std::move(state)) {}

  Status Append(std::span<const store::CaptureRecord> records) override {
    std::unique_lock lock(state_->mu);
    state_->in_append = true;
    ++state_->appends_entered;
    state_->changed.notify_all();
    state_->changed.wait(lock, [&] { return state_->gate_open; });
    if (state_->result.ok()) {
      for (const auto& r : records) state_->ids.push_back(r.id);
      state_->batch_sizes.push_back(records.size());
    }
    state_->in_append = false;
    return state_->result;
  }
  Result<std::vector<store::CaptureRecord>> Query(const store::CaptureQuery&) override {
    return Unimplemented("fake");
  }
  Status ForEach(const store::CaptureQuery&, const std::function<Status(const store::CaptureRecord&)>&) override {
    return Unimplemented("fake");
  }
  StoreState& state() { return *state_; }

 private:
  std::shared_ptr<StoreState> state_;
};

store::CaptureRecord Record(int i) {
  store::CaptureRecord r;
  r.id = "r";
  r.id += std::to_string(i);  // not "r" + ...: g++ 12 warns falsely (-Wrestrict) on that
  r.endpoint = "iris";
  return r;
}

struct Fixture {
  explicit Fixture(std::size_t capacity = 1 << 16, std::chrono::microseconds gather = 0us)
      : Fixture(CaptureWriter::Limits{.records = capacity}, gather) {}
  explicit Fixture(CaptureWriter::Limits limits, std::chrono::microseconds gather = 0us)
      : state(std::make_shared<StoreState>()), writer(std::make_unique<FakeStore>(state), limits, gather) {}
  // A failed assertion may leave the gate closed; the writer must not hang on it.
  ~Fixture() {
    state->SetGate(true);
    writer.Close();
  }
  std::shared_ptr<StoreState> state;
  CaptureWriter writer;
};

TEST(CaptureWriterTest, WritesAndCountsEveryAsyncRecord) {
  Fixture f(1 << 16, 1ms);
  for (int i = 0; i < 500; ++i) ASSERT_TRUE(f.writer.TryEnqueue(Record(i)));
  f.writer.Close();
  EXPECT_EQ(f.state->appended(), 500u);
  EXPECT_EQ(f.writer.written(), 500u);
  EXPECT_EQ(f.writer.dropped(), 0u);
  EXPECT_EQ(f.writer.failed(), 0u);
}

TEST(CaptureWriterTest, FullQueueDropsExactlyTheRejectedRecords) {
  Fixture f(/*capacity=*/4);
  f.state->SetGate(false);
  ASSERT_TRUE(f.writer.TryEnqueue(Record(0)));
  ASSERT_TRUE(f.state->WaitForAppends(1));  // the writer holds record 0, the queue is empty

  for (int i = 1; i <= 4; ++i) EXPECT_TRUE(f.writer.TryEnqueue(Record(i))) << i;
  EXPECT_EQ(f.writer.depth(), 4u);
  for (int i = 5; i <= 7; ++i) EXPECT_FALSE(f.writer.TryEnqueue(Record(i))) << i;
  EXPECT_FALSE(f.writer.Enqueue(Record(8), [](const Status&) { ADD_FAILURE() << "refused record called back"; }));
  EXPECT_EQ(f.writer.dropped(), 3u);

  f.state->SetGate(true);
  f.writer.Close();
  EXPECT_EQ(f.writer.written(), 5u);
  EXPECT_EQ(f.writer.dropped(), 3u);
  EXPECT_EQ(f.state->ids, (std::vector<std::string>{"r0", "r1", "r2", "r3", "r4"}));
}

// The byte bound covers the batch being written too: all the memory capture holds.
TEST(CaptureWriterTest, TheQueueIsBoundedInBytesToo) {
  store::CaptureRecord big = Record(1);
  big.inputs.assign(1 << 20, 'x');  // a 1 MiB request body: it takes a block of its own
  Fixture f(CaptureWriter::Limits{.records = 1000, .bytes = (7 << 20) / 2});  // room for three
  f.state->SetGate(false);
  ASSERT_TRUE(f.writer.TryEnqueue(big));
  ASSERT_TRUE(f.state->WaitForAppends(1));  // the writer holds one megabyte, the queue is empty

  for (int i = 0; i < 2; ++i) EXPECT_TRUE(f.writer.TryEnqueue(big)) << i;
  EXPECT_GT(f.writer.bytes(), 3u << 20);
  EXPECT_FALSE(f.writer.TryEnqueue(big)) << "a fourth megabyte past the 3.5 MiB bound";
  EXPECT_FALSE(f.writer.Enqueue(big, [](const Status&) { ADD_FAILURE() << "refused record called back"; }));
  EXPECT_EQ(f.writer.dropped(), 1u);

  f.state->SetGate(true);  // once written, their memory counts no more
  wharf::testing::WaitUntil([&] { return f.writer.written() >= 3 && f.writer.bytes() == 0; });
  ASSERT_EQ(f.writer.written(), 3u);
  ASSERT_EQ(f.writer.bytes(), 0u);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(f.writer.TryEnqueue(big)) << i;
  f.writer.Close();
  EXPECT_EQ(f.writer.written(), 6u);
  EXPECT_EQ(f.writer.bytes(), 0u) << "written records hold no memory";
}

TEST(CaptureWriterTest, ABacklogIsWrittenInBoundedTransactions) {
  Fixture f;
  f.state->SetGate(false);
  ASSERT_TRUE(f.writer.TryEnqueue(Record(0)));
  ASSERT_TRUE(f.state->WaitForAppends(1));  // the store stalls: a backlog piles up behind record 0
  for (int i = 1; i <= 5000; ++i) ASSERT_TRUE(f.writer.TryEnqueue(Record(i)));
  f.state->SetGate(true);
  f.writer.Close();
  EXPECT_EQ(f.state->batch_sizes, (std::vector<std::size_t>{1, 2048, 2048, 904}));
  ASSERT_EQ(f.state->ids.size(), 5001u);
  for (int i = 0; i <= 5000; ++i) ASSERT_EQ(f.state->ids[i], Record(i).id);
}

// A barrier cuts the transactions; a durable callback runs once its own transaction is written.
TEST(CaptureWriterTest, CallbacksAndBarriersRunAtTheirPointsOfABacklog) {
  Fixture f;
  f.state->SetGate(false);
  ASSERT_TRUE(f.writer.TryEnqueue(Record(0)));
  ASSERT_TRUE(f.state->WaitForAppends(1));
  std::vector<std::pair<std::string, std::size_t>> ran;  // what ran, and how many records were appended then
  const auto appended = [&] { return f.state->ids.size(); };  // Append has returned: no lock needed
  for (int i = 1; i <= 5000; ++i) {
    if (i == 3000 || i == 4500) {
      ASSERT_TRUE(f.writer.Enqueue(Record(i), [&, i](const Status& s) {
        EXPECT_TRUE(s.ok());
        ran.emplace_back("durable " + std::to_string(i), appended());
      }));
    } else {
      ASSERT_TRUE(f.writer.TryEnqueue(Record(i)));
    }
    if (i == 4000) {
      ASSERT_TRUE(f.writer.AfterCommit([&](store::CaptureStore&) { ran.emplace_back("barrier", appended()); }));
    }
  }
  f.state->SetGate(true);
  f.writer.Close();
  EXPECT_EQ(f.state->batch_sizes, (std::vector<std::size_t>{1, 2048, 1952, 1000}));
  EXPECT_EQ(ran, (std::vector<std::pair<std::string, std::size_t>>{
                     {"durable 3000", 4001}, {"barrier", 4001}, {"durable 4500", 5001}}));
  EXPECT_EQ(f.writer.written(), 5001u);
}

TEST(CaptureWriterTest, DurableCallbackRunsAfterAppendReturnedWithItsStatus) {
  Fixture f;
  f.state->SetGate(false);
  std::promise<Status> committed;
  bool saw_record_stored = false;
  ASSERT_TRUE(f.writer.Enqueue(Record(0), [&](const Status& s) {
    std::lock_guard lock(f.state->mu);
    saw_record_stored = !f.state->in_append && f.state->ids == std::vector<std::string>{"r0"};
    committed.set_value(s);
  }));
  auto future = committed.get_future();
  ASSERT_TRUE(f.state->WaitForAppends(1));
  EXPECT_EQ(future.wait_for(50ms), std::future_status::timeout) << "called back before the commit";

  f.state->SetGate(true);
  ASSERT_EQ(future.wait_for(kPatience), std::future_status::ready);
  EXPECT_TRUE(future.get().ok());
  EXPECT_TRUE(saw_record_stored);
  EXPECT_EQ(f.writer.written(), 1u);
}

TEST(CaptureWriterTest, FailedAppendReachesTheCallbackAndIsCounted) {
  Fixture f;
  f.state->result = IoError("disk full");
  std::promise<Status> committed;
  ASSERT_TRUE(f.writer.Enqueue(Record(0), [&](const Status& s) { committed.set_value(s); }));
  auto future = committed.get_future();
  ASSERT_EQ(future.wait_for(kPatience), std::future_status::ready);
  const Status status = future.get();
  EXPECT_EQ(status.code(), StatusCode::kIoError);
  EXPECT_EQ(status.message(), "disk full");
  f.writer.Close();
  EXPECT_EQ(f.writer.failed(), 1u);
  EXPECT_EQ(f.writer.written(), 0u);
}

TEST(CaptureWriterTest, DurableRecordDoesNotWaitForTheGather) {
  Fixture f(1 << 16, /*gather: far longer than the wait below=*/std::chrono::microseconds(1h));
  std::promise<void> committed;
  ASSERT_TRUE(f.writer.Enqueue(Record(0), [&](const Status&) { committed.set_value(); }));
  EXPECT_EQ(committed.get_future().wait_for(kPatience), std::future_status::ready);
}

TEST(CaptureWriterTest, AfterCommitRunsOnceEarlierRecordsAreAppended) {
  Fixture f(/*capacity=*/8, 1ms);
  f.state->SetGate(false);
  ASSERT_TRUE(f.writer.TryEnqueue(Record(0)));
  ASSERT_TRUE(f.state->WaitForAppends(1));
  for (int i = 1; i <= 8; ++i) ASSERT_TRUE(f.writer.TryEnqueue(Record(i)));
  ASSERT_FALSE(f.writer.TryEnqueue(Record(9)));  // full, yet the barrier is accepted

  std::promise<std::size_t> ran;
  ASSERT_TRUE(f.writer.AfterCommit([&](store::CaptureStore& s) {
    ran.set_value(static_cast<FakeStore&>(s).state().appended());
  }));
  f.state->SetGate(true);
  auto future = ran.get_future();
  ASSERT_EQ(future.wait_for(kPatience), std::future_status::ready);
  EXPECT_EQ(future.get(), 9u);
}

TEST(CaptureWriterTest, CloseWritesEverythingQueuedAndRefusesLaterRecords) {
  Fixture f(1 << 16, /*gather=*/std::chrono::microseconds(60s));
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(f.writer.TryEnqueue(Record(i)));
  f.writer.Close();
  EXPECT_EQ(f.state->appended(), 100u);
  EXPECT_EQ(f.writer.written(), 100u);

  EXPECT_FALSE(f.writer.TryEnqueue(Record(100)));
  EXPECT_FALSE(f.writer.Enqueue(Record(101), [](const Status&) { ADD_FAILURE() << "closed writer called back"; }));
  EXPECT_FALSE(f.writer.AfterCommit([](store::CaptureStore&) { ADD_FAILURE() << "closed writer ran work"; }));
  EXPECT_EQ(f.state->appended(), 100u);
  f.writer.Close();  // idempotent
}

TEST(CaptureWriterTest, RecordsArriveInEnqueueOrder) {
  Fixture f(1 << 16, 100us);
  std::vector<std::string> expected;
  for (int i = 0; i < 2000; ++i) {
    if (i % 100 == 7) {
      ASSERT_TRUE(f.writer.Enqueue(Record(i), [](const Status&) {}));
    } else {
      ASSERT_TRUE(f.writer.TryEnqueue(Record(i)));
    }
    expected.push_back(Record(i).id);
  }
  f.writer.Close();
  EXPECT_EQ(f.state->ids, expected);
}

}  // namespace
}  // namespace wharf::serve
