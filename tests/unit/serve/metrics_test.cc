#include "serve/metrics.h"

#include <regex>
#include <sstream>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "testing/wait.h"

namespace wharf::serve {
namespace {

using ::testing::HasSubstr;

// The value on the line that starts with `prefix` (-1 if none).
double ValueOf(const std::string& text, const std::string& prefix) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(prefix + " ", 0) == 0) return std::stod(line.substr(prefix.size() + 1));
  }
  return -1;
}

TEST(LatencyHistogramTest, BucketsAreCumulativeAndInfEqualsTheCount) {
  LatencyHistogram h;
  for (double seconds : {0.00005, 0.0001, 0.0003, 0.002, 0.002, 0.7, 3.0, 10.0}) h.Observe(seconds);
  std::string out;
  h.Render("wharf_request_duration_seconds", R"(endpoint="iris")", out);

  const std::string b = R"(wharf_request_duration_seconds_bucket{endpoint="iris",le=)";
  EXPECT_EQ(ValueOf(out, b + R"("0.0001"})"), 2);  // upper bounds are inclusive
  EXPECT_EQ(ValueOf(out, b + R"("0.00025"})"), 2);
  EXPECT_EQ(ValueOf(out, b + R"("0.0005"})"), 3);
  EXPECT_EQ(ValueOf(out, b + R"("0.0025"})"), 5);
  EXPECT_EQ(ValueOf(out, b + R"("0.5"})"), 5);
  EXPECT_EQ(ValueOf(out, b + R"("1"})"), 6);
  EXPECT_EQ(ValueOf(out, b + R"("2.5"})"), 6);
  EXPECT_EQ(ValueOf(out, b + R"("+Inf"})"), 8);
  EXPECT_EQ(ValueOf(out, R"(wharf_request_duration_seconds_count{endpoint="iris"})"), 8);
  EXPECT_NEAR(ValueOf(out, R"(wharf_request_duration_seconds_sum{endpoint="iris"})"), 13.70445, 1e-6);
}

TEST(LatencyHistogramTest, RendersEveryBucketInIncreasingOrder) {
  LatencyHistogram h;
  for (int i = 0; i < 100; ++i) h.Observe(i * 0.03);
  std::string out;
  h.Render("lat", R"(v="a")", out);
  const std::regex bucket(R"re(^lat_bucket\{v="a",le="([^"]+)"\} (\d+)$)re");
  std::vector<double> counts;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    std::smatch m;
    if (std::regex_match(line, m, bucket)) counts.push_back(std::stod(m[2]));
  }
  ASSERT_EQ(counts.size(), LatencyHistogram::kBounds.size() + 1);
  for (std::size_t i = 1; i < counts.size(); ++i) EXPECT_LE(counts[i - 1], counts[i]);
  EXPECT_EQ(counts.back(), 100);
  EXPECT_EQ(ValueOf(out, R"(lat_count{v="a"})"), 100);
}

TEST(LatencyHistogramTest, EmptyHistogramRendersZeros) {
  LatencyHistogram h;
  std::string out = "# existing\n";
  h.Render("lat", R"(v="a")", out);
  EXPECT_EQ(out.rfind("# existing\n", 0), 0u);  // appends
  EXPECT_EQ(ValueOf(out, R"(lat_bucket{v="a",le="+Inf"})"), 0);
  EXPECT_EQ(ValueOf(out, R"(lat_sum{v="a"})"), 0);
  EXPECT_EQ(ValueOf(out, R"(lat_count{v="a"})"), 0);
}

TEST(RequestMetricsTest, CountsRequestsAndErrors) {
  RequestMetrics m;
  m.Record(false);
  m.Record(true);
  m.Record(false);
  const RequestMetrics::Counts counts = m.Read();
  EXPECT_EQ(counts.requests, 3u);
  EXPECT_EQ(counts.errors, 1u);
}

TEST(RequestMetricsTest, AReaderOfAVariantThatAlwaysFailsSeesAnErrorForEveryRequest) {
  // The canary guard divides errors by requests while requests are answered:
  // a failing variant must read exactly 1, never a request without its error.
  RequestMetrics m;
  std::atomic<bool> stop{false};
  std::vector<std::thread> writers;
  for (int t = 0; t < 2; ++t) {
    writers.emplace_back([&] {
      while (!stop.load(std::memory_order_relaxed)) m.Record(true);
    });
  }
  EXPECT_TRUE(wharf::testing::WaitUntil([&] { return m.Read().requests >= 1000; }))
      << m.Read().requests << " requests recorded";
  int mismatches = 0;
  for (int i = 0; i < 200000; ++i) {
    const RequestMetrics::Counts counts = m.Read();
    mismatches += counts.errors != counts.requests;
  }
  stop = true;
  for (auto& w : writers) w.join();
  EXPECT_EQ(mismatches, 0);
  EXPECT_GT(m.Read().requests, 0u);
}

TEST(LabelValueTest, EscapesBackslashQuoteAndNewline) {
  struct Case {
    const char* value;
    const char* escaped;
  };
  const Case cases[] = {
      {"wine", "wine"},
      {R"(say "hi")", R"(say \"hi\")"},
      {R"(C:\dir)", R"(C:\\dir)"},
      {"two\nlines", R"(two\nlines)"},
      {R"(\")", R"(\\\")"},
      {"", ""},
  };
  for (const auto& c : cases) EXPECT_EQ(LabelValue(c.value), c.escaped) << c.value;
}

}  // namespace
}  // namespace wharf::serve
