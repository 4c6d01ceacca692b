#pragma once
// Captured records packed back to back, in the order pushed, into blocks
// mapped from the system for them alone. What a PackedRecords holds is its
// blocks, counted exactly by bytes(), and Clear() unmaps them: a backlog of
// captures, however many small strings it was made of, leaves nothing behind
// in the allocator (where freed strings would stay resident, fragmented across
// the threads' arenas, long after the backlog is written).
//
// Not thread-safe: CaptureWriter guards it.

#include <cstddef>
#include <vector>

#include "store/capture_store.h"

namespace wharf::serve {

class PackedRecords {
 public:
  PackedRecords() = default;
  PackedRecords(const PackedRecords&) = delete;
  PackedRecords& operator=(const PackedRecords&) = delete;
  ~PackedRecords() { Clear(); }

  // How much bytes() grows by if `record` is pushed now: 0 when it fits the
  // current block, else the block it would take.
  std::size_t GrowthFor(const store::CaptureRecord& record) const;
  // Copies `record` in; false (nothing changed) when no memory can be mapped.
  bool Push(const store::CaptureRecord& record);

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  std::size_t bytes() const { return bytes_; }

  // Unmaps every block.
  void Clear();
  void swap(PackedRecords& other) noexcept;

  // Reads the records back in order into caller-owned records, reusing their
  // strings' capacity. Invalidated by Push, Clear and swap.
  class Reader {
   public:
    explicit Reader(const PackedRecords& records) : records_(records) {}
    // False once every record has been read.
    bool Next(store::CaptureRecord& out);

   private:
    const PackedRecords& records_;
    std::size_t block_ = 0;
    std::size_t offset_ = 0;
  };

  // The first block of a batch; each next one doubles, up to kMaxBlockBytes.
  // A record larger than that takes a block of its own.
  static constexpr std::size_t kFirstBlockBytes = 64 << 10;
  static constexpr std::size_t kMaxBlockBytes = 1 << 20;

 private:
  struct Block {
    std::byte* data;
    std::size_t size;  // mapped
    std::size_t used;  // packed records, from the start
  };
  std::size_t NextBlockBytes(std::size_t packed) const;

  std::vector<Block> blocks_;
  std::size_t size_ = 0;   // records
  std::size_t bytes_ = 0;  // Σ blocks_[i].size
};

}  // namespace wharf::serve
