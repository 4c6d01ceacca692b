// Secrets through a real `wharf server`: set over the API and with
// `wharf secret`, handed to a task as a variable and a 0600 file, gone
// afterwards, picked up anew by the next run, audited; and never in the
// server's output, an API answer, a task record or any file in its home.

#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "control_server_fixture.h"
#include "core/sha256.h"
#include "testing/postgres_server.h"
#include "testing/wine_sql.h"

namespace wharf::testing {
namespace {

using ::testing::HasSubstr;

std::string Sha(std::string_view text) {
  Sha256 hash;
  hash.Update(text);
  return hash.HexDigest();
}

// A value no test output would contain by chance.
std::string FreshValue(std::string_view prefix) {
  std::random_device random;
  return std::string(prefix) + "-" + std::to_string(random()) + std::to_string(random());
}

// Prints the SHA-256 of the variable and of the file it was given, and the file's mode.
const json kShowSecrets = {
    {"command",
     {"sh", "-c",
      "printf %s \"$PGPASSWORD\" | sha256sum; sha256sum < \"$WHARF_SECRETS_DIR/storage.json\"; "
      "stat -c %a \"$WHARF_SECRETS_DIR/storage.json\""}},
    {"secrets", {{"env", {{"PGPASSWORD", "pg-password"}}}, {"files", {{"storage.json", "storage-keys"}}}}}};

class SecretsTest : public ControlServerTest {
 protected:
  // Every regular file under the server's home that contains `needle`.
  std::vector<std::string> FilesContaining(const std::string& needle) {
    std::vector<std::string> found;
    for (const auto& entry : fs::recursive_directory_iterator(home_.path())) {
      if (!entry.is_regular_file()) continue;
      std::ifstream in(entry.path(), std::ios::binary);
      const std::string bytes(std::istreambuf_iterator<char>(in), {});
      if (bytes.find(needle) != std::string::npos) found.push_back(entry.path().string());
    }
    return found;
  }
};

TEST_F(SecretsTest, ATaskReceivesItsSecretsAndTheyLeakNowhere) {
  const std::string password = FreshValue("pw");
  const std::string keys = FreshValue("{\"key\": \"k") + "\"}";
  EXPECT_EQ(Call("PUT", "/api/secrets/pg-password", password).status, 201);
  const fs::path keys_file = home_.path() / "keys.json";  // as the tutorial keeps them: a file beside the notebook
  std::ofstream(keys_file) << keys;
  const ProcessResult set = RunWharf({"secret", "set", "storage-keys", "--from-file", keys_file.string(), "--home",
                                      home_.path().string(), "--store", (home_.path() / "wharf.db").string()});
  ASSERT_EQ(set.exit_code, 0) << set.err;
  fs::remove(keys_file);

  const auto tasks = Run("show-secrets", kShowSecrets);
  const std::string id = tasks[0]["id"];
  const json task = WaitFinal(id);
  ASSERT_EQ(task["state"], "SUCCEEDED") << task.dump() << Log(id, "stderr");
  EXPECT_EQ(Log(id), Sha(password) + "  -\n" + Sha(keys) + "  -\n600\n");
  EXPECT_FALSE(fs::exists(home_.path() / "runs" / id / "secrets.1")) << "the secrets outlived the task";

  const json audit = CallJson("GET", "/api/secrets/pg-password/audit", nullptr, 200);
  ASSERT_EQ(audit["accesses"].size(), 2u) << audit.dump();
  EXPECT_EQ(audit["accesses"][0]["action"], "read");
  EXPECT_EQ(audit["accesses"][0]["actor"], "task:" + id + " (attempt 1)");
  EXPECT_EQ(audit["accesses"][1]["action"], "set");
  const ProcessResult cli_audit = RunWharf({"secret", "audit", "storage-keys", "--home", home_.path().string(),
                                            "--store", (home_.path() / "wharf.db").string()});
  EXPECT_THAT(cli_audit.out, HasSubstr("task:" + id));
  EXPECT_THAT(cli_audit.out, HasSubstr("(wharf secret set)"));

  std::string answers;
  for (const std::string& path : std::vector<std::string>{"/api/secrets", "/api/secrets/pg-password", "/api/secret-accesses",
                                 "/api/tasks/" + id, "/api/tasks?limit=0", "/api/taskdefs/show-secrets",
                                 "/api/tasks/" + id + "/logs", "/api/tasks/" + id + "/logs?stream=stderr"}) {
    const HttpResult r = Call("GET", path);
    EXPECT_EQ(r.status, 200) << path;
    answers += r.body;
  }
  for (const std::string& value : {password, keys}) {
    EXPECT_EQ(answers.find(value), std::string::npos) << "an API answer shows a secret";
    EXPECT_EQ(server_->output().find(value), std::string::npos) << "the server's output shows a secret";
    EXPECT_EQ(set.out.find(value) + cli_audit.out.find(value), 2 * std::string::npos);
    EXPECT_THAT(FilesContaining(value), ::testing::IsEmpty()) << "a file in the home holds a secret in clear";
  }
}

TEST_F(SecretsTest, ASecretChangedBetweenRunsReachesTheNextRun) {
  EXPECT_EQ(Call("PUT", "/api/secrets/pg-password", "first").status, 201);
  EXPECT_EQ(Call("PUT", "/api/secrets/storage-keys", "{}").status, 201);
  const auto first = Run("show-secrets", kShowSecrets);
  ASSERT_EQ(WaitFinal(first[0]["id"])["state"], "SUCCEEDED");
  EXPECT_EQ(Call("PUT", "/api/secrets/pg-password", "").status, 400);
  const HttpResult second_set = Call("PUT", "/api/secrets/pg-password", "second");
  EXPECT_EQ(second_set.status, 200);
  EXPECT_EQ(json::parse(second_set.body)["version"], 2);
  const json run = CallJson("POST", "/api/runs", {{"taskdef", "show-secrets"}}, 201);
  const std::string second = run["tasks"][0]["id"];
  ASSERT_EQ(WaitFinal(second)["state"], "SUCCEEDED");
  EXPECT_THAT(Log(first[0]["id"]), ::testing::StartsWith(Sha("first")));
  EXPECT_THAT(Log(second), ::testing::StartsWith(Sha("second")));
}

TEST_F(SecretsTest, ATaskWhoseSecretIsMissingFailsNamingIt) {
  const auto tasks = Run("show-secrets", kShowSecrets);
  const json task = WaitFinal(tasks[0]["id"]);
  EXPECT_EQ(task["state"], "FAILED");
  EXPECT_THAT(task["reason"].get<std::string>(), HasSubstr("secret 'pg-password' not found"));
}

TEST_F(SecretsTest, ATrainingTaskReadsPostgresWithCredentialsFromASecret) {
  auto admin = NewPostgresDatabase();
  if (!admin.ok()) GTEST_SKIP() << "no PostgreSQL server: " << admin.status().ToString();
  const std::string role = "task_" + admin->substr(admin->rfind('/') + 1);
  ASSERT_TRUE(ExecPostgres(*admin, WineTableSql(WineDir() / "TrainingDataset.csv")).ok());
  ASSERT_TRUE(ExecPostgres(*admin, "CREATE ROLE " + role + " LOGIN PASSWORD 'Wh4rf-task'; GRANT SELECT ON wine TO " +
                                       role)
                  .ok());
  EXPECT_EQ(Call("PUT", "/api/secrets/warehouse", "Wh4rf-task").status, 201);
  const std::string host = admin->substr(admin->find('@') + 1);
  const json spec = {{"job", "train"},
                     {"model", "wine-pg"},
                     {"params",
                      {{"train", "postgresql://" + role + "@" + host + "?query=SELECT * FROM wine ORDER BY id"},
                       {"ignore", "id"},
                       {"hyperparameters", {{"num_parallel_tree", 20}}}}},
                     {"secrets", {{"env", {{"PGPASSWORD", "warehouse"}}}}}};
  const auto tasks = Run("wine-from-postgres", spec);
  const std::string id = tasks[0]["id"];
  const json task = WaitFinal(id, 300s);
  ASSERT_EQ(task["state"], "SUCCEEDED") << task.dump() << Log(id, "stderr");
  EXPECT_EQ(task["reason"], "registered model wine-pg version 1");
  const json model = CallJson("GET", "/api/models/wine-pg", nullptr, 200);
  EXPECT_EQ(model["versions"][0]["metrics"]["train"]["rows"], 1279) << model.dump();
  const json audit = CallJson("GET", "/api/secrets/warehouse/audit", nullptr, 200);
  EXPECT_EQ(audit["accesses"][0]["actor"], "task:" + id + " (attempt 1)");
  EXPECT_THAT(FilesContaining("Wh4rf-task"), ::testing::IsEmpty());
}

TEST_F(SecretsTest, SecretRoutesNeedTheTokenAndValidNames) {
  EXPECT_EQ(http_->Request("PUT", "/api/secrets/x", "v").status, 401);
  EXPECT_EQ(http_->Request("GET", "/api/secrets").status, 401);
  EXPECT_EQ(http_->Request("GET", "/api/secret-accesses").status, 401);
  EXPECT_EQ(Call("PUT", "/api/secrets/..", "v").status, 400);
  EXPECT_EQ(Call("PUT", "/api/secrets/big", std::string(64 * 1024 + 1, 'x')).status, 400);
  EXPECT_EQ(Call("DELETE", "/api/secrets/absent").status, 404);
  EXPECT_EQ(Call("GET", "/api/secrets/absent").status, 404);
}

}  // namespace
}  // namespace wharf::testing
