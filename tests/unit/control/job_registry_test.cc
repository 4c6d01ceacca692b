#include "control/job_registry.h"

#include <string>

#include <gtest/gtest.h>

namespace wharf::control {
namespace {

using nlohmann::json;

JobType Train(std::string description = "") {
  JobType job;
  job.name = "train";
  job.description = std::move(description);
  job.params = {{"train", true, ""}, {"validation", false, ""}, {"seed", false, ""}};
  return job;
}

TEST(JobRegistryTest, FindsAddedJobsAndNothingElse) {
  JobRegistry jobs;
  ASSERT_TRUE(jobs.Add(Train()).ok());
  ASSERT_NE(jobs.Find("train"), nullptr);
  EXPECT_EQ(jobs.Find("train")->params.size(), 3u);
  EXPECT_EQ(jobs.Find("predict"), nullptr);
  EXPECT_EQ(jobs.jobs().size(), 1u);
}

TEST(JobRegistryTest, RejectsASecondJobOfOneNameAndKeepsTheFirst) {
  JobRegistry jobs;
  ASSERT_TRUE(jobs.Add(Train("first")).ok());
  const Status second = jobs.Add(Train("second"));
  EXPECT_EQ(second.code(), StatusCode::kAlreadyExists);
  EXPECT_NE(second.message().find("'train'"), std::string::npos) << second.message();
  EXPECT_EQ(jobs.Find("train")->description, "first");
}

TEST(JobRegistryTest, AcceptsRequiredAndOptionalParams) {
  EXPECT_TRUE(JobRegistry::CheckParams(Train(), {{"train", "a.csv"}}).ok());
  EXPECT_TRUE(JobRegistry::CheckParams(Train(), {{"train", "a.csv"}, {"validation", "b.csv"}, {"seed", 7}}).ok());
}

TEST(JobRegistryTest, CheckParamsNamesTheOffendingParameter) {
  const std::pair<json, std::string> cases[] = {
      {json::object(), "params.train: required by job 'train'"},
      {{{"seed", 1}}, "params.train: required by job 'train'"},
      {{{"train", "a"}, {"depth", 3}},
       "params.depth: job 'train' has no such parameter (it takes: train, validation, seed)"},
      {json::array({"train"}), "params: must be an object"},
      {"train=a", "params: must be an object"},
  };
  for (const auto& [params, message] : cases) {
    const Status status = JobRegistry::CheckParams(Train(), params);
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << params;
    EXPECT_EQ(status.message(), message) << params;
  }
}

}  // namespace
}  // namespace wharf::control
