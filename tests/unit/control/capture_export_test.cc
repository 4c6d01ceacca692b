#include "control/capture_export.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "testing/sample_capture.h"
#include <nlohmann/json.hpp>

namespace wharf::control {
namespace {

using testing::SampleCapture;
constexpr std::int64_t kNoon = testing::kNoonUs;

TEST(CaptureCsvTest, HeaderAndLineHaveTheSameColumns) {
  EXPECT_EQ(CaptureCsvHeader(),
            "id,time,time_us,endpoint,variant,model_version,shadow,inputs,outputs,latency_ms,status\n");
  EXPECT_EQ(CaptureCsvLine(SampleCapture()),
            "req-1,2026-11-23T12:00:00.123Z,1795435200123456,wine,main,v3,false,"
            "\"{\"\"text\"\":[\"\"a, \\\"\"b\\\"\"\\nc\"\",\"\"é🍷\"\"]}\",\"{\"\"quality\"\":[6]}\",1.5,200\n");
}

// Found by attacking a fresh build: a client's request id such as
// =HYPERLINK(...) became a live formula in the CSV a user opened.
TEST(CaptureCsvTest, AFieldThatWouldStartAFormulaIsShownAsText) {
  auto capture = SampleCapture();
  for (const std::string id : {"=HYPERLINK(\"http://x\")", "+1+1", "-1+cmd", "@SUM(A1)", "\tx"}) {
    capture.id = id;
    const std::string line = CaptureCsvLine(capture);
    EXPECT_TRUE(line.starts_with("'") || line.starts_with("\"'")) << line;
  }
  for (const std::string number : {"-5", "+3.5", "-1e3"}) {  // numbers are not formulas: kept as they are
    capture.id = number;
    EXPECT_TRUE(CaptureCsvLine(capture).starts_with(number + ",")) << CaptureCsvLine(capture);
  }
}

TEST(CaptureJsonLineTest, EmbedsInputsAndOutputsAsJson) {
  const std::string line = CaptureJsonLine(SampleCapture());
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
  auto r = SampleCapture();
  r.inputs = "not json {";
  EXPECT_EQ(nlohmann::json::parse(CaptureJsonLine(r))["inputs"], "not json {");
}

TEST(CaptureToJsonTest, IsTheJsonLineInTheSameOrder) {
  const auto json = CaptureToJson(SampleCapture());
  EXPECT_EQ(json.dump() + "\n", CaptureJsonLine(SampleCapture()));
  std::vector<std::string> keys;
  for (const auto& [key, value] : json.items()) keys.push_back(key);
  EXPECT_EQ(keys, (std::vector<std::string>{"id", "time", "time_us", "endpoint", "variant", "model_version", "shadow",
                                            "inputs", "outputs", "latency_ms", "status"}));
}

}  // namespace
}  // namespace wharf::control
