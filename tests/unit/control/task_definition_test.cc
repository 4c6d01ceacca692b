#include "control/task_definition.h"

#include <chrono>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "control/job_registry.h"

namespace wharf::control {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using ::testing::HasSubstr;
using ::testing::StartsWith;

JobRegistry TrainJobs() {
  JobRegistry jobs;
  JobType train;
  train.name = "train";
  train.params = {{"train", true, ""}, {"validation", false, ""}, {"seed", false, ""}};
  train.produces_model = true;
  EXPECT_TRUE(jobs.Add(std::move(train)).ok());
  return jobs;
}

Result<DefinitionSpec> Parse(std::string_view text) { return ParseDefinition(json::parse(text), TrainJobs()); }

std::string CanonicalDump(std::string_view text) {
  auto spec = Parse(text);
  EXPECT_TRUE(spec.ok()) << text << ": " << spec.status().ToString();
  return spec.ok() ? DefinitionToJson(*spec).dump() : "";
}

TEST(TaskDefinitionTest, ParsesAJobDefinition) {
  const auto spec = Parse(R"({"job": "train", "params": {"train": "artifact:wine/train.csv", "seed": 7},
                              "model": "wine", "resources": {"cpus": 0.5, "memory": "2GiB"},
                              "env": {"OMP_NUM_THREADS": "1"}, "count": 3, "retries": 2,
                              "retry_backoff": "2s", "timeout": "10m"})");
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->job, "train");
  EXPECT_EQ(spec->params, json({{"train", "artifact:wine/train.csv"}, {"seed", 7}}));
  EXPECT_TRUE(spec->command.empty());
  EXPECT_EQ(spec->model, "wine");
  EXPECT_EQ(spec->resources.cpus, 0.5);
  EXPECT_EQ(spec->resources.memory_bytes, 2ull << 30);
  EXPECT_EQ(spec->env, (std::map<std::string, std::string>{{"OMP_NUM_THREADS", "1"}}));
  EXPECT_EQ(spec->count, 3);
  EXPECT_EQ(spec->retries, 2);
  EXPECT_EQ(spec->retry_backoff, milliseconds(2000));
  EXPECT_EQ(spec->timeout, milliseconds(600'000));
}

TEST(TaskDefinitionTest, ParsesACommandDefinitionWithDefaults) {
  const auto spec = Parse(R"js({"command": ["python3", "train.py", "--out", "$(WHARF_OUTPUT_DIR)"],
                                "inputs": {"data": "wine/train.csv"}, "outputs": ["result.json"]})js");
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_TRUE(spec->job.empty());
  EXPECT_EQ(spec->command, (std::vector<std::string>{"python3", "train.py", "--out", "$(WHARF_OUTPUT_DIR)"}));
  EXPECT_EQ(spec->inputs, (std::map<std::string, std::string>{{"data", "wine/train.csv"}}));
  EXPECT_EQ(spec->outputs, std::vector<std::string>{"result.json"});
  EXPECT_EQ(spec->resources.cpus, 1);
  EXPECT_FALSE(spec->resources.memory_bytes.has_value());
  EXPECT_EQ(spec->count, 1);
  EXPECT_EQ(spec->retries, 0);
  EXPECT_EQ(spec->retry_backoff, milliseconds(1000));
  EXPECT_FALSE(spec->timeout.has_value());
}

TEST(TaskDefinitionTest, AnExecutorIsLocalOrSlurmAndLeftOutWhenNotGiven) {
  const auto slurm = Parse(R"({"command": ["true"], "executor": "slurm"})");
  ASSERT_TRUE(slurm.ok()) << slurm.status().ToString();
  EXPECT_EQ(slurm->executor, "slurm");
  EXPECT_EQ(DefinitionToJson(*slurm)["executor"], "slurm");
  const auto plain = Parse(R"({"command": ["true"]})");
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(DefinitionToJson(*plain).contains("executor"));  // older definitions keep their bytes
  const auto bad = Parse(R"({"command": ["true"], "executor": "k8s"})");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("executor: must be"), std::string::npos) << bad.status().message();
}

TEST(TaskDefinitionTest, RanksAreKeptAndLeftOutWhenOne) {
  const auto ranks = Parse(R"({"job": "train", "params": {"train": "a"}, "resources": {"cpus": 1, "ranks": 4}})");
  ASSERT_TRUE(ranks.ok()) << ranks.status().ToString();
  EXPECT_EQ(ranks->resources.ranks, 4u);
  EXPECT_EQ(ranks->resources.total_cpus(), 4.0);
  EXPECT_EQ(DefinitionToJson(*ranks)["resources"]["ranks"], 4);
  const auto one = Parse(R"({"command": ["true"], "resources": {"ranks": 1}})");
  ASSERT_TRUE(one.ok());
  EXPECT_FALSE(DefinitionToJson(*one)["resources"].contains("ranks"));  // older definitions keep their bytes
}

TEST(TaskDefinitionTest, GpusAreKeptAndLeftOutWhenNone) {
  const auto gpus = Parse(R"({"job": "train", "params": {"train": "a"}, "resources": {"gpus": 2}})");
  ASSERT_TRUE(gpus.ok()) << gpus.status().ToString();
  EXPECT_EQ(gpus->resources.gpus, 2u);
  EXPECT_EQ(DefinitionToJson(*gpus)["resources"]["gpus"], 2);
  const auto none = Parse(R"({"command": ["true"]})");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(DefinitionToJson(*none)["resources"].contains("gpus"));
}

TEST(TaskDefinitionTest, AcceptsCountAndRetriesAtTheirBounds) {
  for (const char* text : {R"({"command": ["x"], "count": 1, "retries": 0})",
                           R"({"command": ["x"], "count": 10000, "retries": 100})"}) {
    EXPECT_TRUE(Parse(text).ok()) << text << ": " << Parse(text).status().ToString();
  }
}

struct Rejection {
  const char* body;
  const char* field;  // the message starts with "<field>:"
};

TEST(TaskDefinitionTest, RejectsBadDefinitionsNamingTheField) {
  const Rejection cases[] = {
      {R"({"job": "train", "params": {"train": "a"}, "command": ["x"]})", "job, command"},
      {R"({"resources": {"cpus": 1}})", "job, command"},
      {R"({"command": ["x"], "colour": "red"})", "colour"},
      {R"({"command": ["x"], "name": "t"})", "name"},
      {R"({"job": "fit"})", "job"},
      {R"({"job": "train", "params": {"seed": 1}})", "params.train"},
      {R"({"job": "train"})", "params.train"},
      {R"({"job": "train", "params": {"train": "a", "depth": 3}})", "params.depth"},
      {R"({"command": []})", "command"},
      {R"({"command": "echo hi"})", "command"},
      {R"({"command": ["x"], "params": {"a": 1}})", "params"},
      {R"({"command": ["x"], "resources": {"cpus": 0}})", "resources.cpus"},
      {R"({"command": ["x"], "resources": {"cpus": -1}})", "resources.cpus"},
      {R"({"command": ["x"], "resources": {"cpus": "2"}})", "resources.cpus"},
      {R"({"command": ["x"], "resources": {"gpus": 100}})", "resources.gpus"},
      {R"({"command": ["x"], "resources": {"memory": "lots"}})", "resources.memory"},
      {R"({"command": ["x"], "resources": {"memory": "12XB"}})", "resources.memory"},
      {R"({"command": ["x"], "resources": {"memory": "MiB"}})", "resources.memory"},
      {R"({"command": ["x"], "resources": {"memory": 0}})", "resources.memory"},
      {R"({"command": ["x"], "resources": {"memory": -5}})", "resources.memory"},
      {R"({"command": ["x"], "resources": {"ranks": 0}})", "resources.ranks"},
      {R"({"command": ["x"], "resources": {"ranks": 2.5}})", "resources.ranks"},
      {R"({"command": ["x"], "count": 0})", "count"},
      {R"({"command": ["x"], "count": 10001})", "count"},
      {R"({"command": ["x"], "count": 1.5})", "count"},
      {R"({"command": ["x"], "retries": -1})", "retries"},
      {R"({"command": ["x"], "timeout": "soon"})", "timeout"},
      {R"({"command": ["x"], "timeout": "10x"})", "timeout"},
      {R"({"command": ["x"], "timeout": "0s"})", "timeout"},
      {R"({"command": ["x"], "timeout": -5})", "timeout"},
      {R"({"command": ["x"], "timeout": true})", "timeout"},
      {R"({"command": ["x"], "retry_backoff": "fast"})", "retry_backoff"},
      {R"({"command": ["x"], "env": {"1BAD": "x"}})", "env.1BAD"},
      {R"({"command": ["x"], "env": {"X": 1}})", "env.X"},
      {R"({"command": ["x"], "outputs": ["../escape"]})", "outputs[0]"},
  };
  for (const auto& c : cases) {
    const auto spec = Parse(c.body);
    ASSERT_FALSE(spec.ok()) << c.body;
    EXPECT_EQ(spec.status().code(), StatusCode::kInvalidArgument) << c.body;
    EXPECT_THAT(spec.status().message(), StartsWith(std::string(c.field) + ":")) << c.body;
  }
}

TEST(TaskDefinitionTest, UnknownJobListsTheKnownJobs) {
  const auto spec = Parse(R"({"job": "fit"})");
  ASSERT_FALSE(spec.ok());
  EXPECT_THAT(spec.status().message(), HasSubstr("'fit'"));
  EXPECT_THAT(spec.status().message(), HasSubstr("known: train"));
}

TEST(TaskDefinitionTest, ParsesMemorySizes) {
  const std::pair<json, std::uint64_t> cases[] = {
      {"512MiB", 512ull << 20}, {"2GiB", 2ull << 30}, {1048576, 1048576},
      {"100MB", 100'000'000},   {"64k", 65536},       {"1.5GiB", 3ull << 29},
  };
  for (const auto& [value, bytes] : cases) {
    const auto parsed = ParseBytes(value, "resources.memory");
    ASSERT_TRUE(parsed.ok()) << value << ": " << parsed.status().ToString();
    EXPECT_EQ(*parsed, bytes) << value;
  }
}

TEST(TaskDefinitionTest, ParsesDurations) {
  const std::pair<json, milliseconds> cases[] = {
      {"500ms", milliseconds(500)}, {"30s", milliseconds(30'000)},     {"10m", milliseconds(600'000)},
      {"2h", milliseconds(7'200'000)}, {1.5, milliseconds(1500)},     {30, milliseconds(30'000)},
  };
  for (const auto& [value, expected] : cases) {
    const auto parsed = ParseDuration(value, "timeout");
    ASSERT_TRUE(parsed.ok()) << value << ": " << parsed.status().ToString();
    EXPECT_EQ(*parsed, expected) << value;
  }
}

TEST(TaskDefinitionTest, CanonicalJsonParsesBackToTheSameBytes) {
  for (const char* text : {
           R"({"job": "train", "params": {"train": "artifact:a", "seed": 7}, "model": "wine",
               "resources": {"cpus": 0.5, "memory": "2GiB", "pids": 64}, "env": {"B": "2", "A": "1"},
               "count": 4, "retries": 2, "retry_backoff": 1.5, "timeout": "10m"})",
           R"js({"command": ["sh", "-c", "echo $(X)"], "inputs": {"data": "d.csv"}, "outputs": ["o.txt"]})js",
       }) {
    const std::string first = CanonicalDump(text);
    EXPECT_EQ(CanonicalDump(first), first) << text;
  }
}

TEST(TaskDefinitionTest, EquivalentDefinitionsHaveIdenticalCanonicalJson) {
  EXPECT_EQ(CanonicalDump(R"({"command": ["x"], "timeout": "60s", "resources": {"memory": "1GiB"}})"),
            CanonicalDump(R"({"resources": {"memory": 1073741824, "cpus": 1}, "timeout": "1m", "command": ["x"]})"));
  EXPECT_EQ(CanonicalDump(R"({"command": ["x"]})"),
            CanonicalDump(R"({"command": ["x"], "count": 1, "retries": 0, "retry_backoff": "1s", "env": {}})"));
  EXPECT_NE(CanonicalDump(R"({"command": ["x"], "timeout": "60s"})"),
            CanonicalDump(R"({"command": ["x"], "timeout": "61s"})"));
}

// RFC 7386, Appendix A, plus a definition override.
TEST(TaskDefinitionTest, MergePatchFollowsRfc7386) {
  const char* cases[][3] = {
      {R"({"a":"b"})", R"({"a":"c"})", R"({"a":"c"})"},
      {R"({"a":"b"})", R"({"b":"c"})", R"({"a":"b","b":"c"})"},
      {R"({"a":"b"})", R"({"a":null})", R"({})"},
      {R"({"a":"b","b":"c"})", R"({"a":null})", R"({"b":"c"})"},
      {R"({"a":["b"]})", R"({"a":"c"})", R"({"a":"c"})"},
      {R"({"a":"c"})", R"({"a":["b"]})", R"({"a":["b"]})"},
      {R"({"a":{"b":"c"}})", R"({"a":{"b":"d","c":null}})", R"({"a":{"b":"d"}})"},
      {R"({"a":[{"b":"c"}]})", R"({"a":[1]})", R"({"a":[1]})"},
      {R"(["a","b"])", R"(["c","d"])", R"(["c","d"])"},
      {R"({"a":"b"})", R"(["c"])", R"(["c"])"},
      {R"({"a":"foo"})", "null", "null"},
      {R"({"a":"foo"})", R"("bar")", R"("bar")"},
      {R"({"e":null})", R"({"a":1})", R"({"e":null,"a":1})"},
      {R"([1,2])", R"({"a":"b","c":null})", R"({"a":"b"})"},
      {R"({})", R"({"a":{"bb":{"ccc":null}}})", R"({"a":{"bb":{}}})"},
      {R"({"command":["a"],"env":{"X":"1","Y":"2"},"resources":{"cpus":1,"memory":"1GiB"}})",
       R"({"command":["b","c"],"env":{"Y":null,"Z":"3"},"resources":{"cpus":2}})",
       R"({"command":["b","c"],"env":{"X":"1","Z":"3"},"resources":{"cpus":2,"memory":"1GiB"}})"},
  };
  for (const auto& [target_text, patch_text, expected] : cases) {
    json target = json::parse(target_text);
    MergePatch(target, json::parse(patch_text));
    EXPECT_EQ(target, json::parse(expected)) << target_text << " + " << patch_text;
  }
}

TEST(TaskDefinitionTest, ExpandEnvReferencesReplacesOnlySetVariables) {
  const std::map<std::string, std::string> env = {{"X", "ex"}, {"DIR", "/out dir"}, {"REF", "$(X)"}};
  const char* cases[][2] = {
      {"$(X)", "ex"},
      {"--out=$(DIR)/model", "--out=/out dir/model"},
      {"$(X)$(X)", "exex"},
      {"$(UNSET)", "$(UNSET)"},
      {"a$(UNSET)b$(X)", "a$(UNSET)bex"},
      {"$$(X)", "$(X)"},
      {"$$(UNSET)", "$(UNSET)"},
      {"$(REF)", "$(X)"},  // one pass: a value is never expanded again
      {"$X ${X} $(X", "$X ${X} $(X"},
      {"; rm -rf / | cat `id` && $(echo) > x", "; rm -rf / | cat `id` && $(echo) > x"},
      {"", ""},
  };
  for (const auto& [arg, expected] : cases) EXPECT_EQ(ExpandEnvReferences(arg, env), expected) << arg;
}

}  // namespace
}  // namespace wharf::control

namespace wharf::control {
namespace {

TEST(TaskDefinitionSecretsTest, SecretsAreParsedAndKeptInTheCanonicalJsonOnlyWhenGiven) {
  const auto spec = Parse(R"({"command": ["psql"], "secrets": {"env": {"PGPASSWORD": "pg-password"},
                              "files": {"storage.json": "storage-keys"}}})");
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->secrets.env.at("PGPASSWORD"), "pg-password");
  EXPECT_EQ(spec->secrets.files.at("storage.json"), "storage-keys");
  EXPECT_EQ(DefinitionToJson(*spec)["secrets"]["env"]["PGPASSWORD"], "pg-password");
  EXPECT_FALSE(DefinitionToJson(*Parse(R"({"command": ["true"]})")).contains("secrets"));
}

TEST(TaskDefinitionSecretsTest, BadSecretReferencesAreRefusedNamingTheField) {
  const auto error = [](std::string_view text) { return Parse(text).status().message(); };
  EXPECT_THAT(error(R"({"command": ["x"], "secrets": {"env": {"1BAD": "s"}}})"), HasSubstr("secrets.env.1BAD"));
  EXPECT_THAT(error(R"({"command": ["x"], "secrets": {"env": {"A": "../s"}}})"), HasSubstr("secrets.A"));
  EXPECT_THAT(error(R"({"command": ["x"], "env": {"A": "1"}, "secrets": {"env": {"A": "s"}}})"),
              HasSubstr("also set in env"));
  EXPECT_THAT(error(R"({"command": ["x"], "secrets": {"env": {"WHARF_X": "s"}}})"), HasSubstr("wharf's own"));
  EXPECT_THAT(error(R"({"command": ["x"], "secrets": {"files": {"../k": "s"}}})"), HasSubstr("plain file name"));
  EXPECT_THAT(error(R"({"command": ["x"], "secrets": {"vars": {}}})"), HasSubstr("secrets.vars: unknown field"));
  EXPECT_THAT(error(R"({"command": ["x"], "secrets": []})"), HasSubstr("secrets: must be an object"));
}

}  // namespace
}  // namespace wharf::control

namespace wharf::control {
namespace {

TEST(TaskDefinitionServiceTest, AServiceBlockIsParsedAndRoundTrips) {
  const auto spec = Parse(R"json({"command": ["web", "$(WHARF_PORT)"],
      "service": {"desired": 3, "port": "auto", "restart": "on-failure",
                  "health": {"http_path": "/healthz", "interval": "2s", "timeout": "500ms", "retries": 5,
                             "start_period": "1m"}}})json");
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  ASSERT_TRUE(spec->service.has_value());
  const ServiceSpec& s = *spec->service;
  EXPECT_EQ(s.desired, 3);
  EXPECT_EQ(s.port, ServiceSpec::Port::kAuto);
  EXPECT_EQ(s.restart, ServiceSpec::Restart::kOnFailure);
  ASSERT_TRUE(s.health.has_value());
  EXPECT_EQ(s.health->http_path, "/healthz");
  EXPECT_EQ(s.health->interval, milliseconds(2000));
  EXPECT_EQ(s.health->timeout, milliseconds(500));
  EXPECT_EQ(s.health->retries, 5);
  EXPECT_EQ(s.health->start_period, milliseconds(60'000));
  const std::string canonical = DefinitionToJson(*spec).dump();
  EXPECT_EQ(CanonicalDump(canonical), canonical);

  const auto plain = Parse(R"({"command": ["worker"], "service": {"health": {"command": ["check", "--quick"]}}})");
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_EQ(plain->service->desired, 1);
  EXPECT_EQ(plain->service->port, ServiceSpec::Port::kNone);
  EXPECT_EQ(plain->service->restart, ServiceSpec::Restart::kAlways);
  EXPECT_THAT(plain->service->health->command, ::testing::ElementsAre("check", "--quick"));
  EXPECT_EQ(CanonicalDump(DefinitionToJson(*plain).dump()), DefinitionToJson(*plain).dump());
}

TEST(TaskDefinitionServiceTest, BadServiceBlocksAreRefusedNamingTheField) {
  const auto error = [](std::string_view text) { return Parse(text).status().message(); };
  EXPECT_THAT(error(R"({"command": ["x"], "service": {"desired": -1}})"), HasSubstr("service.desired"));
  EXPECT_THAT(error(R"({"command": ["x"], "service": {"port": "any"}})"), HasSubstr("service.port"));
  EXPECT_THAT(error(R"({"command": ["x"], "service": {"port": 70000}})"), HasSubstr("service.port"));
  EXPECT_THAT(error(R"({"command": ["x"], "service": {"desired": 2, "port": 8080}})"),
              HasSubstr("a fixed port serves one instance"));
  EXPECT_THAT(error(R"({"command": ["x"], "service": {"restart": "never"}})"), HasSubstr("service.restart"));
  EXPECT_THAT(error(R"({"command": ["x"], "service": {"health": {}}})"),
              HasSubstr("needs exactly one of http_path and command"));
  EXPECT_THAT(error(R"({"command": ["x"], "service": {"health": {"http_path": "/"}}})"),
              HasSubstr("needs a port to probe"));
  EXPECT_THAT(error(R"({"command": ["x"], "service": {"port": "auto", "health": {"http_path": "healthz"}}})"),
              HasSubstr("starting with '/'"));
  EXPECT_THAT(error(R"({"command": ["x"], "service": {"health": {"command": ["t"], "retries": 0}}})"),
              HasSubstr("service.health.retries"));
  EXPECT_THAT(error(R"({"command": ["x"], "service": {"replicas": 2}})"), HasSubstr("service.replicas: unknown"));
}

}  // namespace
}  // namespace wharf::control
