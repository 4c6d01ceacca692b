// Endpoints as a user drives them from the CLI: a real `wharf server` in a
// temporary home whose registry holds wine versions 1 and 2 (production ->
// 2), and `wharf endpoint apply|history|rollback|status|...` against it.

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

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
using testing::WineDir;

// What `--wait --timeout` is given: the tests' patience.
std::string PatienceFlag() {
  return std::to_string(std::chrono::duration_cast<std::chrono::seconds>(testing::kPatience).count()) + "s";
}

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

json ParseJson(const std::string& text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(j.is_discarded()) << "not JSON: " << text;
  return j.is_discarded() ? json() : j;
}

class EndpointCliTest : public ::testing::Test {
 protected:
  // Tasks outlive a stopped server by design: none outlives the test.
  ~EndpointCliTest() override { testing::StopServerAndItsTasks(server_, home_.path()); }
  // One trained wine Modelfile for the whole suite; each test registers it.
  static void SetUpTestSuite() {
    trained_ = std::make_unique<TempDir>();
    const ProcessResult r =
        RunWharf({"train", "--train", (WineDir() / "TrainingDataset.csv").string(), "--validation",
                  (WineDir() / "ValidationDataset.csv").string(), "--estimator", "logistic", "--out",
                  trained_->path().string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  static void TearDownTestSuite() { trained_.reset(); }

  void SetUp() override {
    const std::string modelfile = (trained_->path() / "Modelfile").string();
    const std::string store = (home_.path() / "wharf.db").string();
    for (int i = 0; i < 2; ++i) {
      const ProcessResult r = RunWharf({"model", "register", "wine", modelfile, "--store", store});
      ASSERT_EQ(r.exit_code, 0) << r.err;
    }
    const ProcessResult alias = RunWharf({"model", "alias", "wine", "production", "2", "--store", store});
    ASSERT_EQ(alias.exit_code, 0) << alias.err;
    server_ = std::make_unique<ServerProcess>(
        std::vector<std::string>{"server", "--home", home_.path().string(), "--port", "0", "--cpus", "2"});
    ASSERT_TRUE(server_->started()) << server_->output();
    url_ = "http://127.0.0.1:" + std::to_string(server_->port());
  }

  // Replicas are tasks, which outlive a killed server: delete every
  // endpoint, then stop whatever still runs.
  void TearDown() override {
    if (!server_ || !server_->started()) return;
    const ProcessResult list = Wharf({"endpoint", "list", "--json"});
    for (const auto& e : ParseJson(list.out).value("endpoints", json::array())) {
      if (e.value("active", true)) Wharf({"endpoint", "delete", e.value("name", "")});
    }
    const auto none_live = [](const json& live) { return live.value("tasks", json::array()).empty(); };
    const json live = testing::WaitFor(
        [&] {
          json listed = ParseJson(Wharf({"task", "list", "--state", "PENDING,RUNNING", "--limit", "0", "--json"}).out);
          for (const auto& t : listed.value("tasks", json::array())) {
            Wharf({"task", "stop", t.value("id", ""), "--grace", "0s"});
          }
          return listed;
        },
        none_live, testing::kPatience, std::chrono::milliseconds(200));  // each look runs the wharf CLI
    EXPECT_TRUE(none_live(live)) << "tasks outlive the test: " << live;
    if (HasFailure()) std::cerr << "server output:\n" << server_->output() << "\n";
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

  // Writes the wine spec, one replica, with blue (wine@1) and green
  // (wine@production) weighted as given; returns its path.
  fs::path WriteSpec(const std::string& file, int blue, int green) const {
    return work_.Write(file, "name: wine\nport: " + std::to_string(port_) +
                                 "\nvariants:\n"
                                 "  - {name: blue, model: wine@1, weight: " + std::to_string(blue) + "}\n"
                                 "  - {name: green, model: wine@production, weight: " + std::to_string(green) + "}\n"
                                 "capture: {mode: off}\n"
                                 "replicas: {min: 1}\n");
  }

  static inline std::unique_ptr<TempDir> trained_;
  TempDir home_;
  TempDir work_;
  std::unique_ptr<ServerProcess> server_;
  std::string url_;
  const int port_ = UnusedPort();
};

TEST_F(EndpointCliTest, ApplyMakesARevisionOnlyWhenTheSpecChanges) {
  const fs::path v1 = WriteSpec("wine.yaml", 90, 10);
  ProcessResult r = Wharf({"endpoint", "apply", v1.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "endpoint wine: revision 1 (apply)\n");

  r = Wharf({"endpoint", "apply", v1.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "endpoint wine: unchanged at revision 1\n");

  const json second = WharfJson({"endpoint", "apply", WriteSpec("wine-v2.yaml", 50, 50).string()});
  EXPECT_EQ(second["endpoint"], "wine") << second;
  EXPECT_EQ(second["revision"], 2) << second;
  EXPECT_EQ(second["spec"]["variants"][0]["weight"], 50) << second;

  const json history = WharfJson({"endpoint", "history", "wine"});
  ASSERT_EQ(history.value("revisions", json::array()).size(), 2u) << history;
  EXPECT_EQ(history["revisions"][0]["revision"], 1);
  EXPECT_EQ(history["revisions"][1]["revision"], 2);
  r = Wharf({"endpoint", "history", "wine"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(Contains(r.out, "blue wine@1 90%, green wine@production→2 10%")) << r.out;
  EXPECT_TRUE(Contains(r.out, "2 (current)")) << r.out;
}

TEST_F(EndpointCliTest, RollbackMakesANewRevisionWithAnEarlierSpec) {
  WharfJson({"endpoint", "apply", WriteSpec("wine.yaml", 90, 10).string()});
  WharfJson({"endpoint", "apply", WriteSpec("wine-v2.yaml", 50, 50).string()});

  const json third = WharfJson({"endpoint", "rollback", "wine"});
  EXPECT_EQ(third["revision"], 3) << third;
  EXPECT_TRUE(Contains(third.value("reason", ""), "rollback")) << third;
  EXPECT_EQ(third["spec"]["variants"][0]["weight"], 90) << third;  // revision 1's split

  const ProcessResult r = Wharf({"endpoint", "rollback", "wine", "--to", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(Contains(r.out, "endpoint wine: revision 4 (rollback")) << r.out;
  const json history = WharfJson({"endpoint", "history", "wine"});
  ASSERT_EQ(history.value("revisions", json::array()).size(), 4u) << history;
  EXPECT_EQ(history["revisions"][3]["spec"]["variants"][0]["weight"], 50) << history;
}

TEST_F(EndpointCliTest, EveryCommandPrintsJsonThatParses) {
  WharfJson({"endpoint", "apply", WriteSpec("wine.yaml", 90, 10).string()});
  const json list = WharfJson({"endpoint", "list"});
  ASSERT_EQ(list.value("endpoints", json::array()).size(), 1u) << list;
  EXPECT_EQ(list["endpoints"][0]["name"], "wine");
  const json status = WharfJson({"endpoint", "status", "wine"});
  EXPECT_EQ(status["name"], "wine") << status;
  EXPECT_EQ(status["url"], "http://127.0.0.1:" + std::to_string(port_)) << status;
  EXPECT_TRUE(WharfJson({"endpoint", "events", "wine", "--limit", "5"}).contains("events"));
  EXPECT_EQ(WharfJson({"endpoint", "metrics", "wine"})["endpoint"], "wine");

  for (const std::string command : {"list", "status", "history", "events", "metrics"}) {
    std::vector<std::string> args = {"endpoint", command};
    if (command != "list") args.push_back("wine");
    const ProcessResult r = Wharf(args);
    EXPECT_EQ(r.exit_code, 0) << command << ": " << r.err;
    EXPECT_FALSE(r.out.empty()) << command;
  }
}

TEST_F(EndpointCliTest, ApplyWaitReturnsOnceTheReplicasServeTheRevision) {
  const ProcessResult r =
      Wharf({"endpoint", "apply", WriteSpec("wine.yaml", 90, 10).string(), "--wait", "--timeout", PatienceFlag()});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(Contains(r.out, "endpoint wine: 1/1 replicas ready at revision 1")) << r.out;
  const json status = WharfJson({"endpoint", "status", "wine"});
  ASSERT_EQ(status.value("replicas", json::array()).size(), 1u) << status;
  EXPECT_EQ(status["replicas"][0]["revision"], 1) << status;
  EXPECT_EQ(status["replicas"][0]["ready"], true) << status;

  const json deleted = WharfJson({"endpoint", "delete", "wine"});
  EXPECT_EQ(deleted["active"], false) << deleted;
}

TEST_F(EndpointCliTest, ApplyWaitTimesOutNamingTheReplicasMissing) {
  // Each replica wants more CPUs than the server has: the first runs alone, the second waits.
  const fs::path spec = work_.Write("big.yaml", "name: wine\nport: " + std::to_string(port_) +
                                                    "\nvariants: [{name: blue, model: wine@1}]\n"
                                                    "replicas: {min: 2, cpus: 3}\n");
  const ProcessResult r = Wharf({"endpoint", "apply", spec.string(), "--wait", "--timeout", "2s"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_TRUE(Contains(r.err, "endpoint wine: revision 1 not rolled out after 2s")) << r.err;
  EXPECT_TRUE(Contains(r.err, "waiting for task")) << r.err;
}

TEST_F(EndpointCliTest, StatusOfAnUnknownEndpointExitsTwoNamingIt) {
  const ProcessResult r = Wharf({"endpoint", "status", "nosuchendpoint"});
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_TRUE(Contains(r.err, "nosuchendpoint")) << r.err;
}

TEST_F(EndpointCliTest, MalformedYamlIsRejectedNamingTheFileAndLine) {
  const fs::path bad = work_.Write("bad.yaml", "name: wine\nport: 8080\n  host: x\n");
  const ProcessResult r = Wharf({"endpoint", "apply", bad.string()});
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_TRUE(Contains(r.err, bad.string() + ":3:")) << r.err;
  EXPECT_TRUE(WharfJson({"endpoint", "list"}).value("endpoints", json::array()).empty());
}

}  // namespace
}  // namespace wharf
