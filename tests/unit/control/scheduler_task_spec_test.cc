// What the scheduler hands the executor (environment, argv, resolved
// references) and what it checks when a task ends (outputs, models).
#include "control/scheduler.h"

#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "artifact/modelfile.h"
#include "secret/secret_store.h"
#include "scheduler_fixture.h"

namespace wharf::control {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using std::chrono::milliseconds;
using store::TaskRecord;
using store::TaskState;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Key;
using ::testing::Not;
using ::testing::StartsWith;

TEST_F(SchedulerTest, GivesATaskOnlyItsOwnEnvironment) {
  ASSERT_EQ(setenv("WHARF_SCHEDULER_TEST_LEAK", "secret", 1), 0);
  ASSERT_TRUE(artifacts_->Put("wine/train.csv", "a,b\n1,2\n").ok());
  StartScheduler();
  const std::string id = Create({{"command", {"x"}},
                                 {"env", {{"GREETING", "hi"}}},
                                 {"inputs", {{"train", "wine/train.csv"}}},
                                 {"resources", {{"cpus", 0.5}, {"memory", "64MiB"}}},
                                 {"timeout", "30s"}})[0];
  WaitForRunning(id);
  unsetenv("WHARF_SCHEDULER_TEST_LEAK");
  const exec::TaskSpec spec = executor_.spec(0);
  const fs::path out = artifacts_->root() / "tasks" / id;

  EXPECT_EQ(spec.env.at("WHARF_TASK_ID"), id);
  EXPECT_EQ(spec.env.at("WHARF_ATTEMPT"), "1");
  EXPECT_EQ(spec.env.at("WHARF_OUTPUT_DIR"), out.string());
  EXPECT_EQ(spec.env.at("WHARF_HOME"), (dir_.path() / "home").string());
  EXPECT_EQ(spec.env.at("WHARF_INPUT_TRAIN"), (artifacts_->root() / "wine" / "train.csv").string());
  EXPECT_EQ(spec.env.at("GREETING"), "hi");
  EXPECT_EQ(spec.env.at("PATH"), "/usr/local/bin:/usr/bin:/bin");
  EXPECT_THAT(spec.env, Not(Contains(Key("WHARF_SCHEDULER_TEST_LEAK"))));
  for (const auto& [name, value] : spec.env) {
    EXPECT_TRUE(name == "PATH" || name == "HOME" || name == "GREETING" || name.starts_with("WHARF_")) << name;
  }
  EXPECT_EQ(spec.work_dir, out);
  EXPECT_TRUE(fs::is_directory(out));
  EXPECT_EQ(spec.resources.cpus, 0.5);
  EXPECT_EQ(spec.resources.memory_bytes, 64u << 20);
  EXPECT_EQ(spec.timeout, milliseconds(30'000));
}

TEST_F(SchedulerTest, ExpandsEnvironmentReferencesInTheCommand) {
  StartScheduler();
  const std::string id =
      Create({{"command", {"tool", "--id=$(WHARF_TASK_ID)", "$(GREETING)", "$(NOPE)", "$$(WHARF_TASK_ID)", "a;b|c"}},
              {"env", {{"GREETING", "hello world"}}}})[0];
  WaitForRunning(id);
  EXPECT_THAT(executor_.spec(0).argv,
              ElementsAre("tool", "--id=" + id, "hello world", "$(NOPE)", "$(WHARF_TASK_ID)", "a;b|c"));
}

TEST_F(SchedulerTest, EachTaskOfARunKnowsItsShard) {
  StartScheduler();
  const auto ids = Create({{"command", {"featurize", "--shard", "$(WHARF_TASK_INDEX)/$(WHARF_TASK_COUNT)"}},
                           {"resources", {{"cpus", 0.5}}}},
                          3);
  for (const auto& id : ids) WaitForRunning(id);
  std::vector<std::string> shards;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const exec::TaskSpec spec = executor_.spec(i);
    shards.push_back(spec.argv.at(2));
    EXPECT_EQ(spec.env.at("WHARF_TASK_INDEX") + "/" + spec.env.at("WHARF_TASK_COUNT"), spec.argv.at(2));
  }
  std::sort(shards.begin(), shards.end());
  EXPECT_THAT(shards, ElementsAre("0/3", "1/3", "2/3"));
}

// The secret store the scheduler reads: the fixture's store and home.
secret::OpenedSecretStore Secrets(const fs::path& db, const fs::path& home) {
  auto opened = secret::OpenSecretStore(db.string(), secret::KeyFile(home));
  EXPECT_TRUE(opened.ok()) << opened.status().ToString();
  return opened.ok() ? std::move(opened).value() : secret::OpenedSecretStore{};
}

TEST_F(SchedulerTest, HandsSecretsOverInPrivateFilesNeverInTheSpec) {
  auto secrets = Secrets(db_path(), dir_.path() / "home");
  ASSERT_TRUE(secrets.secrets->Set("pg", "hunter2", "user:test").ok());
  ASSERT_TRUE(secrets.secrets->Set("keys", R"({"key": "abc"})", "user:test").ok());
  StartScheduler();
  const std::string id = Create({{"command", {"psql", "$(PGPASSWORD)"}},
                                 {"secrets", {{"env", {{"PGPASSWORD", "pg"}}}, {"files", {{"k.json", "keys"}}}}}})[0];
  WaitForRunning(id);
  const exec::TaskSpec spec = executor_.spec(0);
  EXPECT_THAT(spec.argv, ElementsAre("psql", "$(PGPASSWORD)"));  // never expanded into the argv
  EXPECT_THAT(spec.env, Not(Contains(Key("PGPASSWORD"))));
  const fs::path env_file = spec.env_files.at("PGPASSWORD");
  std::ifstream in(env_file);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), "hunter2");
  EXPECT_EQ(fs::status(env_file).permissions(), fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_EQ(fs::status(spec.secrets_dir).permissions(), fs::perms::owner_all);
  const fs::path file = fs::path(spec.env.at("WHARF_SECRETS_DIR")) / "k.json";
  std::ifstream keys(file);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(keys), {}), R"({"key": "abc"})");
  EXPECT_EQ(Get(id).spec_json.find("hunter2"), std::string::npos);

  auto audit = secrets.secrets->Audit("pg", 0);
  ASSERT_TRUE(audit.ok());
  EXPECT_EQ(audit->front().action, "read");
  EXPECT_EQ(audit->front().actor, "task:" + id + " (attempt 1)");

  executor_.Succeed(HandleOf(id, 1));
  WaitForState(id, TaskState::kSucceeded);
  EXPECT_FALSE(fs::exists(spec.secrets_dir));
}

TEST_F(SchedulerTest, ASecretChangedBetweenRunsReachesTheNextTask) {
  auto secrets = Secrets(db_path(), dir_.path() / "home");
  ASSERT_TRUE(secrets.secrets->Set("pg", "old", "user:test").ok());
  StartScheduler();
  const json definition = {{"command", {"x"}}, {"secrets", {{"env", {{"PGPASSWORD", "pg"}}}}}};
  const std::string first = Create(definition)[0];
  WaitForRunning(first);
  std::ifstream old_value(executor_.spec(0).env_files.at("PGPASSWORD"));
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(old_value), {}), "old");
  ASSERT_TRUE(secrets.secrets->Set("pg", "new", "user:test").ok());
  const std::string second = Create(definition)[0];
  WaitForRunning(second);
  std::ifstream new_value(executor_.spec(1).env_files.at("PGPASSWORD"));
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(new_value), {}), "new");
}

TEST_F(SchedulerTest, FailsATaskWhoseSecretIsMissingNamingItButNoValue) {
  StartScheduler();
  const std::string id = Create({{"command", {"x"}}, {"secrets", {{"files", {{"k.json", "absent"}}}}}})[0];
  const TaskRecord task = WaitForState(id, TaskState::kFailed);
  EXPECT_THAT(task.reason, HasSubstr("secrets.files.k.json: secret 'absent' not found"));
  EXPECT_EQ(executor_.submitted(), 0u);
}

TEST_F(SchedulerTest, FailsATaskWhoseInputArtifactIsMissing) {
  StartScheduler();
  const std::string id = Create({{"command", {"x"}}, {"inputs", {{"train", "wine/absent.csv"}}}})[0];
  const TaskRecord task = WaitForState(id, TaskState::kFailed);
  EXPECT_THAT(task.reason, HasSubstr("wine/absent.csv"));
  EXPECT_EQ(executor_.submitted(), 0u);
}

TEST_F(SchedulerTest, SucceedsWhenEveryDeclaredOutputIsWritten) {
  StartScheduler();
  const std::string id = Create({{"command", {"x"}}, {"outputs", {"result.json", "model.bin"}}})[0];
  WaitForRunning(id);
  const fs::path out = executor_.spec(0).env.at("WHARF_OUTPUT_DIR");
  std::ofstream(out / "result.json") << "{}";
  std::ofstream(out / "model.bin") << "m";
  executor_.Succeed(HandleOf(id, 1));
  WaitForState(id, TaskState::kSucceeded);
}

TEST_F(SchedulerTest, FailsATaskThatDidNotWriteADeclaredOutput) {
  StartScheduler();
  const std::string id = Create({{"command", {"x"}}, {"outputs", {"result.json", "model.bin"}}})[0];
  WaitForRunning(id);
  std::ofstream(fs::path(executor_.spec(0).env.at("WHARF_OUTPUT_DIR")) / "result.json") << "{}";
  executor_.Succeed(HandleOf(id, 1));
  const TaskRecord task = WaitForState(id, TaskState::kFailed);
  EXPECT_THAT(task.reason, HasSubstr("'model.bin'"));
  EXPECT_THAT(task.reason, Not(HasSubstr("result.json")));
}

class SchedulerJobTest : public SchedulerTest {
 protected:
  void SetUp() override {
    SchedulerTest::SetUp();
    JobType train;
    train.name = "train";
    train.params = {{"train", true, ""}, {"seed", false, ""}};
    train.produces_model = true;
    train.argv = [](const json& params, const JobContext& context) -> Result<std::vector<std::string>> {
      std::vector<std::string> argv = {context.wharf_executable.string(), "train", "--train",
                                       params["train"].get<std::string>(), "--out", context.output_dir.string(),
                                       "--threads", std::to_string(static_cast<int>(context.cpus))};
      if (params.contains("seed")) argv.push_back("--seed=" + params["seed"].dump());
      return argv;
    };
    ASSERT_TRUE(jobs_.Add(std::move(train)).ok());
    ASSERT_TRUE(artifacts_->Put("wine/train.csv", "a,b\n1,2\n").ok());
  }

  void WriteModelfile(const fs::path& out) {
    artifact::Modelfile file;
    file.header = {{"estimator", {{"kind", "logistic"}}}, {"metrics", {{"accuracy", 0.9}}}};
    ASSERT_TRUE(artifact::WriteModelfile(file, out / "Modelfile").ok());
  }
};

TEST_F(SchedulerJobTest, RunsAJobWithItsArtifactReferencesResolved) {
  StartScheduler();
  const std::string id = Create({{"job", "train"},
                                 {"params", {{"train", "artifact:wine/train.csv"}, {"seed", 7}}},
                                 {"resources", {{"cpus", 2}}}})[0];
  WaitForRunning(id);
  const fs::path out = artifacts_->root() / "tasks" / id;
  EXPECT_THAT(executor_.spec(0).argv,
              ElementsAre("/opt/wharf/bin/wharf", "train", "--train", (artifacts_->root() / "wine/train.csv").string(),
                          "--out", out.string(), "--threads", "2", "--seed=7"));
}

TEST_F(SchedulerJobTest, RegistersTheModelATrainingTaskProduced) {
  StartScheduler();
  const std::string id =
      Create({{"job", "train"}, {"params", {{"train", "artifact:wine/train.csv"}}}, {"model", "wine"}})[0];
  WaitForRunning(id);
  WriteModelfile(executor_.spec(0).env.at("WHARF_OUTPUT_DIR"));
  executor_.Succeed(HandleOf(id, 1));
  const TaskRecord task = WaitForState(id, TaskState::kSucceeded);
  EXPECT_EQ(task.reason, "registered model wine version 1");

  auto versions = store_->ListModelVersions("wine");
  ASSERT_TRUE(versions.ok()) << versions.status().ToString();
  ASSERT_EQ(versions->size(), 1u);
  EXPECT_EQ(fs::path(versions->at(0).modelfile_path), dir_.path() / "models" / "wine" / "1" / "Modelfile");
  EXPECT_TRUE(artifact::ReadModelfile(versions->at(0).modelfile_path).ok());
  const json lineage = json::parse(versions->at(0).lineage_json);
  EXPECT_EQ(lineage["task_id"], id);
  EXPECT_EQ(lineage["definition"], "t:1");
  EXPECT_EQ(lineage["attempt"], 1);
  EXPECT_EQ(lineage["estimator"], "logistic");
}

TEST_F(SchedulerJobTest, RegistersUnderTheDefinitionNameWhenNoModelIsGiven) {
  StartScheduler();
  const std::string id = Create({{"job", "train"}, {"params", {{"train", "artifact:wine/train.csv"}}}})[0];
  WaitForRunning(id);
  WriteModelfile(executor_.spec(0).env.at("WHARF_OUTPUT_DIR"));
  executor_.Succeed(HandleOf(id, 1));
  EXPECT_EQ(WaitForState(id, TaskState::kSucceeded).reason, "registered model t version 1");
}

TEST_F(SchedulerJobTest, FailsATrainingTaskThatLeftNoModelfile) {
  StartScheduler();
  const std::string id =
      Create({{"job", "train"}, {"params", {{"train", "artifact:wine/train.csv"}}}, {"model", "wine"}})[0];
  WaitForRunning(id);
  executor_.Succeed(HandleOf(id, 1));
  const TaskRecord task = WaitForState(id, TaskState::kFailed);
  EXPECT_THAT(task.reason, HasSubstr("registering the model failed"));
  auto models = store_->ListModels();
  ASSERT_TRUE(models.ok());
  EXPECT_TRUE(models->empty());
}

TEST_F(SchedulerJobTest, FailsAJobWhoseArtifactParameterIsMissing) {
  StartScheduler();
  const std::string id = Create({{"job", "train"}, {"params", {{"train", "artifact:wine/absent.csv"}}}})[0];
  const TaskRecord task = WaitForState(id, TaskState::kFailed);
  EXPECT_THAT(task.reason, StartsWith("could not start: "));
  EXPECT_THAT(task.reason, HasSubstr("wine/absent.csv"));
  EXPECT_EQ(executor_.submitted(), 0u);
}

}  // namespace
}  // namespace wharf::control
