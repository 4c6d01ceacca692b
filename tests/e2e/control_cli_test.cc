// The control plane as a user drives it from the CLI: a real `wharf server`
// in a temporary home, and `wharf taskdef|run|task|logs|artifact` against it.

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "testing/http_client.h"
#include "testing/leftover_tasks.h"
#include "testing/process.h"
#include "testing/server_process.h"
#include "testing/temp_dir.h"
#include "testing/unused_port.h"
#include "testing/wait.h"

namespace wharf {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::ProcessResult;
using testing::RunWharf;
using testing::ServerProcess;
using testing::TempDir;
using testing::UnusedPort;

// How often a wait asks again: each look runs the wharf CLI.
constexpr std::chrono::milliseconds kLookEvery{100};

// What `--wait --timeout` is given: the tests' patience, in seconds.
std::string PatienceSeconds() {
  return std::to_string(std::chrono::duration_cast<std::chrono::seconds>(testing::kPatience).count());
}

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// Parses `text`, failing the test (and returning null) if it is not JSON.
json ParseJson(const std::string& text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(j.is_discarded()) << "not JSON: " << text;
  return j.is_discarded() ? json() : j;
}

bool IsFinal(const json& task) {
  const std::string state = task.value("state", "");
  return state == "SUCCEEDED" || state == "FAILED" || state == "CANCELLED";
}

class ControlCliTest : public ::testing::Test {
 protected:
  // Tasks outlive a stopped server by design: none outlives the test.
  ~ControlCliTest() override { testing::StopServerAndItsTasks(server_, home_.path()); }
  void SetUp() override {
    server_ = std::make_unique<ServerProcess>(
        std::vector<std::string>{"server", "--home", home_.path().string(), "--port", "0", "--cpus", "2"});
    ASSERT_TRUE(server_->started()) << server_->output();
    url_ = "http://127.0.0.1:" + std::to_string(server_->port());
  }

  void TearDown() override {
    if (HasFailure() && server_) std::cerr << "server output:\n" << server_->output() << "\n";
  }

  // Runs wharf against this test's server.
  ProcessResult Wharf(std::vector<std::string> args) const {
    args.insert(args.end(), {"--server", url_, "--token-file", (home_.path() / "server.token").string()});
    return RunWharf(args);
  }

  // Runs wharf with --json, expecting success, and parses what it printed.
  json WharfJson(std::vector<std::string> args) const {
    args.push_back("--json");
    const ProcessResult r = Wharf(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return ParseJson(r.out);
  }

  // Writes a definition to a file and registers it; returns the taskdef.
  json Register(const json& definition) const {
    const std::string name = definition.value("name", "unnamed");
    const fs::path file = work_.Write(name + ".json", definition.dump());
    return WharfJson({"taskdef", "register", file.string()});
  }

  // Starts one task of `taskdef` and returns its id.
  std::string Start(const std::string& taskdef) const {
    const json run = WharfJson({"run", taskdef});
    EXPECT_EQ(run["tasks"].size(), 1u) << run;
    return run["tasks"].empty() ? "" : run["tasks"][0].value("id", "");
  }

  // Describes the task until it ends (or cannot be described); returns what was described last.
  json WaitUntilFinal(const std::string& id) const {
    const auto over = [](const json& task) { return task.is_null() || IsFinal(task); };
    const json task = testing::WaitFor([&] { return WharfJson({"task", "describe", id}); }, over,
                                       testing::kPatience, kLookEvery);
    if (!over(task)) ADD_FAILURE() << "task " << id << " did not end: " << task;
    return task;
  }

  static std::vector<std::string> Names(const json& list) {
    std::vector<std::string> names;
    for (const auto& d : list.value("taskdefs", json::array())) names.push_back(d.value("name", ""));
    return names;
  }

  TempDir home_;
  TempDir work_;
  std::unique_ptr<ServerProcess> server_;
  std::string url_;
};

TEST_F(ControlCliTest, RegisteringAChangedDefinitionMakesANewRevision) {
  json def = {{"name", "hello"}, {"command", {"echo", "hi"}}};
  EXPECT_EQ(Register(def)["revision"], 1);
  EXPECT_EQ(Register(def)["revision"], 1);  // identical: the current revision
  def["command"] = {"echo", "bye"};
  const json second = Register(def);
  EXPECT_EQ(second["name"], "hello");
  EXPECT_EQ(second["revision"], 2);

  const json list = WharfJson({"taskdef", "list"});
  ASSERT_EQ(Names(list), std::vector<std::string>{"hello"}) << list;
  EXPECT_EQ(list["taskdefs"][0]["revision"], 2);
  EXPECT_EQ(WharfJson({"taskdef", "describe", "hello"})["revision"], 2);
  const json first = WharfJson({"taskdef", "describe", "hello:1"});
  EXPECT_EQ(first["revision"], 1);
  EXPECT_EQ(first["spec"]["command"], json({"echo", "hi"}));

  const ProcessResult human = Wharf({"taskdef", "list"});
  ASSERT_EQ(human.exit_code, 0) << human.err;
  EXPECT_TRUE(Contains(human.out, "hello")) << human.out;
  const ProcessResult described = Wharf({"taskdef", "describe", "hello:1"});
  ASSERT_EQ(described.exit_code, 0) << described.err;
  EXPECT_TRUE(Contains(described.out, "hi")) << described.out;
}

TEST_F(ControlCliTest, RegisterTakesTheNameFromTheFlag) {
  const fs::path file = work_.Write("anonymous.json", R"({"command": ["true"]})");
  const json d = WharfJson({"taskdef", "register", file.string(), "--name", "renamed"});
  EXPECT_EQ(d["name"], "renamed");
  EXPECT_EQ(d["revision"], 1);
}

TEST_F(ControlCliTest, DeregisterHidesTheNameButKeepsItsRevisions) {
  Register({{"name", "old"}, {"command", {"true"}}});
  Register({{"name", "kept"}, {"command", {"true"}}});
  const json deregistered = WharfJson({"taskdef", "deregister", "old"});
  EXPECT_EQ(deregistered["active"], false) << deregistered;

  EXPECT_EQ(Names(WharfJson({"taskdef", "list"})), std::vector<std::string>{"kept"});
  const json all = WharfJson({"taskdef", "list", "--all"});
  bool found_inactive = false;
  for (const auto& d : all["taskdefs"]) found_inactive |= d["name"] == "old" && d["active"] == false;
  EXPECT_TRUE(found_inactive) << all;
  EXPECT_EQ(WharfJson({"taskdef", "describe", "old:1"})["name"], "old");
}

TEST_F(ControlCliTest, DescribingAnUnknownDefinitionFails) {
  const ProcessResult r = Wharf({"taskdef", "describe", "nobody"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_TRUE(Contains(r.err, "nobody")) << r.err;
}

TEST_F(ControlCliTest, JobsListsTheBuiltInJobs) {
  const json jobs = WharfJson({"taskdef", "jobs"});
  std::vector<std::string> names;
  for (const auto& j : jobs.value("jobs", json::array())) names.push_back(j.value("name", ""));
  EXPECT_NE(std::find(names.begin(), names.end(), "train"), names.end()) << jobs;
  const ProcessResult human = Wharf({"taskdef", "jobs"});
  ASSERT_EQ(human.exit_code, 0) << human.err;
  EXPECT_TRUE(Contains(human.out, "train")) << human.out;
}

TEST_F(ControlCliTest, RunWaitSucceedsAndLogsShowTheOutput) {
  Register({{"name", "greet"}, {"command", {"echo", "hello $(WHARF_TASK_ID)"}}});
  const json run = WharfJson({"run", "greet", "--wait"});
  ASSERT_EQ(run["tasks"].size(), 1u) << run;
  const json& task = run["tasks"][0];
  EXPECT_EQ(task["state"], "SUCCEEDED") << task;
  EXPECT_EQ(task["taskdef"], "greet");
  EXPECT_EQ(task["revision"], 1);
  const std::string id = task.value("id", "");

  const ProcessResult logs = Wharf({"logs", id});
  ASSERT_EQ(logs.exit_code, 0) << logs.err;
  EXPECT_EQ(logs.out, "hello " + id + "\n");
  const json logs_json = WharfJson({"logs", id});
  EXPECT_EQ(logs_json["data"], "hello " + id + "\n") << logs_json;

  const ProcessResult human = Wharf({"run", "greet:1", "--wait"});
  EXPECT_EQ(human.exit_code, 0) << human.err;
  EXPECT_TRUE(Contains(human.out, "SUCCEEDED")) << human.out;
}

TEST_F(ControlCliTest, RunWaitExitsOneWhenATaskFails) {
  Register({{"name", "fails"}, {"command", {"sh", "-c", "exit 3"}}});
  const ProcessResult r = Wharf({"run", "fails", "--wait"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_TRUE(Contains(r.out, "FAILED")) << r.out;
  const json tasks = WharfJson({"task", "list", "--taskdef", "fails"});
  ASSERT_EQ(tasks.value("tasks", json::array()).size(), 1u) << tasks;
  EXPECT_EQ(tasks["tasks"][0]["state"], "FAILED");
  EXPECT_EQ(tasks["tasks"][0]["exit_code"], 3);
  EXPECT_EQ(tasks["tasks"][0]["reason"], "exit code 3");
}

TEST_F(ControlCliTest, OverridesReplaceTheCommandAndCountStartsMany) {
  Register({{"name", "greet"}, {"command", {"echo", "original"}}});
  const json run = WharfJson({"run", "greet", "--count", "2", "--override", R"(command=["echo","overridden"])",
                              "--override", "env.GREETING=hi", "--wait"});
  ASSERT_EQ(run["tasks"].size(), 2u) << run;
  for (const auto& task : run["tasks"]) {
    EXPECT_EQ(task["state"], "SUCCEEDED") << task;
    EXPECT_EQ(task["spec"]["command"], json({"echo", "overridden"})) << task;
    EXPECT_EQ(task["spec"]["env"]["GREETING"], "hi") << task;
    const ProcessResult logs = Wharf({"logs", task.value("id", "")});
    EXPECT_EQ(logs.out, "overridden\n") << logs.err;
  }
}

TEST_F(ControlCliTest, TaskListFiltersAndParses) {
  Register({{"name", "greet"}, {"command", {"echo", "hi"}}});
  Register({{"name", "other"}, {"command", {"echo", "hi"}}});
  const std::string id = WharfJson({"run", "greet", "--wait"})["tasks"][0].value("id", "");
  WharfJson({"run", "other", "--wait"});

  const json all = WharfJson({"task", "list"});
  EXPECT_EQ(all["tasks"].size(), 2u) << all;
  const json mine = WharfJson({"task", "list", "--taskdef", "greet", "--state", "SUCCEEDED", "--limit", "5"});
  ASSERT_EQ(mine["tasks"].size(), 1u) << mine;
  EXPECT_EQ(mine["tasks"][0]["id"], id);
  EXPECT_TRUE(WharfJson({"task", "list", "--state", "RUNNING"})["tasks"].empty());

  const ProcessResult human = Wharf({"task", "list"});
  ASSERT_EQ(human.exit_code, 0) << human.err;
  EXPECT_TRUE(Contains(human.out, id)) << human.out;
  const ProcessResult described = Wharf({"task", "describe", id});
  ASSERT_EQ(described.exit_code, 0) << described.err;
  EXPECT_TRUE(Contains(described.out, "SUCCEEDED")) << described.out;
}

TEST_F(ControlCliTest, StopCancelsASleepingTask) {
  Register({{"name", "sleeper"}, {"command", {"sleep", "60"}}});
  const std::string id = Start("sleeper");
  const auto pending = [](const json& task) { return task.is_object() && task.value("state", "") == "PENDING"; };
  const json started = testing::WaitFor([&] { return WharfJson({"task", "describe", id}); },
                                        [&](const json& task) { return !pending(task); }, testing::kPatience,
                                        kLookEvery);
  EXPECT_FALSE(pending(started)) << "the task never left PENDING: " << started;
  const json stopped = WharfJson({"task", "stop", id, "--grace", "1s"});
  EXPECT_EQ(stopped["id"], id);
  const json task = WaitUntilFinal(id);
  EXPECT_EQ(task["state"], "CANCELLED") << task;
}

TEST_F(ControlCliTest, LogsFollowPrintsUntilTheTaskEnds) {
  Register({{"name", "slow"}, {"command", {"sh", "-c", "echo one; sleep 1; echo two; echo oops >&2"}}});
  const std::string id = Start("slow");
  const ProcessResult out = Wharf({"logs", id, "--follow"});
  ASSERT_EQ(out.exit_code, 0) << out.err;
  EXPECT_EQ(out.out, "one\ntwo\n");
  const ProcessResult err = Wharf({"logs", id, "--stderr"});
  ASSERT_EQ(err.exit_code, 0) << err.err;
  EXPECT_EQ(err.out, "oops\n");
  // With --follow, --json prints one object per line.
  const ProcessResult lines = Wharf({"logs", id, "--follow", "--json"});
  ASSERT_EQ(lines.exit_code, 0) << lines.err;
  std::string data;
  std::istringstream in(lines.out);
  for (std::string line; std::getline(in, line);) data += ParseJson(line).value("data", "");
  EXPECT_EQ(data, "one\ntwo\n");
}

TEST_F(ControlCliTest, ArtifactsRoundTrip) {
  const std::string bytes = std::string("a,b\n1,2\n") + std::string(1, '\0') + "\xff";
  const fs::path file = work_.Write("data.csv", bytes);
  const json put = WharfJson({"artifact", "put", "wine/data.csv", file.string()});
  EXPECT_EQ(put["name"], "wine/data.csv");
  EXPECT_EQ(put["size"], bytes.size());
  EXPECT_EQ(put.value("sha256", "").size(), 64u) << put;

  const json list = WharfJson({"artifact", "list", "--prefix", "wine/"});
  ASSERT_EQ(list["artifacts"].size(), 1u) << list;
  EXPECT_EQ(list["artifacts"][0]["name"], "wine/data.csv");
  EXPECT_TRUE(WharfJson({"artifact", "list", "--prefix", "nothing/"})["artifacts"].empty());

  const ProcessResult to_stdout = Wharf({"artifact", "get", "wine/data.csv"});
  ASSERT_EQ(to_stdout.exit_code, 0) << to_stdout.err;
  EXPECT_EQ(to_stdout.out, bytes);
  const fs::path copy = work_.path() / "copy.csv";
  const json got = WharfJson({"artifact", "get", "wine/data.csv", "--output", copy.string()});
  EXPECT_EQ(got["size"], bytes.size());
  EXPECT_EQ(testing::ReadFile(copy), bytes);

  const ProcessResult human = Wharf({"artifact", "list"});
  ASSERT_EQ(human.exit_code, 0) << human.err;
  EXPECT_TRUE(Contains(human.out, "wine/data.csv")) << human.out;
}

TEST_F(ControlCliTest, BadArtifactNamesAndMissingArtifactsAreErrors) {
  const fs::path file = work_.Write("x", "x");
  ProcessResult r = Wharf({"artifact", "put", "../escape", file.string()});
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_FALSE(r.err.empty());
  r = Wharf({"artifact", "get", "no/such/thing"});
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_TRUE(Contains(r.err, "no/such/thing")) << r.err;
}

TEST_F(ControlCliTest, AWrongTokenIsRejectedNamingTheFile) {
  const fs::path garbage = work_.Write("garbage.token", "not-the-token\n");
  const ProcessResult r = RunWharf({"taskdef", "list", "--server", url_, "--token-file", garbage.string()});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_TRUE(Contains(r.err, "rejected the token")) << r.err;
  EXPECT_TRUE(Contains(r.err, garbage.string())) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST_F(ControlCliTest, FindsTheServerThroughWharfHome) {
  // server.json and server.token in the home are all the CLI needs.
  ASSERT_EQ(setenv("WHARF_HOME", home_.path().c_str(), 1), 0);
  const ProcessResult r = RunWharf({"taskdef", "list", "--json"});
  unsetenv("WHARF_HOME");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(ParseJson(r.out).contains("taskdefs")) << r.out;
}

TEST(ControlCliErrorsTest, AnUnreachableServerIsOneLineNamingTheUrl) {
  TempDir dir;
  const fs::path token = dir.Write("server.token", "0123456789abcdef\n");
  const std::string url = "http://127.0.0.1:" + std::to_string(UnusedPort());
  const ProcessResult r = RunWharf({"task", "list", "--server", url, "--token-file", token.string()});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_TRUE(Contains(r.err, "cannot reach")) << r.err;
  EXPECT_TRUE(Contains(r.err, url)) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST(ControlCliErrorsTest, AMissingTokenFileSaysHowToGetOne) {
  TempDir dir;
  ASSERT_EQ(setenv("WHARF_HOME", dir.path().c_str(), 1), 0);
  const ProcessResult r = RunWharf({"taskdef", "list", "--server", "http://127.0.0.1:1"});
  unsetenv("WHARF_HOME");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(Contains(r.err, (dir.path() / "server.token").string())) << r.err;
  EXPECT_TRUE(Contains(r.err, "wharf server")) << r.err;
}

TEST(ControlCliErrorsTest, ABadOverrideIsRejectedBeforeAnyRequest) {
  TempDir dir;
  const fs::path token = dir.Write("server.token", "0123456789abcdef\n");
  const ProcessResult r = RunWharf({"run", "x", "--override", "no-equals-sign", "--server", "http://127.0.0.1:1",
                                    "--token-file", token.string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(Contains(r.err, "KEY=VALUE")) << r.err;
}

TEST_F(ControlCliTest, AServiceIsCreatedScaledDescribedAndStoppedFromTheCli) {
  Register({{"name", "web"},
            {"command", {"/usr/bin/python3", "-m", "http.server", "$(WHARF_PORT)", "--bind", "127.0.0.1"}},
            {"resources", {{"cpus", 0.2}}},
            {"service", {{"port", "auto"}, {"health", {{"http_path", "/"}, {"interval", "200ms"}}}}}});
  const json created =
      WharfJson({"service", "create", "web", "--desired", "2", "--wait", "--timeout", PatienceSeconds()});
  EXPECT_EQ(created["healthy"], 2) << created;
  const ProcessResult list = Wharf({"service", "list"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_NE(list.out.find("2/2"), std::string::npos) << list.out;
  EXPECT_NE(list.out.find("http://127.0.0.1:"), std::string::npos) << list.out;

  const json scaled = WharfJson({"service", "scale", "web", "1", "--wait", "--timeout", PatienceSeconds()});
  EXPECT_EQ(scaled["instances"].size(), 1u) << scaled;
  const ProcessResult described = Wharf({"service", "describe", "web"});
  EXPECT_NE(described.out.find("1 desired, 1 running, 1 healthy"), std::string::npos) << described.out;
  EXPECT_NE(described.out.find("stopped 1 surplus instance(s)"), std::string::npos) << described.out;

  const ProcessResult stopped = Wharf({"service", "stop", "web"});
  EXPECT_EQ(stopped.exit_code, 0) << stopped.err;
  const ProcessResult missing = Wharf({"service", "describe", "absent"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("service 'absent' not found"), std::string::npos) << missing.err;
}

TEST_F(ControlCliTest, SecretsAreSetFromFilesNeverFromTheCommandLine) {
  const std::vector<std::string> where = {"--home", home_.path().string(), "--store",
                                          (home_.path() / "wharf.db").string()};
  const auto secret = [&](std::vector<std::string> args) {
    args.insert(args.begin(), "secret");
    args.insert(args.end(), where.begin(), where.end());
    return RunWharf(args);
  };
  const ProcessResult refused = secret({"set", "pg", "hunter2"});
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_NE(refused.err.find("never taken from the command line"), std::string::npos) << refused.err;
  const fs::path file = work_.Write("pg", "hunter2");
  ASSERT_EQ(secret({"set", "pg", "--from-file", file.string()}).exit_code, 0);
  const ProcessResult list = secret({"list"});
  EXPECT_NE(list.out.find("pg"), std::string::npos) << list.out;
  EXPECT_EQ(list.out.find("hunter2"), std::string::npos) << list.out;
  // The server reads the same store: its API lists the secret set from the CLI.
  const std::string token = testing::ReadFile(home_.path() / "server.token").substr(0, 64);
  const testing::HttpResult api =
      testing::HttpClient(server_->port()).Request("GET", "/api/secrets", "", {{"Authorization", "Bearer " + token}});
  EXPECT_NE(api.body.find("\"pg\""), std::string::npos) << api.body;
  ASSERT_EQ(secret({"rm", "pg"}).exit_code, 0);
  const ProcessResult audit = secret({"audit", "pg"});
  EXPECT_NE(audit.out.find("remove"), std::string::npos) << audit.out;
  EXPECT_NE(audit.out.find("set"), std::string::npos) << audit.out;
}

}  // namespace
}  // namespace wharf
