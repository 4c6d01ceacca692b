#include "store/location.h"

#include <gtest/gtest.h>

namespace wharf::store {
namespace {

TEST(CaptureLocationTest, ASqliteStoreKeepsItsCapturesInTheFileBesideIt) {
  EXPECT_EQ(CaptureLocation("/srv/wharf/wharf.db"), "/srv/wharf/wharf-captures.db");
  EXPECT_EQ(CaptureLocation("wharf.db"), "wharf-captures.db");
  EXPECT_EQ(CaptureLocation("data/store"), "data/store-captures");
  EXPECT_EQ(CaptureLocation("data/run.v2.sqlite"), "data/run.v2-captures.sqlite");
}

TEST(CaptureLocationTest, APostgresStoreKeepsThemInTheSameDatabase) {
  EXPECT_EQ(CaptureLocation("postgresql://wharf@127.0.0.1:5432/wharf"), "postgresql://wharf@127.0.0.1:5432/wharf");
  EXPECT_EQ(CaptureLocation("postgres://db/wharf?sslmode=require"), "postgres://db/wharf?sslmode=require");
}

}  // namespace
}  // namespace wharf::store
