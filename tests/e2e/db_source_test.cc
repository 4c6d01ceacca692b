// Training and predicting from database tables as a user does: the wine
// rows in SQLite and in a real PostgreSQL (scripts/pg-up), read by query
// (`wharf train --train "sqlite:///...?query=..."`), give the same model as
// the CSV they came from; PostgreSQL credentials come from a secret;
// predictions are written back to a table; bad locations and queries are
// clear errors.

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "testing/postgres_server.h"
#include "testing/process.h"
#include "testing/temp_dir.h"
#include "testing/wine_sql.h"

namespace wharf {
namespace {

namespace fs = std::filesystem;
using testing::ProcessResult;
using testing::ReadFile;
using testing::RunProcess;
using testing::RunWharf;
using testing::TempDir;
using testing::WineDir;
using testing::WineTableSql;

class DatabaseSourceTest : public ::testing::Test {
 protected:
  // Trains on `train` (a CSV or a location) and returns the predictions of
  // the model on the validation CSV, with probabilities.
  std::string TrainAndPredict(const std::string& train, const std::string& name,
                              const std::vector<std::string>& more = {}) {
    const fs::path out = dir_.path() / name;
    std::vector<std::string> args = {"train", "--train", train, "--validation", Validation(), "--out", out.string()};
    args.insert(args.end(), more.begin(), more.end());
    const ProcessResult trained = RunWharf(args);
    EXPECT_EQ(trained.exit_code, 0) << trained.err;
    const fs::path predictions = dir_.path() / (name + ".csv");
    const ProcessResult predicted = RunWharf({"predict", "--model", (out / "Modelfile").string(), "--input",
                                              Validation(), "--output", predictions.string(), "--proba"});
    EXPECT_EQ(predicted.exit_code, 0) << predicted.err;
    return ReadFile(predictions);
  }

  static std::string Validation() { return (WineDir() / "ValidationDataset.csv").string(); }
  static std::string Training() { return (WineDir() / "TrainingDataset.csv").string(); }

  TempDir dir_;
};

TEST_F(DatabaseSourceTest, ASqliteQueryTrainsTheSameModelAsTheCsvOfItsRows) {
  const fs::path db = dir_.path() / "wine.db";
  const ProcessResult loaded = RunProcess({"sqlite3", db.string(), WineTableSql(Training())});
  ASSERT_EQ(loaded.exit_code, 0) << loaded.err;

  const std::string from_csv = TrainAndPredict(Training(), "csv");
  const std::string from_db =
      TrainAndPredict("sqlite://" + db.string() + "?query=SELECT * FROM wine ORDER BY id", "db", {"--ignore", "id"});
  ASSERT_FALSE(from_csv.empty());
  EXPECT_EQ(from_db, from_csv);
  const std::string report = ReadFile(dir_.path() / "db" / "results.txt");
  EXPECT_NE(report.find("(1279 rows, sha256 "), std::string::npos) << report;
}

TEST_F(DatabaseSourceTest, PredictionsAreWrittenBackToANewTableOnlyOnce) {
  const fs::path db = dir_.path() / "wine.db";
  ASSERT_EQ(RunProcess({"sqlite3", db.string(), WineTableSql(Training())}).exit_code, 0);
  TrainAndPredict(Training(), "csv");
  const std::string table = "sqlite://" + db.string() + "?table=predictions";
  const std::vector<std::string> predict = {"predict",  "--model", (dir_.path() / "csv" / "Modelfile").string(),
                                            "--input",  "sqlite://" + db.string() + "?query=SELECT * FROM wine",
                                            "--output", table,     "--top-k", "2"};
  const ProcessResult first = RunWharf(predict);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_NE(first.out.find("Weighted F1 score"), std::string::npos);  // the query has the label: scored
  const ProcessResult rows = RunProcess({"sqlite3", db.string(),
                                         "SELECT COUNT(*), MIN(row), MAX(row), typeof(top1_proba) FROM predictions"});
  EXPECT_EQ(rows.out, "1279|1|1279|real\n");

  const ProcessResult again = RunWharf(predict);  // the table exists: refused, untouched
  EXPECT_EQ(again.exit_code, 2);
  EXPECT_NE(again.err.find("the table exists; add if_exists=replace or if_exists=append"), std::string::npos)
      << again.err;
  std::vector<std::string> append = predict;
  append[6] += "&if_exists=append";
  ASSERT_EQ(RunWharf(append).exit_code, 0);
  EXPECT_EQ(RunProcess({"sqlite3", db.string(), "SELECT COUNT(*) FROM predictions"}).out, "2558\n");
}

TEST_F(DatabaseSourceTest, BadLocationsAndQueriesAreClearErrors) {
  const fs::path db = dir_.path() / "wine.db";
  ASSERT_EQ(RunProcess({"sqlite3", db.string(), WineTableSql(Training())}).exit_code, 0);
  const auto fails = [&](const std::string& train, const std::string& message) {
    const ProcessResult r = RunWharf({"train", "--train", train, "--out", (dir_.path() / "x").string()});
    EXPECT_EQ(r.exit_code, 2) << train;
    EXPECT_NE(r.err.find(message), std::string::npos) << train << ": " << r.err;
  };
  const std::string sqlite = "sqlite://" + db.string();
  fails(sqlite + "?query=SELECT * FROM nope", "the query failed: no such table: nope");
  fails(sqlite + "?query=DELETE FROM wine", "the query must only read");
  fails(sqlite + "?query=SELECT 1; SELECT 2", "the query must be one statement");
  fails(sqlite + "?query=SELECT 'x' AS a, quality FROM wine", "row 1, column 'a': expected a number, got \"x\"");
  fails(sqlite + "?query=SELECT density FROM wine", "label column 'quality' not found");
  fails(sqlite, "no query; add ?query=SELECT ...");
  fails(sqlite + "?sort=1&query=SELECT 1", "unknown parameter 'sort'");
  fails("postgresql://u:hunter2@127.0.0.1/db?query=SELECT 1", "a password in the URL would show");
  EXPECT_EQ(RunProcess({"sqlite3", db.string(), "SELECT COUNT(*) FROM wine"}).out, "1279\n");  // nothing changed
}

class PostgresSourceTest : public DatabaseSourceTest {
 protected:
  void SetUp() override {
    auto url = testing::NewPostgresDatabase();
    if (!url.ok()) GTEST_SKIP() << "no PostgreSQL server: " << url.status().ToString();
    admin_url_ = *url;
    database_ = admin_url_.substr(admin_url_.rfind('/') + 1);
    role_ = "trainer_" + database_;  // roles are the cluster's: one per test database
    ASSERT_TRUE(testing::ExecPostgres(admin_url_, WineTableSql(Training())).ok());
    ASSERT_TRUE(testing::ExecPostgres(admin_url_, "CREATE ROLE " + role_ + " LOGIN PASSWORD 'Tr41n-me'; GRANT SELECT "
                                                  "ON wine TO " + role_ + "; GRANT CREATE ON SCHEMA public TO " + role_)
                    .ok());
    // `wharf` finds its secret store through these, as a user's shell would.
    ASSERT_EQ(::setenv("WHARF_HOME", (dir_.path() / "home").c_str(), 1), 0);
    ASSERT_EQ(::setenv("WHARF_STORE", (dir_.path() / "home" / "wharf.db").c_str(), 1), 0);
  }

  void TearDown() override {
    ::unsetenv("WHARF_HOME");
    ::unsetenv("WHARF_STORE");
  }

  void SetSecret(const std::string& value) {
    const fs::path file = dir_.path() / "secret";
    std::ofstream(file) << value;
    const ProcessResult set = RunWharf({"secret", "set", "pg-password", "--from-file", file.string()});
    ASSERT_EQ(set.exit_code, 0) << set.err;
    fs::remove(file);
  }

  // The trainer role's URL (no password), with `parameters`.
  std::string Location(const std::string& parameters) const {
    const std::string host = admin_url_.substr(admin_url_.find('@') + 1);
    return "postgresql://" + role_ + "@" + host + "?password_secret=pg-password&" + parameters;
  }

  std::string admin_url_, database_, role_;
};

TEST_F(PostgresSourceTest, AQueryWithCredentialsFromASecretTrainsTheSameModelAsTheCsv) {
  SetSecret("Tr41n-me");
  const std::string from_csv = TrainAndPredict(Training(), "csv");
  const std::string from_db =
      TrainAndPredict(Location("query=SELECT * FROM wine ORDER BY id"), "pg", {"--ignore", "id"});
  ASSERT_FALSE(from_csv.empty());
  EXPECT_EQ(from_db, from_csv);

  const ProcessResult audit = RunWharf({"secret", "audit", "pg-password"});
  EXPECT_NE(audit.out.find("(wharf train)"), std::string::npos) << audit.out;
  EXPECT_EQ(audit.out.find("Tr41n-me"), std::string::npos);
  EXPECT_EQ(ReadFile(dir_.path() / "pg" / "results.txt").find("Tr41n-me"), std::string::npos);
}

TEST_F(PostgresSourceTest, PredictionsGoBackToAPostgresTable) {
  SetSecret("Tr41n-me");
  TrainAndPredict(Training(), "csv");
  const ProcessResult predicted =
      RunWharf({"predict", "--model", (dir_.path() / "csv" / "Modelfile").string(), "--input", Validation(),
                "--output", Location("table=predictions"), "--proba"});
  ASSERT_EQ(predicted.exit_code, 0) << predicted.err;
  auto rows = testing::QueryPostgres(admin_url_, "SELECT COUNT(*), MAX(row) FROM predictions");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ((*rows)[0], (std::vector<std::string>{"160", "160"}));
}

TEST_F(PostgresSourceTest, AWrongPasswordOrAMissingSecretIsAClearError) {
  SetSecret("wrong");
  const std::string location = Location("query=SELECT * FROM wine");
  ProcessResult r = RunWharf({"train", "--train", location, "--ignore", "id", "--out", (dir_.path() / "x").string()});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("password authentication failed for user \"" + role_ + "\""), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("wrong"), std::string::npos) << r.err;
  ASSERT_EQ(RunWharf({"secret", "rm", "pg-password"}).exit_code, 0);
  r = RunWharf({"train", "--train", location, "--ignore", "id", "--out", (dir_.path() / "x").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("secret 'pg-password' not found"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace wharf
