#include "ml/pipeline.h"

#include <cmath>

#include <gtest/gtest.h>

#include "artifact/registry.h"
#include "ml/metrics.h"
#include "synthetic.h"

namespace wharf::ml {
namespace {

artifact::ModelSchema Schema(std::size_t cols, std::size_t classes) {
  artifact::ModelSchema s;
  for (std::size_t f = 0; f < cols; ++f) s.features.push_back("f" + std::to_string(f));
  s.label = "y";
  for (std::size_t c = 0; c < classes; ++c) s.classes.push_back(std::to_string(c + 3));
  return s;
}

class EveryFamilyTest : public ::testing::TestWithParam<std::string> {};

TEST_P(EveryFamilyTest, LearnsSeparableBlobsWithProbabilitiesSummingToOne) {
  const auto data = testdata::Blobs(300, 3, 3);
  auto family = FindFamily(GetParam());
  ASSERT_TRUE(family.ok());
  auto params = ResolveParams(**family, {});
  ASSERT_TRUE(params.ok());
  auto pipeline = Pipeline::Fit(**family, *params, data, {1, 2}, Schema(3, 3));
  ASSERT_TRUE(pipeline.ok()) << pipeline.status().ToString();
  auto predicted = (*pipeline)->PredictClasses(data.x.data(), data.rows);
  ASSERT_TRUE(predicted.ok());
  EXPECT_GT(ComputeMetrics(data.y, *predicted, {"a", "b", "c"}).accuracy, 0.9);

  std::vector<float> proba(data.rows * 3);
  ASSERT_TRUE((*pipeline)->Predict(data.x.data(), data.rows, proba.data()).ok());
  for (std::size_t r = 0; r < data.rows; ++r) {
    EXPECT_NEAR(proba[r * 3] + proba[r * 3 + 1] + proba[r * 3 + 2], 1.0f, 1e-4f);
  }
}

TEST_P(EveryFamilyTest, SurvivesAModelfileRoundTripWithIdenticalPredictions) {
  const auto data = testdata::Blobs(200, 4, 4);
  auto family = FindFamily(GetParam());
  ASSERT_TRUE(family.ok());
  auto pipeline = Pipeline::Fit(**family, (*family)->defaults, data, {1, 1}, Schema(4, 4));
  ASSERT_TRUE(pipeline.ok()) << pipeline.status().ToString();
  artifact::Modelfile file;
  ASSERT_TRUE((*pipeline)->SaveTo(file).ok());
  auto parsed = artifact::ParseModelfile(artifact::SerializeModelfile(file), "memory");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();

  artifact::ModelRegistry registry;
  Register(registry);
  auto loaded = registry.Load(*parsed);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ((*loaded)->schema().classes, (std::vector<std::string>{"3", "4", "5", "6"}));
  std::vector<float> before(data.rows * 4), after(data.rows * 4);
  ASSERT_TRUE((*pipeline)->Predict(data.x.data(), data.rows, before.data()).ok());
  ASSERT_TRUE((*loaded)->Predict(data.x.data(), data.rows, after.data()).ok());
  for (std::size_t i = 0; i < before.size(); ++i) EXPECT_NEAR(before[i], after[i], 1e-6f);
}

INSTANTIATE_TEST_SUITE_P(Families, EveryFamilyTest,
                         ::testing::Values("logistic", "ordinal-logistic", "xgboost", "rf"),
                         [](const auto& test) {
                           std::string name = test.param;
                           std::erase(name, '-');
                           return name;
                         });

TEST(PipelineTest, ImputesMissingValuesForLinearModels) {
  auto data = testdata::Blobs(120, 2, 2);
  data.x[0] = std::nanf("");
  auto family = FindFamily("logistic");
  ASSERT_TRUE(family.ok());
  auto pipeline = Pipeline::Fit(**family, (*family)->defaults, data, {1, 1}, Schema(2, 2));
  ASSERT_TRUE(pipeline.ok());
  std::vector<float> proba(2);
  const float row[] = {std::nanf(""), std::nanf("")};
  ASSERT_TRUE((*pipeline)->Predict(row, 1, proba.data()).ok());
  EXPECT_FALSE(std::isnan(proba[0]));
}

TEST(PipelineTest, LoadRejectsAHeaderWhoseWeightsDoNotMatchTheSchema) {
  const auto data = testdata::Blobs(60, 2, 2);
  auto family = FindFamily("logistic");
  ASSERT_TRUE(family.ok());
  auto pipeline = Pipeline::Fit(**family, (*family)->defaults, data, {1, 1}, Schema(2, 2));
  ASSERT_TRUE(pipeline.ok());
  artifact::Modelfile file;
  ASSERT_TRUE((*pipeline)->SaveTo(file).ok());
  file.header["schema"]["features"].push_back("extra");
  file.header["preprocessing"][0]["mean"].push_back(0);
  file.header["preprocessing"][0]["scale"].push_back(1);
  auto loaded = Pipeline::Load(file);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace wharf::ml
