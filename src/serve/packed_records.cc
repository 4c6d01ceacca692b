#include "serve/packed_records.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>

namespace wharf::serve {
namespace {

// A record's fixed-size part; its six strings follow it, in this order.
struct Header {
  std::int64_t time_us;
  double latency_ms;
  std::int32_t status;
  bool shadow;
  std::array<std::size_t, 6> lengths;
};

std::array<const std::string*, 6> Strings(const store::CaptureRecord& r) {
  return {&r.id, &r.endpoint, &r.variant, &r.model_version, &r.inputs, &r.outputs};
}

std::array<std::string*, 6> Strings(store::CaptureRecord& r) {
  return {&r.id, &r.endpoint, &r.variant, &r.model_version, &r.inputs, &r.outputs};
}

std::size_t PackedBytes(const store::CaptureRecord& record) {
  std::size_t bytes = sizeof(Header);
  for (const std::string* s : Strings(record)) bytes += s->size();
  return bytes;
}

std::size_t RoundUpToPages(std::size_t bytes) {
  static const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  return (bytes + page - 1) / page * page;
}

}  // namespace

std::size_t PackedRecords::NextBlockBytes(std::size_t packed) const {
  const std::size_t doubled = blocks_.empty() ? kFirstBlockBytes : std::min(blocks_.back().size * 2, kMaxBlockBytes);
  return RoundUpToPages(std::max(doubled, packed));
}

std::size_t PackedRecords::GrowthFor(const store::CaptureRecord& record) const {
  const std::size_t packed = PackedBytes(record);
  if (!blocks_.empty() && blocks_.back().size - blocks_.back().used >= packed) return 0;
  return NextBlockBytes(packed);
}

bool PackedRecords::Push(const store::CaptureRecord& record) {
  const std::size_t packed = PackedBytes(record);
  if (blocks_.empty() || blocks_.back().size - blocks_.back().used < packed) {
    const std::size_t size = NextBlockBytes(packed);
    void* data = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (data == MAP_FAILED) return false;
    blocks_.push_back({static_cast<std::byte*>(data), size, 0});
    bytes_ += size;
  }
  Block& block = blocks_.back();
  std::byte* out = block.data + block.used;
  Header header{record.time_us, record.latency_ms, record.status, record.shadow, {}};
  const auto strings = Strings(record);
  for (std::size_t i = 0; i < strings.size(); ++i) header.lengths[i] = strings[i]->size();
  std::memcpy(out, &header, sizeof header);
  out += sizeof header;
  for (const std::string* s : strings) {
    std::memcpy(out, s->data(), s->size());
    out += s->size();
  }
  block.used += packed;
  ++size_;
  return true;
}

void PackedRecords::Clear() {
  for (const Block& block : blocks_) munmap(block.data, block.size);
  blocks_.clear();
  size_ = 0;
  bytes_ = 0;
}

void PackedRecords::swap(PackedRecords& other) noexcept {
  blocks_.swap(other.blocks_);
  std::swap(size_, other.size_);
  std::swap(bytes_, other.bytes_);
}

bool PackedRecords::Reader::Next(store::CaptureRecord& out) {
  while (block_ < records_.blocks_.size() && offset_ == records_.blocks_[block_].used) {
    ++block_;
    offset_ = 0;
  }
  if (block_ == records_.blocks_.size()) return false;
  const std::byte* in = records_.blocks_[block_].data + offset_;
  Header header;
  std::memcpy(&header, in, sizeof header);
  in += sizeof header;
  out.time_us = header.time_us;
  out.latency_ms = header.latency_ms;
  out.status = header.status;
  out.shadow = header.shadow;
  const auto strings = Strings(out);
  for (std::size_t i = 0; i < strings.size(); ++i) {
    strings[i]->assign(reinterpret_cast<const char*>(in), header.lengths[i]);
    in += header.lengths[i];
  }
  offset_ = static_cast<std::size_t>(in - records_.blocks_[block_].data);
  return true;
}

}  // namespace wharf::serve
