#include "cli/endpoint_format.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace wharf::cli {
namespace {

using nlohmann::json;

const json kSpec = {
    {"variants",
     {{{"name", "blue"}, {"model", "wine@3"}, {"weight", 90}},
      {{"name", "green"}, {"model", "wine@production"}, {"weight", 10}}}},
    {"shadow", {{"name", "next"}, {"model", "wine@4"}}},
};

TEST(VariantSummaryTest, ShowsWeightsAsSharesAndWhatAliasesResolvedTo) {
  const json revision = {
      {"revision", 2},
      {"spec", kSpec},
      {"resolved", {{"serve", json::object()}, {"models", {{"blue", "wine@3"}, {"green", "wine@5"}, {"next", "wine@4"}}}}}};
  EXPECT_EQ(VariantSummary(revision), "blue wine@3 90%, green wine@production→5 10%, shadow next wine@4");
}

TEST(VariantSummaryTest, WithoutResolvedOrWeightsPrintsTheSpecEvenly) {
  const json revision = {{"spec",
                          {{"variants",
                            {{{"name", "a"}, {"model", "wine@1"}},
                             {{"name", "b"}, {"model", "wine@2"}},
                             {{"name", "c"}, {"model", "wine@3"}}}}}}};
  EXPECT_EQ(VariantSummary(revision), "a wine@1 33.3%, b wine@2 33.3%, c wine@3 33.3%");
  EXPECT_EQ(VariantSummary(json::object()), "");
}

TEST(VariantSummaryTest, AVariantResolvedDoesNotNameKeepsItsReference) {
  const json revision = {{"spec", kSpec}, {"resolved", {{"models", {{"blue", "wine@3"}, {"next", 4}}}}}};
  EXPECT_EQ(VariantSummary(revision), "blue wine@3 90%, green wine@production 10%, shadow next wine@4");
}

TEST(VariantSummaryTest, ACanaryStepShowsTheServedShares) {
  const json spec = {{"variants",
                      {{{"name", "stable"}, {"model", "wine@1"}, {"weight", 1}},
                       {{"name", "next"}, {"model", "wine@2"}, {"weight", 1}, {"canary", {{"steps", {25, 100}}}}}}}};
  const json resolved = {
      {"serve",
       {{"endpoints",
         {{{"name", "wine"}, {"variants", {{{"name", "stable"}, {"weight", 75}}, {{"name", "next"}, {"weight", 25}}}}}}}}},
      {"models", {{"stable", "wine@1"}, {"next", "wine@2"}}}};
  EXPECT_EQ(VariantSummary({{"spec", spec}, {"resolved", resolved}}), "stable wine@1 75%, next wine@2 25% (canary)");
}

TEST(RevisionNumberTest, ReadsRevisionsStatusesAndServedNumbers) {
  EXPECT_EQ(RevisionNumber(json{{"revision", 4}}), 4);
  EXPECT_EQ(RevisionNumber(json{{"name", "wine"}, {"revision", {{"revision", 5}, {"reason", "apply"}}}}), 5);
  EXPECT_EQ(RevisionNumber(json(3)), 3);
  EXPECT_EQ(RevisionNumber(json()), 0);
  EXPECT_EQ(RevisionNumber(json("4")), 0);
}

json Replica(const std::string& id, json revision, bool ready) {
  return {{"task_id", id}, {"state", "RUNNING"}, {"revision", std::move(revision)}, {"ready", ready}};
}

json Revision(int number, int min_replicas) {
  return {{"endpoint", "wine"}, {"revision", number}, {"spec", {{"replicas", {{"min", min_replicas}}}}}};
}

TEST(CheckRolloutTest, DoneOnlyWhenEveryReplicaServesTheRevisionAndEnoughAreReady) {
  json status = {{"desired_replicas", 2}, {"replicas", {Replica("t1", 4, true), Replica("t2", 3, true)}}};
  Rollout rollout = CheckRollout(status, Revision(4, 1));
  EXPECT_FALSE(rollout.done());
  EXPECT_EQ(rollout.ready, 1);
  EXPECT_EQ(rollout.desired, 2);
  EXPECT_EQ(rollout.waiting, std::vector<std::string>{"task t2 (RUNNING, serving revision 3)"});

  json refusing = Replica("t5", 3, true);
  refusing["error"] = "variant 'blue': no such file";
  status["replicas"] = {Replica("t1", 4, true), Replica("t3", nullptr, false), Replica("t4", 4, false), refusing};
  rollout = CheckRollout(status, Revision(4, 1));
  EXPECT_EQ(rollout.waiting, (std::vector<std::string>{"task t3 (RUNNING, starting)", "task t4 (RUNNING, not ready)",
                                                        "task t5 (RUNNING, serving revision 3): variant 'blue': no such file"}));

  status["replicas"] = {Replica("t1", 4, true)};
  EXPECT_FALSE(CheckRollout(status, Revision(4, 1)).done());  // one short of desired

  status["replicas"] = {Replica("t1", 4, true), Replica("t4", 4, true)};
  EXPECT_TRUE(CheckRollout(status, Revision(4, 1)).done());
}

TEST(CheckRolloutTest, WantsTheSpecsMinimumBeforeTheServerHasCountedReplicas) {
  const json status = {{"desired_replicas", 0}, {"replicas", json::array()}};
  EXPECT_EQ(CheckRollout(status, Revision(1, 3)).desired, 3);
  EXPECT_EQ(CheckRollout(status, json{{"revision", 1}}).desired, 1);  // replicas.min defaults to 1
  EXPECT_FALSE(CheckRollout(status, json{{"revision", 1}}).done());
}

}  // namespace
}  // namespace wharf::cli
