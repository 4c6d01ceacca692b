#include "serve/packed_records.h"

#include <array>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace wharf::serve {
namespace {

store::CaptureRecord Record(int i, std::size_t inputs_bytes = 100) {
  store::CaptureRecord r;
  r.id = "req-";
  r.id += std::to_string(i);
  r.time_us = 1'700'000'000'000'000 + i;
  r.endpoint = "wine";
  r.variant = i % 2 == 0 ? "blue" : "green";
  r.model_version = std::array{"v1", "v2", "v3"}[i % 3];
  r.shadow = i % 5 == 0;
  r.inputs.assign(inputs_bytes, static_cast<char>('a' + i % 26));
  r.outputs = "{\"quality\":";
  r.outputs += std::to_string(i % 6 + 3);
  r.outputs += "}";
  r.latency_ms = 0.25 * i;
  r.status = i % 7 == 0 ? 400 : 200;
  return r;
}

void ExpectSame(const store::CaptureRecord& got, const store::CaptureRecord& want) {
  EXPECT_EQ(got.id, want.id);
  EXPECT_EQ(got.time_us, want.time_us);
  EXPECT_EQ(got.endpoint, want.endpoint);
  EXPECT_EQ(got.variant, want.variant);
  EXPECT_EQ(got.model_version, want.model_version);
  EXPECT_EQ(got.shadow, want.shadow);
  EXPECT_EQ(got.inputs, want.inputs);
  EXPECT_EQ(got.outputs, want.outputs);
  EXPECT_EQ(got.latency_ms, want.latency_ms);
  EXPECT_EQ(got.status, want.status);
}

TEST(PackedRecordsTest, ReadsBackEveryRecordInOrderAcrossBlocks) {
  PackedRecords packed;
  std::vector<store::CaptureRecord> pushed;
  for (int i = 0; i < 3000; ++i) {
    // Mostly small records, an empty one, and two larger than any block.
    pushed.push_back(i == 17 ? store::CaptureRecord{} : Record(i, i % 1000 == 999 ? (3 << 20) / 2 : 1000));
    ASSERT_TRUE(packed.Push(pushed.back()));
  }
  EXPECT_EQ(packed.size(), 3000u);
  EXPECT_GT(packed.bytes(), 6u << 20);

  PackedRecords::Reader reader(packed);
  store::CaptureRecord out;
  for (const auto& want : pushed) {
    ASSERT_TRUE(reader.Next(out));
    ExpectSame(out, want);
  }
  EXPECT_FALSE(reader.Next(out));
}

TEST(PackedRecordsTest, BytesGrowByWhatGrowthForSaid) {
  PackedRecords packed;
  EXPECT_EQ(packed.bytes(), 0u);
  for (int i = 0; i < 5000; ++i) {
    const store::CaptureRecord r = Record(i, i == 4000 ? 2 << 20 : 500);
    const std::size_t before = packed.bytes(), growth = packed.GrowthFor(r);
    ASSERT_TRUE(packed.Push(r));
    ASSERT_EQ(packed.bytes(), before + growth) << i;
  }
  // Blocks double from 64 KiB to 1 MiB; the 2 MiB record has one of its own.
  EXPECT_LE(packed.bytes(), 5000u * 1000 + (2u << 20) + (1u << 20));
}

TEST(PackedRecordsTest, ClearGivesEveryBlockBack) {
  PackedRecords packed;
  for (int i = 0; i < 2000; ++i) ASSERT_TRUE(packed.Push(Record(i)));
  packed.Clear();
  EXPECT_EQ(packed.size(), 0u);
  EXPECT_EQ(packed.bytes(), 0u);
  PackedRecords::Reader reader(packed);
  store::CaptureRecord out;
  EXPECT_FALSE(reader.Next(out));
  ASSERT_TRUE(packed.Push(Record(7)));  // usable again
  EXPECT_EQ(packed.bytes(), PackedRecords::kFirstBlockBytes);
}

TEST(PackedRecordsTest, SwapExchangesRecordsAndBytes) {
  PackedRecords a, b;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(a.Push(Record(i)));
  a.swap(b);
  EXPECT_TRUE(a.empty());
  EXPECT_EQ(a.bytes(), 0u);
  EXPECT_EQ(b.size(), 3u);
  PackedRecords::Reader reader(b);
  store::CaptureRecord out;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(reader.Next(out));
    ExpectSame(out, Record(i));
  }
}

}  // namespace
}  // namespace wharf::serve
