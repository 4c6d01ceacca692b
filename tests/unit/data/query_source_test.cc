// Database locations: how a URL names a file or server, a query and a table.

#include "data/query_source.h"

#include <gtest/gtest.h>

namespace wharf::data {
namespace {

TEST(QueryLocationTest, ASqliteUrlNamesAFileAndTakesTheQueryVerbatim) {
  auto abs = ParseQueryLocation("sqlite:///data/wine.db?query=SELECT a, b FROM t WHERE n LIKE '%ab%' AND x = 'a&b'");
  ASSERT_TRUE(abs.ok()) << abs.status().ToString();
  EXPECT_EQ(abs->engine, QueryLocation::Engine::kSqlite);
  EXPECT_EQ(abs->target, "/data/wine.db");
  EXPECT_EQ(abs->query, "SELECT a, b FROM t WHERE n LIKE '%ab%' AND x = 'a&b'");
  auto relative = ParseQueryLocation("sqlite://data/my%20wine+red.db?table=preds&if_exists=append");
  ASSERT_TRUE(relative.ok());
  EXPECT_EQ(relative->target, "data/my wine+red.db");
  EXPECT_EQ(relative->table, "preds");
  EXPECT_EQ(relative->if_exists, "append");
  EXPECT_TRUE(relative->query.empty());
}

TEST(QueryLocationTest, APostgresUrlKeepsLibpqParametersAndTakesOffWharfs) {
  auto pg = ParseQueryLocation(
      "postgresql://reader@db.example:5432/warehouse?sslmode=require&password_secret=pg&query=SELECT 1");
  ASSERT_TRUE(pg.ok()) << pg.status().ToString();
  EXPECT_EQ(pg->engine, QueryLocation::Engine::kPostgres);
  EXPECT_EQ(pg->target, "postgresql://reader@db.example:5432/warehouse?sslmode=require");
  EXPECT_EQ(pg->password_secret, "pg");
  EXPECT_EQ(pg->query, "SELECT 1");
  EXPECT_EQ(pg->Display(), "postgresql://reader@db.example:5432/warehouse?sslmode=require (query: SELECT 1)");
  EXPECT_TRUE(IsQueryLocation("postgres://x/y"));
  EXPECT_FALSE(IsQueryLocation("/data/wine.csv"));
}

TEST(QueryLocationTest, PasswordsInTheUrlAndUnknownOrRepeatedParametersAreRefused) {
  const auto error = [](std::string_view location) { return ParseQueryLocation(location).status(); };
  EXPECT_NE(error("postgresql://u:hunter2@h/db?query=SELECT 1").message().find("password_secret"), std::string::npos);
  EXPECT_EQ(error("postgresql://u:hunter2@h/db?query=SELECT 1").message().find("hunter2"), std::string::npos);
  EXPECT_EQ(error("postgresql://u@h/db?password=x&query=SELECT 1").code(), StatusCode::kInvalidArgument);
  EXPECT_NE(error("sqlite:///a.db?limit=3&query=SELECT 1").message().find("unknown parameter 'limit'"),
            std::string::npos);
  EXPECT_NE(error("sqlite:///a.db?table=a&table=b").message().find("given twice"), std::string::npos);
  EXPECT_NE(error("sqlite:///a.db?table=1bad").message().find("table '1bad'"), std::string::npos);
  EXPECT_NE(error("sqlite:///a.db?table=t&if_exists=merge").message().find("if_exists"), std::string::npos);
  EXPECT_NE(error("sqlite://?query=SELECT 1").message().find("no database file"), std::string::npos);
}

}  // namespace
}  // namespace wharf::data
