#include "control/endpoint_spec.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace wharf::control {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

json Spec(json canary) {
  return {{"name", "wine"},
          {"variants", {{{"name", "stable"}, {"model", "wine@1"}}, {{"name", "next"}, {"model", "wine@2"}, {"canary", canary}}}}};
}

std::string ErrorOf(const json& body) {
  auto spec = ParseEndpointSpec(body);
  EXPECT_FALSE(spec.ok()) << body.dump();
  return spec.ok() ? "" : spec.status().message();
}

TEST(EndpointSpecTest, ACanaryHasDefaultsAndRoundTripsCanonically) {
  auto spec = ParseEndpointSpec(Spec(json::object()));
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  ASSERT_NE(spec->Canary(), nullptr);
  EXPECT_EQ(spec->Canary()->name, "next");
  EXPECT_EQ(spec->Canary()->canary->steps, (std::vector<double>{5, 25, 50, 100}));
  EXPECT_EQ(spec->Canary()->canary->min_requests, 100u);

  auto custom = ParseEndpointSpec(Spec({{"steps", {10, 100}},
                                        {"step_duration", "2s"},
                                        {"min_requests", 20},
                                        {"max_error_rate_increase", 0.05},
                                        {"max_p99_ratio", 2},
                                        {"p99_floor_ms", 1}}));
  ASSERT_TRUE(custom.ok()) << custom.status().ToString();
  const json canonical = EndpointSpecToJson(*custom);
  EXPECT_EQ(canonical["variants"][1]["canary"]["step_duration"], "2000ms");
  auto again = ParseEndpointSpec(canonical);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(EndpointSpecToJson(*again), canonical);
  EXPECT_FALSE(canonical["variants"][0].contains("canary"));
  EXPECT_FALSE(canonical.contains("follow_aliases"));  // the default is left out: older revisions keep their bytes
}

// Found by the table-driven route test under the sanitizer build: a missing
// required string was read through a const json's operator[] (undefined
// behaviour; an assertion that killed the server in a debug build).
TEST(EndpointSpecTest, MissingRequiredFieldsAreRefusedNamingThem) {
  EXPECT_THAT(ErrorOf(json::object()), HasSubstr("name: required"));
  EXPECT_THAT(ErrorOf({{"name", "wine"}, {"variants", {{{"model", "wine@1"}}}}}), HasSubstr("variants[0].name: required"));
  EXPECT_THAT(ErrorOf({{"name", "wine"}, {"variants", {{{"name", "a"}}}}}), HasSubstr("variants[0].model: required"));
  EXPECT_THAT(ErrorOf({{"name", "wine"}, {"variants", {{{"name", "a"}, {"model", "wine@1"}}}}, {"shadow", json::object()}}),
              HasSubstr("shadow.name: required"));
}

TEST(EndpointSpecTest, BadCanariesAreRefusedNamingTheField) {
  EXPECT_THAT(ErrorOf(Spec({{"steps", {5, 50}}})), HasSubstr("variants[1].canary.steps: the last step must be 100"));
  EXPECT_THAT(ErrorOf(Spec({{"steps", {50, 25, 100}}})), HasSubstr("variants[1].canary.steps[1]: 25 must be above"));
  EXPECT_THAT(ErrorOf(Spec({{"steps", {100}}})), HasSubstr("at least two percentages"));
  EXPECT_THAT(ErrorOf(Spec({{"steps", {0, 100}}})), HasSubstr("steps[0]"));
  EXPECT_THAT(ErrorOf(Spec({{"max_p99_ratio", 0.5}})), HasSubstr("canary.max_p99_ratio: must be a number >= 1"));
  EXPECT_THAT(ErrorOf(Spec({{"min_requests", 0}})), HasSubstr("canary.min_requests"));
  EXPECT_THAT(ErrorOf(Spec({{"every", "1s"}})), HasSubstr("canary.every: unknown field"));
  json two = Spec(json::object());
  two["variants"][0]["canary"] = json::object();
  EXPECT_THAT(ErrorOf(two), HasSubstr("one canary at a time"));
  json alone = {{"name", "wine"}, {"variants", {{{"name", "next"}, {"model", "wine@2"}, {"canary", json::object()}}}}};
  EXPECT_THAT(ErrorOf(alone), HasSubstr("needs a baseline"));
  json shadow = Spec(json::object());
  shadow["shadow"] = {{"name", "s"}, {"model", "wine@3"}, {"canary", json::object()}};
  EXPECT_THAT(ErrorOf(shadow), HasSubstr("shadow.canary: unknown field"));
}

TEST(EndpointSpecTest, FollowAliasesIsABoolean) {
  json spec = Spec(json::object());
  spec["follow_aliases"] = "no";
  EXPECT_THAT(ErrorOf(spec), HasSubstr("follow_aliases: must be true or false"));
  spec["follow_aliases"] = false;
  auto parsed = ParseEndpointSpec(spec);
  ASSERT_TRUE(parsed.ok());
  EXPECT_FALSE(parsed->follow_aliases);
  EXPECT_EQ(EndpointSpecToJson(*parsed)["follow_aliases"], false);
}

TEST(EndpointSpecTest, BatchingRoundTripsAndIsCheckedAndLeftOutWhenOff) {
  json spec = Spec(json::object());
  EXPECT_FALSE(EndpointSpecToJson(*ParseEndpointSpec(spec)).contains("batching"));
  spec["batching"] = {{"max_batch_size", 32}, {"max_queue_delay_us", 500}};
  auto parsed = ParseEndpointSpec(spec);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->max_batch_size, 32);
  EXPECT_EQ(EndpointSpecToJson(*parsed)["batching"], spec["batching"]);
  spec["batching"] = {{"max_batch_size", -2}};
  EXPECT_THAT(ErrorOf(spec), HasSubstr("batching.max_batch_size"));
  spec["batching"] = {{"size", 2}};
  EXPECT_THAT(ErrorOf(spec), HasSubstr("batching.size: unknown field"));
}

}  // namespace
}  // namespace wharf::control
