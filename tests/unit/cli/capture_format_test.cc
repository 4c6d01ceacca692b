#include "cli/capture_format.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

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

TEST(ParseSinceTest, AcceptsIsoUtcForms) {
  const struct {
    const char* text;
    std::int64_t us;
  } cases[] = {
      {"2026-11-23T12:00:00Z", kNoon},
      {"2026-11-23T12:00:00", kNoon},
      {"2026-11-23 12:00:00", kNoon},
      {"2026-11-23T12:00Z", kNoon},
      {"2026-11-23T12:00:00.25Z", kNoon + 250'000},
      {"2026-11-23T12:00:00.123456789Z", kNoon + 123'456},
      {"2026-11-23", kNoon - 12 * 3600LL * 1'000'000},
      {"1970-01-01", 0},
      {"2024-02-29T23:59:59Z", 1'709'251'199'000'000},
  };
  for (const auto& c : cases) {
    auto us = ParseSince(c.text, 0);
    ASSERT_TRUE(us.ok()) << c.text << ": " << us.status().ToString();
    EXPECT_EQ(*us, c.us) << c.text;
  }
}

TEST(ParseSinceTest, AcceptsAgesBeforeNow) {
  const std::int64_t s = 1'000'000;
  EXPECT_EQ(*ParseSince("30s", kNoon), kNoon - 30 * s);
  EXPECT_EQ(*ParseSince("15m", kNoon), kNoon - 15 * 60 * s);
  EXPECT_EQ(*ParseSince("2h", kNoon), kNoon - 2 * 3600 * s);
  EXPECT_EQ(*ParseSince("7d", kNoon), kNoon - 7 * 86400 * s);
  EXPECT_EQ(*ParseSince("0s", kNoon), kNoon);
}

TEST(ParseSinceTest, RejectsOtherTextNamingTheFlagAndForms) {
  for (const char* bad : {"", "yesterday", "2026-13-01", "2026-02-30", "2026-11-23T24:00:00Z", "2026-11-23T12",
                          "2026-11-23T12:00:00+02:00", "26-11-23", "15", "m", "-5m", "1.5h", "2w", "99999999999999999d",
                          "2026-11-23T12:00:00.Z"}) {
    auto us = ParseSince(bad, kNoon);
    ASSERT_FALSE(us.ok()) << bad;
    EXPECT_EQ(us.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(us.status().message().find("--since"), std::string::npos);
    EXPECT_NE(us.status().message().find(std::string("'") + bad + "'"), std::string::npos);
    EXPECT_NE(us.status().message().find("7d"), std::string::npos);
  }
}

TEST(FormatTimeUtcTest, IsIsoWithMilliseconds) {
  EXPECT_EQ(FormatTimeUtc(kNoon + 123'456), "2026-11-23T12:00:00.123Z");
  EXPECT_EQ(FormatTimeUtc(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatTimeUtc(-1), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(*ParseSince(FormatTimeUtc(kNoon + 5'000), 0), kNoon + 5'000);
}

TEST(CsvFieldTest, QuotesOnlyWhatRfc4180Requires) {
  EXPECT_EQ(CsvField("plain"), "plain");
  EXPECT_EQ(CsvField(""), "");
  EXPECT_EQ(CsvField("a,b"), "\"a,b\"");
  EXPECT_EQ(CsvField("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(CsvField("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(CsvField("cr\r"), "\"cr\r\"");
}

TEST(CaptureCsvTest, HeaderAndLineHaveTheSameColumns) {
  EXPECT_EQ(CaptureCsvHeader(),
            "id,time,time_us,endpoint,variant,model_version,shadow,inputs,outputs,latency_ms,status\n");
  EXPECT_EQ(CaptureCsvLine(Record()),
            "req-1,2026-11-23T12:00:00.123Z,1795435200123456,wine,main,v3,false,"
            "\"{\"\"text\"\":[\"\"a, \\\"\"b\\\"\"\\nc\"\",\"\"é🍷\"\"]}\",\"{\"\"quality\"\":[6]}\",1.5,200\n");
}

TEST(CaptureJsonLineTest, EmbedsInputsAndOutputsAsJson) {
  const std::string line = CaptureJsonLine(Record());
  ASSERT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1);
  const auto json = nlohmann::json::parse(line);
  EXPECT_EQ(json["id"], "req-1");
  EXPECT_EQ(json["time"], "2026-11-23T12:00:00.123Z");
  EXPECT_EQ(json["time_us"], kNoon + 123'456);
  EXPECT_EQ(json["shadow"], false);
  EXPECT_EQ(json["inputs"]["text"][0], "a, \"b\"\nc");
  EXPECT_EQ(json["inputs"]["text"][1], "é🍷");
  EXPECT_EQ(json["outputs"]["quality"][0], 6);
  EXPECT_EQ(json["latency_ms"], 1.5);
  EXPECT_EQ(json["status"], 200);
}

TEST(CaptureJsonLineTest, KeepsTextThatIsNotJsonAsAString) {
  auto r = Record();
  r.inputs = "not json {";
  EXPECT_EQ(nlohmann::json::parse(CaptureJsonLine(r))["inputs"], "not json {");
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
