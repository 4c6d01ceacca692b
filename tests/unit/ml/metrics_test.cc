#include "ml/metrics.h"

#include <gtest/gtest.h>

namespace wharf::ml {
namespace {

// truth 0,0,0,1,2,2 / predicted 0,0,1,1,2,2, worked by hand:
//   class a: support 3, tp 2, predicted 2 -> P 1,   R 2/3, F1 0.8
//   class b: support 1, tp 1, predicted 2 -> P 1/2, R 1,   F1 2/3
//   class c: support 2, tp 2, predicted 2 -> P 1,   R 1,   F1 1
//   class d: never true, never predicted -> left out of the macro average
TEST(MetricsTest, MatchesHandComputedValues) {
  const Metrics m = ComputeMetrics({0, 0, 0, 1, 2, 2}, {0, 0, 1, 1, 2, 2}, {"a", "b", "c", "d"});
  EXPECT_EQ(m.rows, 6u);
  EXPECT_NEAR(m.accuracy, 5.0 / 6, 1e-12);
  EXPECT_NEAR(m.weighted_f1, (0.8 * 3 + 2.0 / 3 * 1 + 1.0 * 2) / 6, 1e-12);
  EXPECT_NEAR(m.macro_f1, (0.8 + 2.0 / 3 + 1.0) / 3, 1e-12);
  EXPECT_NEAR(m.classes[0].precision, 1.0, 1e-12);
  EXPECT_NEAR(m.classes[0].recall, 2.0 / 3, 1e-12);
  EXPECT_NEAR(m.classes[1].precision, 0.5, 1e-12);
  EXPECT_EQ(m.classes[2].support, 2u);
  EXPECT_EQ(m.classes[3].f1, 0.0);
  EXPECT_EQ(m.confusion[0][1], 1u);
  EXPECT_EQ(m.confusion[0][0], 2u);
}

TEST(MetricsTest, PrecisionOfANeverPredictedClassIsZero) {
  const Metrics m = ComputeMetrics({0, 1}, {0, 0}, {"x", "y"});
  EXPECT_EQ(m.classes[1].precision, 0.0);
  EXPECT_EQ(m.classes[1].f1, 0.0);
  EXPECT_NEAR(m.accuracy, 0.5, 1e-12);
}

TEST(MetricsTest, StreamingMatrixEqualsOneShot) {
  ConfusionMatrix streamed(3);
  const std::vector<int> truth{0, 1, 2, 2, 1}, predicted{0, 2, 2, 1, 1};
  for (std::size_t i = 0; i < truth.size(); ++i) streamed.Add(truth[i], predicted[i]);
  EXPECT_EQ(ToJson(streamed.Compute({"a", "b", "c"})), ToJson(ComputeMetrics(truth, predicted, {"a", "b", "c"})));
}

TEST(MetricsTest, ReportListsEveryClassAndTheMatrix) {
  const std::string report = FormatClassReport(ComputeMetrics({0, 1}, {0, 1}, {"3", "8"}));
  EXPECT_NE(report.find("precision"), std::string::npos);
  EXPECT_NE(report.find("Confusion matrix"), std::string::npos);
  EXPECT_NE(report.find("8"), std::string::npos);
}

}  // namespace
}  // namespace wharf::ml
