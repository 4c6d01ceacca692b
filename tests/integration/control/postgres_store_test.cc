// The control plane and the model server on a PostgreSQL store: the same
// flows as on SQLite, with the rows landing in a real PostgreSQL that
// scripts/pg-up started for this test process.

#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "testing/http_client.h"
#include "testing/postgres_server.h"
#include "testing/process.h"
#include "testing/server_process.h"
#include "testing/temp_dir.h"
#include "testing/wait.h"

namespace wharf::testing {
namespace {

using nlohmann::json;

std::string Trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  return s;
}

class PostgresStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // `wharf model register` keeps Modelfiles under $WHARF_HOME/models: this
    // test's home, not ~/.wharf, which every PostgreSQL test's version 1 would share.
    ::setenv("WHARF_HOME", home_.path().c_str(), 1);
    Result<std::string> url = NewPostgresDatabase();
    if (!url.ok()) GTEST_SKIP() << "no PostgreSQL here: " << url.status().message();
    url_ = *url;
  }

  std::string url_;
  TempDir home_;
};

TEST_F(PostgresStoreTest, TheServerKeepsDefinitionsTasksAndModelsInPostgres) {
  ServerProcess server({"server", "--home", home_.path().string(), "--store", url_, "--port", "0", "--cpus", "2"});
  ASSERT_TRUE(server.started()) << server.output();
  EXPECT_NE(server.output().find("store postgresql://"), std::string::npos) << server.output();
  const std::string token = Trim(ReadFile(home_.path() / "server.token"));
  HttpClient http(server.port());
  const std::map<std::string, std::string> auth = {{"Authorization", "Bearer " + token}};

  const json def = {{"name", "hello"}, {"command", {"sh", "-c", "echo $WHARF_STORE"}}};
  ASSERT_EQ(http.Request("POST", "/api/taskdefs", def.dump(), auth).status, 201);
  const HttpResult run = http.Request("POST", "/api/runs", R"({"taskdef": "hello"})", auth);
  ASSERT_EQ(run.status, 201) << run.body;
  const std::string id = json::parse(run.body)["tasks"][0]["id"];
  json task = WaitFor([&] { return json::parse(http.Request("GET", "/api/tasks/" + id, "", auth).body); },
                      [](const json& t) {
                        const std::string state = t.value("state", "");
                        return state == "SUCCEEDED" || state == "FAILED";
                      });
  EXPECT_EQ(task["state"], "SUCCEEDED") << task.dump();
  const json logs = json::parse(http.Request("GET", "/api/tasks/" + id + "/logs", "", auth).body);
  EXPECT_EQ(logs["data"], url_ + "\n") << "a task sees the server's store, for jobs that capture into it";

  // The rows are in PostgreSQL, not in a SQLite file under the home.
  auto rows = QueryPostgres(url_, "SELECT state, definition FROM tasks");
  ASSERT_TRUE(rows.ok()) << rows.status().message();
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0][0], "SUCCEEDED");
  EXPECT_EQ((*rows)[0][1], "hello");
  EXPECT_FALSE(std::filesystem::exists(home_.path() / "wharf.db"));
}

TEST_F(PostgresStoreTest, ModelsRegisteredAndServedWithCapturesInPostgres) {
  TempDir work;
  const ProcessResult trained = RunWharf({"train", "--train", (WineDir() / "TrainingDataset.csv").string(),
                                          "--estimator", "logistic", "--out", work.path().string()});
  ASSERT_EQ(trained.exit_code, 0) << trained.err;
  const ProcessResult registered = RunWharf({"model", "register", "wine", (work.path() / "Modelfile").string(),
                                             "--alias", "production", "--store", url_});
  ASSERT_EQ(registered.exit_code, 0) << registered.err;
  const ProcessResult listed = RunWharf({"model", "list", "--store", url_, "--json"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_EQ(json::parse(listed.out)[0]["name"], "wine");

  {
    ServerProcess serve({"serve", "--model", "wine=model:wine@production", "--store", url_, "--capture", "durable",
                         "--port", "0"});
    ASSERT_TRUE(serve.started()) << serve.output();
    HttpClient client(serve.port());
    const std::string body =
        R"({"id": "pg-1", "inputs": [{"name": "x", "shape": [1, 11], "datatype": "FP32",)"
        R"( "data": [7.4, 0.7, 0, 1.9, 0.076, 11, 34, 0.9978, 3.51, 0.56, 9.4]}]})";
    const HttpResult answer = client.Post("/v2/models/wine/infer", body);
    ASSERT_EQ(answer.status, 200) << answer.body;
  }  // durable: acknowledged means committed
  const ProcessResult shown = RunWharf({"capture", "show", "--endpoint", "wine", "--id", "pg-1", "--store", url_});
  EXPECT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_NE(shown.out.find("pg-1"), std::string::npos) << shown.out;
  auto rows = QueryPostgres(url_, "SELECT count(*) FROM captures WHERE id = 'pg-1'");
  ASSERT_TRUE(rows.ok()) << rows.status().message();
  EXPECT_EQ((*rows)[0][0], "1");
}

}  // namespace
}  // namespace wharf::testing
