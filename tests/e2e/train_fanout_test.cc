// `wharf train --trials N --executor local|slurm`: the search's trials run as
// tasks (local processes, or jobs on a real Slurm cluster the test starts)
// and the chosen model is the one the in-process search chooses.

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

// metrics.json without the timings, which differ from run to run.
json Metrics(const std::filesystem::path& dir) {
  json m = json::parse(ReadFile(dir / "metrics.json"));
  m.erase("seconds");
  for (auto& t : m["trials"]) t.erase("seconds");
  return m;
}

std::vector<std::string> Train(const std::filesystem::path& out, const std::vector<std::string>& more) {
  std::vector<std::string> args = {"train", "--train", (WineDir() / "TrainingDataset.csv").string(), "--validation",
                                   (WineDir() / "ValidationDataset.csv").string(), "--estimator", "logistic",
                                   "--trials", "4", "--seed", "7", "--out", out.string()};
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

TEST(TrainFanoutTest, TrialsAsLocalTasksChooseTheSameModelAsInProcess) {
  TempDir dir;
  const ProcessResult in_process = RunWharf(Train(dir.path() / "a", {}));
  ASSERT_EQ(in_process.exit_code, 0) << in_process.err;
  const ProcessResult tasks = RunWharf(Train(dir.path() / "b", {"--executor", "local"}));
  ASSERT_EQ(tasks.exit_code, 0) << tasks.err;
  const json a = Metrics(dir.path() / "a"), b = Metrics(dir.path() / "b");
  EXPECT_EQ(a, b);
  EXPECT_EQ(a["trials"].size(), 4u);
  // Each trial ran in its own run directory, with its score left there.
  for (int i = 0; i < 4; ++i) {
    EXPECT_TRUE(std::filesystem::exists(dir.path() / "b" / "trials" / std::to_string(i) / "score.json")) << i;
  }
}

TEST(TrainFanoutTest, TrialsAsSlurmJobsChooseTheSameModelAsInProcess) {
  auto cluster = SlurmCluster::Start(3);
  if (!cluster.ok()) GTEST_SKIP() << cluster.status().message();
  TempDir dir;
  const ProcessResult in_process = RunWharf(Train(dir.path() / "a", {}));
  ASSERT_EQ(in_process.exit_code, 0) << in_process.err;
  const ProcessResult jobs =
      RunWharf(Train(dir.path() / "b", {"--executor", "slurm", "--slurm-conf", (*cluster)->conf().string()}));
  ASSERT_EQ(jobs.exit_code, 0) << jobs.err;
  EXPECT_EQ(Metrics(dir.path() / "a"), Metrics(dir.path() / "b"));
}

TEST(TrainFanoutTest, AnExecutorWithoutASearchIsABadFlag) {
  TempDir dir;
  const ProcessResult r = RunWharf({"train", "--train", (WineDir() / "TrainingDataset.csv").string(), "--estimator",
                                    "logistic", "--executor", "local", "--out", dir.path().string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("give --trials N"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace wharf::testing
