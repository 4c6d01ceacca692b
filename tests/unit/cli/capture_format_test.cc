#include "cli/capture_format.h"

#include <gtest/gtest.h>

#include "testing/sample_capture.h"

namespace wharf::cli {
namespace {

using testing::SampleCapture;

TEST(FormatCaptureTableTest, AlignsColumnsUnderAHeader) {
  auto shadow = SampleCapture();
  shadow.shadow = true;
  shadow.variant = "candidate";
  shadow.latency_ms = 12.345;
  const std::vector<store::CaptureRecord> records = {SampleCapture(), shadow};
  EXPECT_EQ(FormatCaptureTable(records),
            "TIME                      ID     VARIANT    VERSION  SHADOW  STATUS  LATENCY_MS\n"
            "2026-11-23T12:00:00.123Z  req-1  main       v3       no         200       1.500\n"
            "2026-11-23T12:00:00.123Z  req-1  candidate  v3       yes        200      12.345\n");
}

TEST(FormatCaptureDetailTest, ShowsEveryFieldAndPrettyJson) {
  auto r = SampleCapture();
  r.shadow = true;
  const std::string detail = FormatCaptureDetail(r);
  for (const char* expected : {"req-1", "2026-11-23T12:00:00.123Z", "1795435200123456", "wine", "main", "v3",
                               "shadow:        yes", "200", "1.5 ms", "\"quality\": [\n    6\n  ]", "é🍷"}) {
    EXPECT_NE(detail.find(expected), std::string::npos) << expected << "\n" << detail;
  }
}

}  // namespace
}  // namespace wharf::cli
