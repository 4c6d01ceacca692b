// The built-in jobs' argv: what a task definition's params become.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cli/commands.h"

namespace wharf::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using nlohmann::json;

Result<std::vector<std::string>> Argv(const std::string& job, const json& params, int index = 0, int count = 1) {
  control::JobRegistry jobs;
  RegisterBuiltinJobs(jobs);
  const control::JobType* type = jobs.Find(job);
  EXPECT_NE(type, nullptr) << job;
  return type->argv(params, {"/opt/wharf", "/out", 2, 1, index, count});
}

TEST(JobsTest, AFeaturizeTaskOfARunTakesItsShard) {
  const json params = {{"images", "/data/fruits"}, {"model", "/m/Modelfile"}, {"color", "gray"}};
  EXPECT_THAT(*Argv("featurize", params),
              ElementsAre("/opt/wharf", "featurize", "--out", "/out", "--threads", "2", "--images", "/data/fruits",
                          "--model", "/m/Modelfile", "--color", "gray"));
  const auto sharded = Argv("featurize", params, 2, 4);
  ASSERT_TRUE(sharded.ok());
  EXPECT_THAT(*sharded, ::testing::Contains("2/4"));
  EXPECT_THAT(*Argv("featurize", {{"images", "/i"}, {"raw", true}}), ::testing::Contains("--raw"));
}

TEST(JobsTest, APcaTaskFitsItsTableAndProjectsTheOthers) {
  EXPECT_THAT(*Argv("pca", {{"table", "/f/train.csv"}, {"transform", {"/f/test.csv", "/f/new.csv"}}, {"components", 8}}),
              ElementsAre("/opt/wharf", "pca", "fit", "/f/train.csv", "--out", "/out", "--components", "8",
                          "--transform", "/f/test.csv", "--transform", "/f/new.csv"));
  const auto bad = Argv("pca", {{"table", "/t.csv"}, {"keep", {1, 2}}});
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("params.keep: must be a string or a list of strings"));
}

TEST(JobsTest, ATrainTaskIgnoresTheColumnsItIsTold) {
  EXPECT_THAT(*Argv("train", {{"train", "/t.csv"}, {"ignore", "path"}}), ::testing::Contains("--ignore"));
}

}  // namespace
}  // namespace wharf::cli
