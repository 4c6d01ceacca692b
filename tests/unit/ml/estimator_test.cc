#include "ml/estimator.h"

#include <gtest/gtest.h>

namespace wharf::ml {
namespace {

TEST(EstimatorTest, UnknownKindListsTheKnownOnes) {
  auto family = FindFamily("xgb");
  ASSERT_FALSE(family.ok());
  EXPECT_EQ(family.status().message(), "unknown estimator 'xgb'; known: logistic, ordinal-logistic, xgboost, rf");
}

TEST(EstimatorTest, UnknownParameterIsRejectedWithTheKnownOnes) {
  auto family = FindFamily("logistic");
  ASSERT_TRUE(family.ok());
  auto params = ResolveParams(**family, {{"max_depth", 3}});
  ASSERT_FALSE(params.ok());
  EXPECT_NE(params.status().message().find("known: C, max_iter"), std::string::npos);
}

TEST(EstimatorTest, OverridesReplaceDefaults) {
  auto family = FindFamily("xgboost");
  ASSERT_TRUE(family.ok());
  auto params = ResolveParams(**family, {{"max_depth", 7}});
  ASSERT_TRUE(params.ok());
  EXPECT_EQ(params->at("max_depth"), 7);
  EXPECT_EQ(params->at("eta"), (*family)->defaults.at("eta"));
}

TEST(EstimatorTest, EverySearchSpaceNamesOnlyKnownParameters) {
  for (const auto& family : Families()) {
    for (const auto& range : family.space) {
      EXPECT_TRUE(family.defaults.count(range.name)) << family.kind << " " << range.name;
    }
  }
}

}  // namespace
}  // namespace wharf::ml
