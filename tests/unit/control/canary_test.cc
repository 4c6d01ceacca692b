#include "control/canary.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace wharf::control {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

const std::vector<double> kBounds = {0.001, 0.01, 0.1};  // seconds

// `requests` answered, `errors` of them failed, the rest observed in the bucket ending at bounds[bucket].
Tally Served(std::uint64_t requests, std::uint64_t errors, std::size_t bucket) {
  Tally t{requests, errors, std::vector<std::uint64_t>(kBounds.size() + 1, 0)};
  t.buckets[bucket] = requests - errors;
  return t;
}

json Metric(const std::string& variant, std::uint64_t requests, std::uint64_t errors, const std::string& role = "primary",
            const std::string& version = "1") {
  return {{"variant", variant}, {"version", version}, {"role", role}, {"requests", requests}, {"errors", errors},
          {"latency_buckets", {requests - errors, 0, 0, 0}}};
}

EndpointSpec CanarySpecOf(std::vector<double> steps) {
  auto spec = ParseEndpointSpec(json{
      {"name", "wine"},
      {"variants",
       {{{"name", "a"}, {"model", "wine@1"}, {"weight", 3}},
        {{"name", "b"}, {"model", "wine@2"}, {"weight", 1}},
        {{"name", "new"}, {"model", "wine@production"}, {"canary", {{"steps", steps}}}}}},
      {"shadow", {{"name", "s"}, {"model", "other@4"}}}});
  EXPECT_TRUE(spec.ok()) << spec.status().ToString();
  return *spec;
}

json Resolved() {
  json variants = json::array();
  for (const char* name : {"a", "b", "new"}) variants.push_back({{"name", name}, {"model", "/m"}, {"version", name}, {"weight", 1}});
  return {{"serve", {{"endpoints", {{{"name", "wine"}, {"variants", variants}}}}}},
          {"models", {{"a", "wine@1"}, {"b", "wine@2"}, {"new", "wine@3"}, {"s", "other@4"}}},
          {"aliases_seen", {{"wine@production", 3}}}};
}

std::map<std::string, double> Weights(const json& resolved) {
  std::map<std::string, double> out;
  for (const auto& v : resolved["serve"]["endpoints"][0]["variants"]) out[v["name"]] = v["weight"];
  return out;
}

TEST(CanaryTest, AStepGivesTheCanaryItsShareAndTheBaselineTheRestInItsProportions) {
  const EndpointSpec spec = CanarySpecOf({20, 100});
  const CanaryState state{"new", {20, 100}, 1, 7};
  const json at = AtCanaryStep(Resolved(), spec, state);
  EXPECT_EQ(Weights(at), (std::map<std::string, double>{{"a", 60}, {"b", 20}, {"new", 20}}));
  const auto back = CanaryOf(at);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->variant, "new");
  EXPECT_EQ(back->step, 1);
  EXPECT_EQ(back->from_revision, 7);
  EXPECT_EQ(back->percent(), 20);
  EXPECT_FALSE(CanaryOf(Resolved()).has_value());
}

TEST(CanaryTest, PromotionKeepsOnlyTheCanaryAndItsPinnedModel) {
  const EndpointSpec spec = CanarySpecOf({20, 100});
  const EndpointSpec promoted = PromotedSpec(spec);
  ASSERT_EQ(promoted.variants.size(), 1u);
  EXPECT_EQ(promoted.variants[0].name, "new");
  EXPECT_FALSE(promoted.variants[0].canary.has_value());
  EXPECT_EQ(promoted.Canary(), nullptr);
  const json done = NarrowedTo(AtCanaryStep(Resolved(), spec, {"new", {20, 100}, 1, 0}), promoted);
  EXPECT_EQ(Weights(done), (std::map<std::string, double>{{"new", 1}}));
  EXPECT_EQ(done["models"], (json{{"new", "wine@3"}, {"s", "other@4"}}));  // the shadow stays
  EXPECT_EQ(done["aliases_seen"], (json{{"wine@production", 3}}));
  EXPECT_FALSE(done.contains("canary"));
}

TEST(CanaryTest, TheBaselineDropsTheCanaryAndItsAlias) {
  const EndpointSpec baseline = BaselineSpec(CanarySpecOf({20, 100}));
  ASSERT_EQ(baseline.variants.size(), 2u);
  const json back = NarrowedTo(Resolved(), baseline);
  EXPECT_EQ(Weights(back), (std::map<std::string, double>{{"a", 3}, {"b", 1}}));
  EXPECT_FALSE(back["models"].contains("new"));
  EXPECT_TRUE(back["aliases_seen"].empty());
}

TEST(CanaryTest, WaitsUntilBothSidesHaveServedTheMinimum) {
  CanarySpec rules;
  rules.min_requests = 100;
  const auto v = JudgeCanaryStep(rules, Served(99, 99, 0), Served(5000, 0, 0), kBounds, 10min);
  EXPECT_EQ(v.kind, CanaryVerdict::Kind::kWait);
  EXPECT_THAT(v.reason, HasSubstr("waiting for traffic: canary 99"));
  EXPECT_EQ(JudgeCanaryStep(rules, Served(500, 0, 0), Served(99, 0, 0), kBounds, 10min).kind,
            CanaryVerdict::Kind::kWait);
}

TEST(CanaryTest, FailsOnErrorRateAboveTheBaselinesPlusTheAllowance) {
  CanarySpec rules;
  rules.min_requests = 100;
  rules.max_error_rate_increase = 0.01;
  // 2% vs 0.5%: 1.5 points over.
  const auto v = JudgeCanaryStep(rules, Served(200, 4, 0), Served(1000, 5, 0), kBounds, 0ms);
  EXPECT_EQ(v.kind, CanaryVerdict::Kind::kFail);
  EXPECT_THAT(v.reason, HasSubstr("error rate 0.0200 vs baseline 0.0050 (allowed +0.0100)"));
  EXPECT_EQ(v.numbers["canary"]["errors"], 4);
  EXPECT_EQ(v.numbers["baseline"]["requests"], 1000);
  // 1.4% vs 0.5%: within the allowance.
  EXPECT_NE(JudgeCanaryStep(rules, Served(500, 7, 0), Served(1000, 5, 0), kBounds, 0ms).kind,
            CanaryVerdict::Kind::kFail);
}

TEST(CanaryTest, FailsOnP99AboveTheRatioButNeverBelowTheFloor) {
  CanarySpec rules;
  rules.min_requests = 10;
  rules.max_p99_ratio = 1.5;
  rules.p99_floor_ms = 5;
  // 10-100 ms against under 1 ms: too slow.
  const auto slow = JudgeCanaryStep(rules, Served(100, 0, 2), Served(100, 0, 0), kBounds, 0ms);
  EXPECT_EQ(slow.kind, CanaryVerdict::Kind::kFail);
  EXPECT_THAT(slow.reason, HasSubstr("p99 latency too high"));
  // 1-10 ms (p99 9.9 ms) against under 1 ms: 10x slower, yet under the 7.5 ms allowed? No: 9.9 > 5 * 1.5.
  EXPECT_EQ(JudgeCanaryStep(rules, Served(100, 0, 1), Served(100, 0, 0), kBounds, 0ms).kind,
            CanaryVerdict::Kind::kFail);
  rules.p99_floor_ms = 10;  // 9.9 ms < 10 * 1.5: within the floor's noise
  EXPECT_NE(JudgeCanaryStep(rules, Served(100, 0, 1), Served(100, 0, 0), kBounds, 0ms).kind,
            CanaryVerdict::Kind::kFail);
}

TEST(CanaryTest, PassesOnlyOnceTheStepHasLastedItsDuration) {
  CanarySpec rules;
  rules.min_requests = 10;
  rules.step_duration = 30s;
  const auto early = JudgeCanaryStep(rules, Served(100, 0, 0), Served(100, 0, 0), kBounds, 29s);
  EXPECT_EQ(early.kind, CanaryVerdict::Kind::kWait);
  EXPECT_THAT(early.reason, HasSubstr("healthy so far"));
  const auto done = JudgeCanaryStep(rules, Served(100, 0, 0), Served(100, 0, 0), kBounds, 30s);
  EXPECT_EQ(done.kind, CanaryVerdict::Kind::kPass);
  EXPECT_THAT(done.reason, HasSubstr("healthy: error rate 0.0000 vs baseline 0.0000"));
}

TEST(StepWindowTest, CountsEachReplicaFromWhenItWasFirstSeenAndIgnoresShadows) {
  const std::map<std::string, std::string> served = {{"new", "1"}, {"a", "1"}};
  StepWindow window(4, 0);
  window.Observe({{"t1", json::array({Metric("new", 10, 1), Metric("a", 50, 0), Metric("s", 60, 0, "shadow")})}},
                 served, "new");
  EXPECT_EQ(window.canary().requests, 0u);
  EXPECT_EQ(window.baseline().requests, 0u);
  window.Observe({{"t1", json::array({Metric("new", 15, 3), Metric("a", 80, 0), Metric("s", 95, 0, "shadow")})},
                  {"t2", json::array({Metric("new", 7, 0), Metric("a", 9, 0)})}},
                 served, "new");
  EXPECT_EQ(window.canary().requests, 5u);  // t2 counts from now on
  EXPECT_EQ(window.canary().errors, 2u);
  EXPECT_EQ(window.baseline().requests, 30u);
  window.Observe({{"t2", json::array({Metric("new", 10, 0), Metric("a", 19, 0)})}}, served, "new");  // t1 died
  EXPECT_EQ(window.canary().requests, 3u);
  EXPECT_EQ(window.baseline().requests, 10u);
}

TEST(StepWindowTest, CountsOnlyTheVersionsTheStepServes) {
  // The replica served `new` at version 2 before; the step serves version 3.
  StepWindow window(5, 0);
  const std::map<std::string, std::string> served = {{"new", "3"}, {"a", "1"}};
  window.Observe({{"t1", json::array({Metric("new", 5000, 0, "primary", "2"), Metric("new", 0, 0, "primary", "3"),
                                      Metric("a", 100, 0)})}},
                 served, "new");
  window.Observe({{"t1", json::array({Metric("new", 40, 40, "primary", "3"), Metric("a", 300, 0)})}}, served, "new");
  EXPECT_EQ(window.canary().requests, 40u);
  EXPECT_EQ(window.canary().errors, 40u);
  EXPECT_EQ(window.baseline().requests, 200u);
}

TEST(StepWindowTest, ServedVersionsReadsTheResolvedVariants) {
  EXPECT_EQ(ServedVersions(Resolved()), (std::map<std::string, std::string>{{"a", "a"}, {"b", "b"}, {"new", "new"}}));
}

TEST(TallyTest, QuantilesInterpolateWithinBuckets) {
  const Tally t{100, 0, {50, 50, 0, 0}};
  EXPECT_DOUBLE_EQ(QuantileMs(t.buckets, kBounds, 0.5), 1.0);
  EXPECT_DOUBLE_EQ(QuantileMs(t.buckets, kBounds, 0.75), 5.5);
  EXPECT_EQ(QuantileMs({0, 0, 0, 0}, kBounds, 0.99), 0);
}

}  // namespace
}  // namespace wharf::control
