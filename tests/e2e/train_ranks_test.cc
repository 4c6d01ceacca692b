// `wharf train --ranks N`: one model trained data-parallel by N MPI ranks
// (mpirun here; srun across the nodes of a real Slurm cluster the test
// starts), each reading its shard of the CSVs. The model matches the one a
// single process trains.

#include <cstdlib>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "testing/process.h"
#include "testing/slurm_cluster.h"
#include "testing/temp_dir.h"

namespace wharf::testing {
namespace {

using nlohmann::json;

json Metrics(const std::filesystem::path& dir) {
  json m = json::parse(ReadFile(dir / "metrics.json"));
  m.erase("seconds");
  return m;
}

std::vector<std::string> Train(const std::filesystem::path& out, const std::string& estimator,
                               const std::vector<std::string>& more) {
  std::vector<std::string> args = {"train", "--train", (WineDir() / "TrainingDataset.csv").string(), "--validation",
                                   (WineDir() / "ValidationDataset.csv").string(), "--estimator", estimator,
                                   "--threads", "1", "--out", out.string()};
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

double ValidationF1(const std::filesystem::path& dir) {
  return Metrics(dir)["validation"]["weighted_f1"].get<double>();
}

class TrainRanksTest : public ::testing::Test {
 protected:
  // Open MPI under a sanitizer build reports its own allocations as leaks.
  void SetUp() override { ::setenv("ASAN_OPTIONS", "detect_leaks=0", 0); }
  TempDir dir_;
};

TEST_F(TrainRanksTest, LogisticOnTwoMpiRanksMatchesOneRankAndOneProcess) {
  const ProcessResult process = RunWharf(Train(dir_.path() / "p", "logistic", {}));
  ASSERT_EQ(process.exit_code, 0) << process.err;
  const ProcessResult one = RunWharf(Train(dir_.path() / "r1", "logistic", {"--ranks", "1"}));
  ASSERT_EQ(one.exit_code, 0) << one.err;
  const ProcessResult two = RunWharf(Train(dir_.path() / "r2", "logistic", {"--ranks", "2"}));
  ASSERT_EQ(two.exit_code, 0) << two.err;
  // Only rank 0 reports.
  EXPECT_NE(two.out.find("[Test]  weighted F1"), std::string::npos) << two.out;
  EXPECT_EQ(two.out.find("[Test]"), two.out.rfind("[Test]")) << two.out;
  EXPECT_NEAR(ValidationF1(dir_.path() / "r2"), ValidationF1(dir_.path() / "r1"), 0.01);
  EXPECT_NEAR(ValidationF1(dir_.path() / "r2"), ValidationF1(dir_.path() / "p"), 0.01);
  EXPECT_EQ(Metrics(dir_.path() / "r2")["train"]["rows"], Metrics(dir_.path() / "p")["train"]["rows"]);
  EXPECT_NE(ReadFile(dir_.path() / "r2" / "results.txt").find("ranks:     2"), std::string::npos);
  // The Modelfile serves like any other.
  const ProcessResult predict =
      RunWharf({"predict", "--model", (dir_.path() / "r2" / "Modelfile").string(), "--input",
                (WineDir() / "ValidationDataset.csv").string(), "--output", (dir_.path() / "pred.csv").string()});
  EXPECT_EQ(predict.exit_code, 0) << predict.err;
}

TEST_F(TrainRanksTest, XgboostOnTwoRanksThroughItsTrackerGrowsTheOneProcessTrees) {
  // Without row or column sampling, XGBoost's collective sums the same
  // histograms one process builds: the same trees, the same metrics.
  const std::vector<std::string> exact = {"--param", "subsample=1", "--param", "colsample_bytree=1"};
  const ProcessResult process = RunWharf(Train(dir_.path() / "p", "xgboost", exact));
  ASSERT_EQ(process.exit_code, 0) << process.err;
  std::vector<std::string> ranks = exact;
  ranks.insert(ranks.end(), {"--ranks", "2"});
  const ProcessResult two = RunWharf(Train(dir_.path() / "r2", "xgboost", ranks));
  ASSERT_EQ(two.exit_code, 0) << two.err;
  EXPECT_EQ(Metrics(dir_.path() / "r2")["train"], Metrics(dir_.path() / "p")["train"]);
  EXPECT_EQ(Metrics(dir_.path() / "r2")["validation"], Metrics(dir_.path() / "p")["validation"]);
  EXPECT_NE(ReadFile(dir_.path() / "r2" / "tracker.log").find("All of 2 nodes"), std::string::npos);
}

TEST_F(TrainRanksTest, ABadRowStopsEveryRankWithExitCode2AndTheFilesLine) {
  std::string text = ReadFile(WineDir() / "TrainingDataset.csv");
  text += "oops;0.5;0.1;2;0.05;10;30;0.99;3.3;0.6;10;5\n";
  const auto bad = dir_.Write("bad.csv", text);
  const ProcessResult r = RunWharf({"train", "--train", bad.string(), "--estimator", "logistic", "--ranks", "2",
                                    "--out", (dir_.path() / "o").string()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("bad.csv:1281:1"), std::string::npos) << r.err;
}

TEST_F(TrainRanksTest, AnEstimatorThatCannotSplitItsRowsIsABadFlag) {
  const ProcessResult r = RunWharf(Train(dir_.path() / "o", "ordinal-logistic", {"--ranks", "2"}));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("cannot train across ranks"), std::string::npos) << r.err;
}

TEST_F(TrainRanksTest, SrunSpreadsTheRanksOverSlurmNodes) {
  auto cluster = SlurmCluster::Start(3);
  if (!cluster.ok()) GTEST_SKIP() << cluster.status().message();
  ::setenv("SLURM_CONF", (*cluster)->conf().c_str(), 1);
  // Several fake nodes share this host: Open MPI's shared-memory transport
  // must not be used between them, and TCP stays on loopback (a busy machine
  // failed the ranks' connects to its other interface).
  ::setenv("OMPI_MCA_btl", "self,tcp", 1);
  ::setenv("OMPI_MCA_btl_tcp_if_include", "lo", 1);
  const ProcessResult process = RunWharf(Train(dir_.path() / "p", "logistic", {}));
  ASSERT_EQ(process.exit_code, 0) << process.err;
  const ProcessResult three = RunWharf(Train(dir_.path() / "s", "logistic", {"--ranks", "3", "--launcher", "srun"}));
  ::unsetenv("OMPI_MCA_btl");
  ::unsetenv("OMPI_MCA_btl_tcp_if_include");
  ::unsetenv("SLURM_CONF");
  ASSERT_EQ(three.exit_code, 0) << three.err;
  EXPECT_NEAR(ValidationF1(dir_.path() / "s"), ValidationF1(dir_.path() / "p"), 0.01);
  EXPECT_NE(ReadFile(dir_.path() / "s" / "results.txt").find("ranks:     3"), std::string::npos);
}

}  // namespace
}  // namespace wharf::testing
