#include "monitor/drift.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace wharf::monitor {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// 100 training values spread evenly over [0, 10]: 10 per bin, quantile p at
// 10p, so TrainingCdf(x) = x / 10.
data::FeatureSummary Uniform0To10() {
  data::FeatureSummary s;
  s.name = "x";
  s.count = 100;
  s.mean = 5;
  s.min = 0;
  s.max = 10;
  for (double p : data::kSummaryQuantiles) s.quantiles.push_back(10 * p);
  for (int e = 0; e <= 10; ++e) s.histogram_edges.push_back(e);
  s.histogram_counts.assign(10, 10);
  return s;
}

// `per_bin[b]` values at the centre of Uniform0To10's bin b.
std::vector<double> InBins(const std::vector<int>& per_bin) {
  std::vector<double> v;
  for (std::size_t b = 0; b < per_bin.size(); ++b) v.insert(v.end(), per_bin[b], b + 0.5);
  return v;
}

data::FeatureSummary SummaryOf(const std::vector<float>& values) {
  data::Dataset d;
  d.features = {"x"};
  d.rows = values.size();
  d.x = values;
  return data::Summarize(d, 0);
}

std::vector<float> NormalSample(std::size_t n, double mean, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(static_cast<float>(mean), 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = normal(rng);
  return v;
}

TEST(PopulationStabilityIndexTest, IsZeroForTheTrainingDataItself) {
  const auto values = NormalSample(2000, 0, 1);
  const auto summary = SummaryOf(values);
  EXPECT_NEAR(PopulationStabilityIndex(summary, std::vector<double>(values.begin(), values.end())), 0.0, 1e-12);
}

TEST(PopulationStabilityIndexTest, MatchesAHandComputedShift) {
  // Live shares 0.05 in bins 0-4 and 0.15 in bins 5-9 against 0.1 each.
  const double expected = 5 * (0.05 - 0.1) * std::log(0.05 / 0.1) + 5 * (0.15 - 0.1) * std::log(0.15 / 0.1);
  const double psi = PopulationStabilityIndex(Uniform0To10(), InBins({5, 5, 5, 5, 5, 15, 15, 15, 15, 15}));
  EXPECT_NEAR(psi, expected, 1e-12);
  EXPECT_NEAR(psi, 0.2747, 1e-4);
  EXPECT_GE(psi, DriftThresholds{}.psi);
}

TEST(PopulationStabilityIndexTest, CountsEmptyBinsAsTheEmptyShare) {
  // Everything in bins 5-9: bins 0-4 are empty live, so they count as 1e-4.
  const double expected = 5 * (0.2 - 0.1) * std::log(2.0) + 5 * (kPsiEmptyShare - 0.1) * std::log(kPsiEmptyShare / 0.1);
  EXPECT_NEAR(PopulationStabilityIndex(Uniform0To10(), InBins({0, 0, 0, 0, 0, 20, 20, 20, 20, 20})), expected, 1e-12);
}

TEST(PopulationStabilityIndexTest, ValuesOutsideTheTrainingRangeFallInTailBins) {
  auto live = InBins({8, 8, 8, 8, 8, 8, 8, 8, 8, 8});
  live.insert(live.end(), 10, -1.0);  // below min
  live.insert(live.end(), 10, 11.0);  // above max
  const double tail = (0.1 - kPsiEmptyShare) * std::log(0.1 / kPsiEmptyShare);
  const double expected = 10 * (0.08 - 0.1) * std::log(0.08 / 0.1) + 2 * tail;
  EXPECT_NEAR(PopulationStabilityIndex(Uniform0To10(), live), expected, 1e-12);
}

TEST(PopulationStabilityIndexTest, MaxBelongsToTheLastBinAndJustAboveItToTheTail) {
  const auto training = Uniform0To10();
  const std::vector<double> at_max(50, 10.0), in_last_bin(50, 9.5), above_max(50, 10.001);
  EXPECT_DOUBLE_EQ(PopulationStabilityIndex(training, at_max), PopulationStabilityIndex(training, in_last_bin));
  EXPECT_GT(PopulationStabilityIndex(training, above_max), PopulationStabilityIndex(training, at_max));
}

TEST(PopulationStabilityIndexTest, AConstantColumnMatchesItself) {
  const auto training = SummaryOf({7, 7, 7, 7});
  EXPECT_NEAR(PopulationStabilityIndex(training, std::vector<double>(40, 7.0)), 0.0, 1e-12);
  EXPECT_GT(PopulationStabilityIndex(training, std::vector<double>(40, 8.0)), 1.0);
}

TEST(TrainingCdfTest, IsLinearThroughTheQuantilesAndFlatOutsideTheRange) {
  const auto training = Uniform0To10();
  EXPECT_EQ(TrainingCdf(training, -1), 0.0);
  EXPECT_EQ(TrainingCdf(training, 0), 0.0);
  EXPECT_NEAR(TrainingCdf(training, 0.3), 0.03, 1e-12);
  EXPECT_NEAR(TrainingCdf(training, 6.25), 0.625, 1e-12);
  EXPECT_EQ(TrainingCdf(training, 10), 1.0);
  EXPECT_EQ(TrainingCdf(training, 12), 1.0);
}

// Most training values are 5: the quantiles from 1% to 99% are all 5.
data::FeatureSummary MostlyFive() {
  auto s = Uniform0To10();
  s.quantiles.assign(std::size(data::kSummaryQuantiles), 5.0);
  return s;
}

TEST(TrainingCdfTest, TiedQuantilesMakeAStep) {
  const auto training = MostlyFive();
  EXPECT_NEAR(TrainingCdf(training, 4.999999), 0.01, 1e-6);
  EXPECT_EQ(TrainingCdf(training, 5), 0.99);
}

TEST(KolmogorovSmirnovTest, MatchesAHandComputedStatisticAndPValue) {
  // Live {6, 7, 8, 9}: just below 6 the live CDF is 0 and the training CDF 0.6.
  const KsResult ks = KolmogorovSmirnov(Uniform0To10(), std::vector<double>{6, 7, 8, 9});
  EXPECT_NEAR(ks.d, 0.6, 1e-12);
  const double lambda = 0.6 * std::sqrt(100.0 * 4 / 104);
  const double q = 2 * (std::exp(-2 * lambda * lambda) - std::exp(-8 * lambda * lambda) +
                        std::exp(-18 * lambda * lambda));
  EXPECT_NEAR(ks.p_value, q, 1e-9);
  EXPECT_NEAR(ks.p_value, 0.1254, 1e-4);
}

TEST(KolmogorovSmirnovTest, MeasuresBothSidesOfATrainingStep) {
  // Live all 5: both CDFs step at 5, from 0 to 1 (live) and 0.01 to 0.99 (training).
  EXPECT_NEAR(KolmogorovSmirnov(MostlyFive(), std::vector<double>(50, 5.0)).d, 0.01, 1e-12);
}

TEST(KolmogorovSmirnovTest, StaysBelowTheThresholdForAFreshSampleOfTheTrainingDistribution) {
  // Seven quantiles draw a normal CDF only roughly (between the 5% and 25%
  // quantiles the line is up to 0.03 off), so D has a floor; 0.1 is above it.
  const auto training = SummaryOf(NormalSample(5000, 0, 1));
  auto live = NormalSample(1000, 0, 2);
  std::vector<double> sorted(live.begin(), live.end());
  std::sort(sorted.begin(), sorted.end());
  EXPECT_LT(KolmogorovSmirnov(training, sorted).d, 0.07);
}

TEST(KolmogorovSurvivalTest, MatchesKnownValues) {
  EXPECT_EQ(KolmogorovSurvival(0), 1.0);
  EXPECT_NEAR(KolmogorovSurvival(0.5), 0.9639452436648751, 1e-12);
  EXPECT_NEAR(KolmogorovSurvival(1.0), 0.26999967167735456, 1e-12);
  EXPECT_NEAR(KolmogorovSurvival(1.36), 0.0494, 1e-4);  // the textbook 5% critical value
  EXPECT_NEAR(KolmogorovSurvival(1.1799999), KolmogorovSurvival(1.18), 1e-6);  // the two series agree
  EXPECT_LT(KolmogorovSurvival(4), 1e-13);
}

TEST(MeasureDriftTest, AFreshSampleOfTheTrainingDistributionIsOk) {
  const auto training = SummaryOf(NormalSample(5000, 0, 1));
  const auto live = NormalSample(1000, 0, 3);
  const FeatureDrift drift = MeasureDrift(training, std::vector<double>(live.begin(), live.end()));
  EXPECT_EQ(drift.verdict, DriftVerdict::kOk);
  EXPECT_THAT(drift.reasons, IsEmpty());
  EXPECT_LT(*drift.psi, 0.05);
  EXPECT_EQ(drift.live_rows, 1000u);
  EXPECT_NEAR(*drift.live_mean, 0.0, 0.1);
}

TEST(MeasureDriftTest, FlagsAShiftByPsiAndKs) {
  const auto training = SummaryOf(NormalSample(5000, 0, 1));
  const auto live = NormalSample(200, 1, 4);  // one standard deviation up
  const FeatureDrift drift = MeasureDrift(training, std::vector<double>(live.begin(), live.end()));
  EXPECT_EQ(drift.verdict, DriftVerdict::kDrifted);
  EXPECT_THAT(drift.reasons, ElementsAre(DriftReason::kPsi, DriftReason::kKs));
  EXPECT_GT(drift.ks->d, 0.3);
  EXPECT_LT(drift.ks->p_value, 1e-6);
  EXPECT_NEAR(*drift.live_mean, 1.0, 0.2);
}

TEST(MeasureDriftTest, ThresholdsDecide) {
  const auto training = SummaryOf(NormalSample(5000, 0, 1));
  const auto sample = NormalSample(200, 1, 4);
  const std::vector<double> live(sample.begin(), sample.end());
  EXPECT_EQ(MeasureDrift(training, live, {.psi = 100, .ks_d = 1}).verdict, DriftVerdict::kOk);
  EXPECT_THAT(MeasureDrift(training, live, {.psi = 100}).reasons, ElementsAre(DriftReason::kKs));
  EXPECT_THAT(MeasureDrift(training, live, {.ks_d = 1}).reasons, ElementsAre(DriftReason::kPsi));
}

TEST(MeasureDriftTest, KsNeedsASmallPValueAsWellAsALargeD) {
  // 30 rows, none below 2: D = 0.25 (just below 2.5, live 0 and training
  // 0.25), but on 30 rows against 100 that is p = Q(0.25 * sqrt(3000 / 130)) = 0.11.
  const std::vector<double> live = InBins({0, 0, 3, 3, 3, 3, 3, 3, 6, 6});
  const FeatureDrift drift = MeasureDrift(Uniform0To10(), live, {.psi = 100});
  EXPECT_NEAR(drift.ks->d, 0.25, 1e-12);
  EXPECT_NEAR(drift.ks->p_value, 0.1117, 1e-4);
  EXPECT_EQ(drift.verdict, DriftVerdict::kOk);
  EXPECT_THAT(MeasureDrift(Uniform0To10(), live, {.psi = 100, .ks_p_value = 0.2}).reasons,
              ElementsAre(DriftReason::kKs));
}

TEST(MeasureDriftTest, ComparesMissingRates) {
  auto training = Uniform0To10();
  training.count = 90;
  training.missing = 10;  // 10% missing
  auto live_with = [](int missing) {
    std::vector<double> v(100 - missing, 5.0);
    v.insert(v.end(), missing, kNaN);
    return v;
  };
  const auto flags = [&](int missing) {
    const FeatureDrift d = MeasureDrift(training, live_with(missing), {.psi = 100, .ks_d = 1});
    return d.verdict == DriftVerdict::kDrifted;
  };
  EXPECT_FALSE(flags(14));
  EXPECT_TRUE(flags(15));  // 15% = 10% + 5%, exactly the threshold
  const FeatureDrift d = MeasureDrift(training, live_with(16), {.psi = 100, .ks_d = 1});
  EXPECT_THAT(d.reasons, ElementsAre(DriftReason::kMissingRate));
  EXPECT_NEAR(d.training_missing_rate, 0.1, 1e-12);
  EXPECT_NEAR(d.live_missing_rate, 0.16, 1e-12);
  EXPECT_EQ(d.live_present, 84u);
}

TEST(MeasureDriftTest, InfinitiesAreMissing) {
  const std::vector<double> live = {1, std::numeric_limits<double>::infinity(), kNaN, 2};
  const FeatureDrift d = MeasureDrift(Uniform0To10(), live);
  EXPECT_EQ(d.live_present, 2u);
  EXPECT_DOUBLE_EQ(d.live_missing_rate, 0.5);
  EXPECT_DOUBLE_EQ(*d.live_mean, 1.5);
}

TEST(MeasureDriftTest, FewerRowsThanTheMinimumAreNeverFlagged) {
  const std::vector<double> far_away(29, 100.0);
  const FeatureDrift d = MeasureDrift(Uniform0To10(), far_away);
  EXPECT_EQ(d.verdict, DriftVerdict::kTooFewRows);
  EXPECT_THAT(d.reasons, IsEmpty());
  EXPECT_GT(*d.psi, 1.0);  // still computed and shown
  EXPECT_EQ(MeasureDrift(Uniform0To10(), std::vector<double>(30, 100.0)).verdict, DriftVerdict::kDrifted);
  EXPECT_EQ(MeasureDrift(Uniform0To10(), far_away, {.min_rows = 10}).verdict, DriftVerdict::kDrifted);
}

TEST(MeasureDriftTest, ManyMissingRowsAreJudgedOnTheirRate) {
  // 40 rows, all missing: too few values for PSI and KS, enough rows for the rate.
  const FeatureDrift d = MeasureDrift(Uniform0To10(), std::vector<double>(40, kNaN));
  EXPECT_THAT(d.reasons, ElementsAre(DriftReason::kMissingRate));
  EXPECT_FALSE(d.psi.has_value());
  EXPECT_FALSE(d.ks.has_value());
  EXPECT_FALSE(d.live_mean.has_value());
}

TEST(MeasureDriftTest, NoLiveRowsIsTooFewRows) {
  const FeatureDrift d = MeasureDrift(Uniform0To10(), {});
  EXPECT_EQ(d.verdict, DriftVerdict::kTooFewRows);
  EXPECT_EQ(d.live_rows, 0u);
  EXPECT_EQ(d.live_missing_rate, 0.0);
  EXPECT_EQ(d.feature, "x");
  EXPECT_EQ(d.training_mean, 5.0);
}

}  // namespace
}  // namespace wharf::monitor
