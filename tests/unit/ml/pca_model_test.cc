#include "ml/pca_model.h"

#include <cmath>
#include <limits>
#include <random>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ml/pca_report.h"

namespace wharf::ml {
namespace {

using ::testing::HasSubstr;

// 200 rows of three columns, the third a mix of the first two plus noise.
std::vector<float> Table() {
  std::mt19937 rng(3);
  std::normal_distribution<float> normal;
  std::vector<float> x;
  for (int r = 0; r < 200; ++r) {
    const float a = 5 * normal(rng), b = normal(rng);
    x.insert(x.end(), {a, b, a - b + 0.1f * normal(rng)});
  }
  return x;
}

PcaModel Fitted(std::size_t k) {
  const auto x = Table();
  auto pca = Pca::Fit(x.data(), 200, 3, {.components = k});
  EXPECT_TRUE(pca.ok());
  return PcaModel(std::move(*pca), {"a", "b", "c"});
}

TEST(PcaModelTest, ARegisteredModelfileProjectsLikeTheFittedPca) {
  const PcaModel model = Fitted(2);
  EXPECT_EQ(model.schema().kind, artifact::ModelKind::kTransformer);
  EXPECT_EQ(model.outputs(), (std::vector<std::string>{"pc1", "pc2"}));
  const artifact::Modelfile file = model.ToModelfile({{"components", 2}});
  EXPECT_EQ(file.header["estimator"]["kind"], "pca");
  EXPECT_EQ(file.header["schema"]["features"], (nlohmann::json{"a", "b", "c"}));

  artifact::ModelRegistry registry;
  RegisterPca(registry);
  auto loaded = registry.Load(*artifact::ParseModelfile(artifact::SerializeModelfile(file), "pca"));
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  ASSERT_EQ((*loaded)->output_width(), 2u);
  const auto x = Table();
  std::vector<float> direct(2 * 200), reloaded(2 * 200);
  ASSERT_TRUE(model.Predict(x.data(), 200, direct.data()).ok());
  ASSERT_TRUE((*loaded)->Predict(x.data(), 200, reloaded.data()).ok());
  EXPECT_EQ(direct, reloaded);
}

TEST(PcaModelTest, AMissingValueIsAnErrorNamingTheFeature) {
  const PcaModel model = Fitted(1);
  const float row[3] = {1, std::numeric_limits<float>::quiet_NaN(), 2};
  float out[1];
  const Status status = model.Predict(row, 1, out);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("row 1, feature 'b': missing"));
}

TEST(PcaModelTest, AModelfileWithoutItsProjectionIsRefused) {
  artifact::Modelfile file = Fitted(1).ToModelfile({});
  file.sections.clear();
  EXPECT_THAT(PcaModel::Load(file).status().message(), HasSubstr("no pca.json section"));
}

TEST(PcaReportTest, TheCurveListsEveryComputedComponentAndMarksTheKeptOnes) {
  const PcaModel model = Fitted(1);
  const std::string csv = ExplainedVarianceCsv(model.pca());
  EXPECT_THAT(csv, HasSubstr("component,variance,ratio,cumulative,kept\n1,"));
  EXPECT_THAT(csv, HasSubstr(",true\n2,"));
  EXPECT_THAT(csv, HasSubstr("\n3,"));  // all three computed; one kept
  const std::string svg = ExplainedVarianceSvg(model.pca(), 0.95);
  EXPECT_EQ(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0u);
  EXPECT_THAT(svg, HasSubstr(">k = 1</text>"));
  EXPECT_THAT(svg, HasSubstr("target 95%"));
  EXPECT_THAT(svg, HasSubstr("</svg>\n"));
}

}  // namespace
}  // namespace wharf::ml
