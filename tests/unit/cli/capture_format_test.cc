#include "cli/capture_format.h"

#include <gtest/gtest.h>

namespace wharf::cli {
namespace {

constexpr std::int64_t kNoon = 1'795'435'200'000'000;  // 2026-11-23T12:00:00Z

store::CaptureRecord Record() {
  store::CaptureRecord r;
  r.id = "req-1";
  r.time_us = kNoon + 123'456;
  r.endpoint = "wine";
  r.variant = "main";
  r.model_version = "v3";
  r.inputs = R"({"text":["a, \"b\"\nc","é🍷"]})";
  r.outputs = R"({"quality":[6]})";
  r.latency_ms = 1.5;
  r.status = 200;
  return r;
}

TEST(FormatCaptureTableTest, AlignsColumnsUnderAHeader) {
  auto shadow = Record();
  shadow.shadow = true;
  shadow.variant = "candidate";
  shadow.latency_ms = 12.345;
  const std::vector<store::CaptureRecord> records = {Record(), shadow};
  EXPECT_EQ(FormatCaptureTable(records),
            "TIME                      ID     VARIANT    VERSION  SHADOW  STATUS  LATENCY_MS\n"
            "2026-11-23T12:00:00.123Z  req-1  main       v3       no         200       1.500\n"
            "2026-11-23T12:00:00.123Z  req-1  candidate  v3       yes        200      12.345\n");
}

TEST(FormatCaptureDetailTest, ShowsEveryFieldAndPrettyJson) {
  auto r = Record();
  r.shadow = true;
  const std::string detail = FormatCaptureDetail(r);
  for (const char* expected : {"req-1", "2026-11-23T12:00:00.123Z", "1795435200123456", "wine", "main", "v3",
                               "shadow:        yes", "200", "1.5 ms", "\"quality\": [\n    6\n  ]", "é🍷"}) {
    EXPECT_NE(detail.find(expected), std::string::npos) << expected << "\n" << detail;
  }
}

}  // namespace
}  // namespace wharf::cli
