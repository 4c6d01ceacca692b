// Train -> Modelfile -> predict/evaluate on the bundled wine data, through
// the real binary.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "testing/process.h"
#include "testing/temp_dir.h"

namespace wharf {
namespace {

using testing::ReadFile;
using testing::RunWharf;
using testing::TempDir;
using testing::WineDir;

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    const auto end = text.find('\n', start);
    lines.push_back(text.substr(start, end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return lines;
}

class WineTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    trained_ = RunWharf({"train", "--train", (WineDir() / "TrainingDataset.csv").string(), "--validation",
                         (WineDir() / "ValidationDataset.csv").string(), "--label", "quality", "--out",
                         (dir_->path() / "model").string()});
  }
  static void TearDownTestSuite() { delete dir_; }
  static std::filesystem::path ModelDir() { return dir_->path() / "model"; }

  static TempDir* dir_;
  static testing::ProcessResult trained_;
};
TempDir* WineTest::dir_ = nullptr;
testing::ProcessResult WineTest::trained_;

TEST_F(WineTest, DefaultTrainingBeatsTheSparkBaselineOnValidation) {
  ASSERT_EQ(trained_.exit_code, 0) << trained_.err;
  const auto metrics = nlohmann::json::parse(ReadFile(ModelDir() / "metrics.json"));
  EXPECT_GE(metrics["validation"]["weighted_f1"].get<double>(), 0.58);  // Spark MLlib reported 0.5737
  EXPECT_NE(trained_.out.find("Modelfile"), std::string::npos);
}

TEST_F(WineTest, ResultsHaveTrainAndTestSectionsLikeTheSeed) {
  ASSERT_EQ(trained_.exit_code, 0) << trained_.err;
  const std::string results = ReadFile(ModelDir() / "results.txt");
  EXPECT_NE(results.find("[Train]\nWeighted F1 score:"), std::string::npos);
  EXPECT_NE(results.find("[Test]\nWeighted F1 score:"), std::string::npos);
  EXPECT_NE(results.find("Confusion matrix"), std::string::npos);
  EXPECT_NE(results.find("Data shift"), std::string::npos);
}

TEST_F(WineTest, PredictKeepsEveryRowAndItsMetricsEqualEvaluates) {
  ASSERT_EQ(trained_.exit_code, 0) << trained_.err;
  const auto out = dir_->path() / "predictions.csv";
  auto predicted = RunWharf({"predict", "--model", (ModelDir() / "Modelfile").string(), "--input",
                             (WineDir() / "ValidationDataset.csv").string(), "--output", out.string()});
  ASSERT_EQ(predicted.exit_code, 0) << predicted.err;
  const auto lines = Lines(ReadFile(out));
  ASSERT_EQ(lines.size(), 161u);  // header + 160 rows
  EXPECT_EQ(lines[0], "prediction");

  auto evaluated = RunWharf({"evaluate", "--model", (ModelDir() / "Modelfile").string(), "--input",
                             (WineDir() / "ValidationDataset.csv").string(), "--json"});
  ASSERT_EQ(evaluated.exit_code, 0) << evaluated.err;
  const auto eval = nlohmann::json::parse(evaluated.out);
  const auto trained = nlohmann::json::parse(ReadFile(ModelDir() / "metrics.json"));
  EXPECT_EQ(eval["weighted_f1"], trained["validation"]["weighted_f1"]);
  EXPECT_EQ(eval["confusion_matrix"], trained["validation"]["confusion_matrix"]);
  EXPECT_NE(predicted.out.find("Weighted F1 score:"), std::string::npos);
}

TEST_F(WineTest, UnlabelledInputGetsPredictionsWithProbabilitiesAndTopK) {
  ASSERT_EQ(trained_.exit_code, 0) << trained_.err;
  const auto out = dir_->path() / "test-predictions.csv";
  auto predicted = RunWharf({"predict", "--model", (ModelDir() / "Modelfile").string(), "--input",
                             (WineDir() / "TestDataset.csv").string(), "--output", out.string(), "--proba",
                             "--top-k", "2"});
  ASSERT_EQ(predicted.exit_code, 0) << predicted.err;
  const auto lines = Lines(ReadFile(out));
  ASSERT_EQ(lines.size(), 161u);
  EXPECT_EQ(lines[0], "prediction,proba_3,proba_4,proba_5,proba_6,proba_7,proba_8,top1,top1_proba,top2,top2_proba");
  EXPECT_EQ(predicted.out.find("Weighted F1"), std::string::npos);  // no label, no metrics
}

TEST_F(WineTest, SmallBatchesGiveTheSamePredictions) {
  ASSERT_EQ(trained_.exit_code, 0) << trained_.err;
  const auto whole = dir_->path() / "whole.csv", batched = dir_->path() / "batched.csv";
  for (const auto& [path, rows] : {std::pair{whole, "8192"}, std::pair{batched, "7"}}) {
    auto r = RunWharf({"predict", "--model", (ModelDir() / "Modelfile").string(), "--input",
                       (WineDir() / "ValidationDataset.csv").string(), "--output", path.string(), "--proba",
                       "--batch-rows", rows});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  EXPECT_EQ(ReadFile(whole), ReadFile(batched));
}

TEST_F(WineTest, InspectDescribesTheModel) {
  ASSERT_EQ(trained_.exit_code, 0) << trained_.err;
  auto human = RunWharf({"model", "inspect", (ModelDir() / "Modelfile").string()});
  ASSERT_EQ(human.exit_code, 0) << human.err;
  EXPECT_NE(human.out.find("Label:      quality (classes 3, 4, 5, 6, 7, 8)"), std::string::npos) << human.out;
  auto json = RunWharf({"model", "inspect", "--json", (ModelDir() / "Modelfile").string()});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  const auto j = nlohmann::json::parse(json.out);
  EXPECT_EQ(j["header"]["schema"]["features"].size(), 11u);
  EXPECT_EQ(j["header"]["feature_summary"].size(), 11u);
  EXPECT_EQ(j["header"]["data"]["train"]["sha256"].get<std::string>().size(), 64u);
}

TEST(TrainTest, SameSeedReproducesTheSearch) {
  TempDir dir;
  std::vector<std::string> metrics;
  for (const char* out : {"a", "b"}) {
    auto r = RunWharf({"train", "--train", (WineDir() / "TrainingDataset.csv").string(), "--validation",
                       (WineDir() / "ValidationDataset.csv").string(), "--out", (dir.path() / out).string(),
                       "--estimator", "auto", "--trials", "6", "--parallel", "2", "--seed", "5", "--folds", "3",
                       "--param", "num_round=40", "--param", "num_parallel_tree=40"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto j = nlohmann::json::parse(ReadFile(dir.path() / out / "metrics.json"));
    j.erase("seconds");
    for (auto& t : j["trials"]) t.erase("seconds");
    metrics.push_back(j.dump());
  }
  EXPECT_EQ(metrics[0], metrics[1]);
  EXPECT_NE(ReadFile(dir.path() / "a" / "results.txt").find("Search: top"), std::string::npos);
}

}  // namespace
}  // namespace wharf
