// `wharf model export --format xgboost-json` writes a booster that
// python3-xgboost loads and that predicts the same classes as wharf.

#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include "testing/process.h"
#include "testing/temp_dir.h"

namespace wharf {
namespace {

using testing::ReadFile;
using testing::RunProcess;
using testing::RunWharf;
using testing::TempDir;
using testing::WineDir;

TEST(ExportTest, PythonXgboostPredictsTheSameClasses) {
  if (!std::filesystem::exists("/usr/bin/python3")) GTEST_SKIP() << "/usr/bin/python3 is not installed";
  auto probe = RunProcess({"/usr/bin/python3", "-c", "import xgboost"});
  if (probe.exit_code != 0) GTEST_SKIP() << "python3-xgboost is not installed: " << probe.err;

  TempDir dir;
  const auto validation = (WineDir() / "ValidationDataset.csv").string();
  auto trained = RunWharf({"train", "--train", (WineDir() / "TrainingDataset.csv").string(), "--estimator",
                           "xgboost", "--param", "num_round=60", "--out", (dir.path() / "m").string()});
  ASSERT_EQ(trained.exit_code, 0) << trained.err;
  const auto json = (dir.path() / "booster.json").string();
  auto exported = RunWharf({"model", "export", (dir.path() / "m" / "Modelfile").string(), "--format",
                            "xgboost-json", "--output", json});
  ASSERT_EQ(exported.exit_code, 0) << exported.err;

  auto predicted = RunWharf({"predict", "--model", (dir.path() / "m" / "Modelfile").string(), "--input", validation,
                             "--output", (dir.path() / "p.csv").string()});
  ASSERT_EQ(predicted.exit_code, 0) << predicted.err;
  auto python = RunProcess({"/usr/bin/python3", (testing::SourceDir() / "tests" / "integration" / "xgboost_predict.py").string(), json,
                            validation, "quality"});
  ASSERT_EQ(python.exit_code, 0) << python.err;

  const std::vector<std::string> classes{"3", "4", "5", "6", "7", "8"};
  std::istringstream ours(ReadFile(dir.path() / "p.csv")), theirs(python.out);
  std::string our_line, their_line;
  std::getline(ours, our_line);  // header
  int rows = 0;
  while (std::getline(ours, our_line) && std::getline(theirs, their_line)) {
    EXPECT_EQ(our_line, classes.at(std::stoul(their_line))) << "row " << rows;
    ++rows;
  }
  EXPECT_EQ(rows, 160);
}

TEST(ExportTest, LinearModelsHaveNoBoosterToExport) {
  TempDir dir;
  auto trained = RunWharf({"train", "--train", (WineDir() / "TrainingDataset.csv").string(), "--estimator",
                           "logistic", "--out", (dir.path() / "m").string()});
  ASSERT_EQ(trained.exit_code, 0) << trained.err;
  auto exported = RunWharf({"model", "export", (dir.path() / "m" / "Modelfile").string(), "--output",
                            (dir.path() / "x.json").string()});
  EXPECT_EQ(exported.exit_code, 2);
  EXPECT_NE(exported.err.find("no XGBoost booster"), std::string::npos) << exported.err;
}

}  // namespace
}  // namespace wharf
