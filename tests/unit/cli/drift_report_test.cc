#include "cli/drift_report.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace wharf::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr std::int64_t kNoon = 1'795'435'200'000'000;  // 2026-11-23T12:00:00Z

DriftReport TwoFeatures() {
  DriftReport r;
  r.endpoint = "wine";
  r.store = "wharf.db";
  r.modelfile = "out/wine/Modelfile";
  r.training_rows = 1279;
  r.since_us = kNoon;
  r.captures = 160;
  r.rows = 160;
  r.first_us = kNoon + 1000;
  r.last_us = kNoon + 2000;
  monitor::FeatureDrift ok{.feature = "pH", .live_rows = 160, .live_present = 160, .training_mean = 3.32,
                           .live_mean = 3.3, .psi = 0.063, .ks = monitor::KsResult{0.069, 0.512},
                           .verdict = monitor::DriftVerdict::kOk, .reasons = {}};
  monitor::FeatureDrift drifted{.feature = "alcohol", .live_rows = 160, .live_present = 152,
                                .live_missing_rate = 0.05, .training_mean = 10.47, .live_mean = 13.63,
                                .psi = 10.712, .ks = monitor::KsResult{0.918, 1e-40},
                                .verdict = monitor::DriftVerdict::kDrifted,
                                .reasons = {monitor::DriftReason::kPsi, monitor::DriftReason::kKs,
                                            monitor::DriftReason::kMissingRate}};
  r.features = {ok, drifted};
  return r;
}

TEST(DriftReportTest, TableHasOneLinePerFeatureAndASummary) {
  const std::string table = FormatDriftTable(TwoFeatures());
  EXPECT_THAT(table, HasSubstr("Training data: out/wine/Modelfile (1279 rows)"));
  EXPECT_THAT(table, HasSubstr("0.069 (0.512)"));
  EXPECT_THAT(table, HasSubstr("0.0 → 5.0"));
  EXPECT_THAT(table, HasSubstr("0.918 (<0.001)"));
  EXPECT_THAT(table, HasSubstr("10.47 → 13.63"));
  EXPECT_THAT(table, HasSubstr("DRIFT (PSI, KS, missing)"));
  EXPECT_THAT(table, HasSubstr("1 of 2 features drifted since 2026-11-23T12:00:00.000Z."));
  EXPECT_THAT(table, Not(HasSubstr("Skipped")));
}

TEST(DriftReportTest, TableAndJsonNameTheRevisionAndVariantCompared) {
  DriftReport r = TwoFeatures();
  EXPECT_THAT(FormatDriftTable(r), Not(HasSubstr("Model:")));
  EXPECT_TRUE(DriftJson(r)["revision"].is_null());
  r.models_from = "endpoint revision 2 (latest)";
  r.revision = 2;
  r.model_variant = "green";
  r.model_version = "4";
  EXPECT_THAT(FormatDriftTable(r), HasSubstr("Model: variant green version 4, from endpoint revision 2 (latest)\n"
                                             "Training data: out/wine/Modelfile (1279 rows)\n"));
  const auto j = DriftJson(r);
  EXPECT_EQ(j["revision"], 2);
  EXPECT_EQ(j["training"]["variant"], "green");
  EXPECT_EQ(j["training"]["version"], "4");
}

TEST(DriftReportTest, TableNamesTheFirstBodyThatDidNotParse) {
  DriftReport r = TwoFeatures();
  r.unparsed = 3;
  r.first_unparsed = "id 7: missing input 'alcohol'";
  EXPECT_THAT(FormatDriftTable(r), HasSubstr("Skipped 3 of them: their body did not parse for this model (first: id "
                                             "7: missing input 'alcohol')"));
}

TEST(DriftReportTest, WithoutCapturesSaysSoInsteadOfATable) {
  DriftReport r = TwoFeatures();
  r.captures = 0;
  r.until_us = kNoon + 3'600'000'000;
  const std::string table = FormatDriftTable(r);
  EXPECT_THAT(table, HasSubstr("No primary captures answered with 200 for endpoint 'wine' from "
                               "2026-11-23T12:00:00.000Z to 2026-11-23T13:00:00.000Z: nothing to compare."));
  EXPECT_THAT(table, Not(HasSubstr("live rows")));
}

TEST(DriftReportTest, JsonCarriesVerdictsReasonsAndNulls) {
  DriftReport r = TwoFeatures();
  r.features[0].ks.reset();
  const auto j = DriftJson(r);
  EXPECT_EQ(j["drifted"], 1);
  EXPECT_EQ(j["since"], "2026-11-23T12:00:00.000Z");
  EXPECT_TRUE(j["until"].is_null());
  EXPECT_TRUE(j["variant"].is_null());
  EXPECT_EQ(j["features"][0]["verdict"], "ok");
  EXPECT_TRUE(j["features"][0]["ks"].is_null());
  EXPECT_EQ(j["features"][1]["reasons"], nlohmann::ordered_json({"psi", "ks", "missing_rate"}));
  EXPECT_EQ(j["features"][1]["missing_rate"]["live"], 0.05);
  EXPECT_EQ(j["thresholds"]["min_rows"], 30);
}

}  // namespace
}  // namespace wharf::cli
