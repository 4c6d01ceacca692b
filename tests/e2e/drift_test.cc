// `wharf drift` as a user runs it: train a wine model, serve it with
// capture, send rows of its training data unchanged and then with alcohol
// moved up three standard deviations, and ask which features drifted.
// Served by `wharf serve --model|--config` (drift is told the same), or by
// the control plane's replicas (drift reads the endpoint's revision).
//
// Not the validation CSV: its rows (the same as the test CSV's) really did
// drift from the training rows, in 9 of the 11 features.

#include <chrono>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "testing/http_client.h"
#include "testing/process.h"
#include "testing/server_process.h"
#include "testing/temp_dir.h"
#include "testing/unused_port.h"
#include "testing/wait.h"

namespace wharf {
namespace {

using nlohmann::json;
using testing::HttpClient;
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

constexpr std::size_t kAlcohol = 10;  // the column the second batch shifts

struct WineRows {
  std::vector<std::string> columns;
  std::vector<std::vector<double>> rows;
};

// Every 8th row of the training CSV (160 rows), without the label (the last column).
WineRows TrainingRows() {
  std::ifstream in(WineDir() / "TrainingDataset.csv");
  WineRows out;
  std::string line;
  for (std::size_t i = 0; std::getline(in, line); ++i) {
    const bool header = i == 0;
    if (!header && (i - 1) % 8 != 0) continue;
    std::vector<std::string> fields;
    std::stringstream cells(line);
    for (std::string cell; std::getline(cells, cell, ';');) fields.push_back(cell);
    fields.pop_back();
    if (header) {
      out.columns = fields;
      continue;
    }
    std::vector<double> row;
    for (const auto& f : fields) row.push_back(std::stod(f));
    out.rows.push_back(row);
  }
  return out;
}

std::string InferBody(const std::vector<double>& row) {
  return json{{"inputs", {{{"name", "x"}, {"shape", {1, row.size()}}, {"datatype", "FP64"}, {"data", row}}}}}.dump();
}

// The classic app's body, fields named after `columns`.
std::string RunBody(const std::vector<std::string>& columns, const std::vector<double>& row) {
  json inputs = json::object();
  for (std::size_t c = 0; c < row.size(); ++c) inputs[columns[c]] = row[c];
  return json{{"id", "run"}, {"inputs", inputs}}.dump();
}

class DriftTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r = RunWharf({"train", "--train", (WineDir() / "TrainingDataset.csv").string(), "--estimator", "logistic",
                       "--out", (dir_.path() / "wine").string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  std::unique_ptr<ServerProcess> Serve(std::vector<std::string> args) const {
    args.insert(args.begin(), "serve");
    for (const char* a : {"--port", "0", "--threads", "1", "--store"}) args.push_back(a);
    args.push_back(db_);
    return std::make_unique<ServerProcess>(args);
  }

  ProcessResult Drift(std::vector<std::string> args) const {
    args.insert(args.begin(), "drift");
    args.push_back("--store");
    args.push_back(db_);
    return RunWharf(args);
  }

  double TrainingStd(std::size_t column) const {
    auto r = RunWharf({"model", "inspect", modelfile_, "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return json::parse(r.out)["header"]["feature_summary"][column]["std"].get<double>();
  }

  TempDir dir_;
  std::string modelfile_ = (dir_.path() / "wine" / "Modelfile").string();
  std::string db_ = (dir_.path() / "wharf.db").string();
};

// Half the rows as KServe tensors, half through the classic /run/ route.
void Send(HttpClient& client, const WineRows& wine, double alcohol_shift) {
  for (std::size_t i = 0; i < wine.rows.size(); ++i) {
    auto row = wine.rows[i];
    row[kAlcohol] += alcohol_shift;
    const bool run = i % 2 == 1;
    auto r = run ? client.Post("/run/", RunBody(wine.columns, row))
                 : client.Post("/v2/models/wine/infer", InferBody(row));
    ASSERT_EQ(r.status, 200) << r.body;
  }
}

TEST_F(DriftTest, FlagsTheShiftedFeatureAndOnlyIt) {
  const WineRows wine = TrainingRows();
  ASSERT_EQ(wine.rows.size(), 160u);
  const double shift = 3 * TrainingStd(kAlcohol);
  std::string since;
  {
    auto server = Serve({"--model", "wine=" + modelfile_});
    ASSERT_TRUE(server->started()) << server->output();
    HttpClient client(server->port());
    ASSERT_NO_FATAL_FAILURE(Send(client, wine, 0));
    // FormatTimeUtc keeps milliseconds: the gaps keep each batch on its side.
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    since = FormatTimeUtc(NowMicros());
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    ASSERT_NO_FATAL_FAILURE(Send(client, wine, shift));
    ASSERT_EQ(server->Stop(SIGTERM), 0) << server->output();  // flushes the capture queue
  }

  auto r = Drift({"--endpoint", "wine", "--model", modelfile_, "--since", since, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json report = json::parse(r.out);
  EXPECT_EQ(report["captures"], 160);
  EXPECT_EQ(report["rows"], 160);
  EXPECT_EQ(report["unparsed"], 0);
  EXPECT_EQ(report["drifted"], 1) << r.out;
  ASSERT_EQ(report["features"].size(), 11u);
  for (const auto& f : report["features"]) {
    if (f["feature"] == "alcohol") {
      EXPECT_EQ(f["verdict"], "drifted") << f.dump();
      EXPECT_EQ(f["reasons"], json({"psi", "ks"})) << f.dump();
      EXPECT_NEAR(f["mean"]["live"].get<double>() - f["mean"]["training"].get<double>(), shift, 0.5);
    } else {
      EXPECT_EQ(f["verdict"], "ok") << f.dump();
    }
  }

  // The unchanged batch alone: nothing drifted.
  r = Drift({"--endpoint", "wine", "--model", "wine=" + modelfile_, "--until", since, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out)["drifted"], 0) << r.out;
  EXPECT_EQ(json::parse(r.out)["captures"], 160);

  r = Drift({"--endpoint", "wine", "--model", modelfile_, "--since", since, "--fail-on-drift"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.out.find("1 of 11 features drifted since " + since), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("DRIFT (PSI, KS)"), std::string::npos) << r.out;
  r = Drift({"--endpoint", "wine", "--model", modelfile_, "--until", since, "--fail-on-drift"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

TEST_F(DriftTest, ReadsBodiesWithTheEndpointsAliasesAndCountsTheOnesThatDoNotParse) {
  const auto config = dir_.Write("wine.yaml", "endpoints:\n  - name: wine\n    variants:\n      - {name: v1, model: " +
                                                  modelfile_ + "}\n    aliases: {alc: alcohol}\n");
  WineRows wine = TrainingRows();
  wine.rows.resize(80);
  WineRows aliased = wine;
  aliased.columns[kAlcohol] = "alc";
  {
    auto server = Serve({"--config", config.string()});
    ASSERT_TRUE(server->started()) << server->output();
    HttpClient client(server->port());
    for (const auto& row : wine.rows) ASSERT_EQ(client.Post("/run/", RunBody(aliased.columns, row)).status, 200);
    for (const auto& row : wine.rows) ASSERT_EQ(client.Post("/v2/models/wine/infer", InferBody(row)).status, 200);
    ASSERT_EQ(server->Stop(SIGTERM), 0) << server->output();
  }

  auto r = Drift({"--endpoint", "wine", "--config", config.string(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out)["unparsed"], 0) << r.out;
  EXPECT_EQ(json::parse(r.out)["rows"], 160);

  // Without the alias the /run/ bodies lack alcohol: counted and skipped.
  r = Drift({"--endpoint", "wine", "--model", modelfile_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Skipped 80 of them"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("missing input 'alcohol'"), std::string::npos) << r.out;
}

TEST_F(DriftTest, RefusesBadInputAndReportsAnEmptyRange) {
  {
    auto server = Serve({"--model", "wine=" + modelfile_});
    ASSERT_TRUE(server->started()) << server->output();
    HttpClient client(server->port());
    ASSERT_EQ(client.Post("/v2/models/wine/infer", InferBody(TrainingRows().rows[0])).status, 200);
    ASSERT_EQ(server->Stop(SIGTERM), 0) << server->output();
  }
  // Neither --config nor --model, and no control plane ever applied "wine" here.
  auto r = Drift({"--endpoint", "wine"});
  EXPECT_EQ(r.exit_code, 2);
  // (wharf serve kept its captures beside db_, and made no metadata store.)
  EXPECT_NE(r.err.find("no endpoint 'wine': no store at " + db_), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--config FILE"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("or --model PATH"), std::string::npos) << r.err;
  ASSERT_EQ(RunWharf({"model", "register", "wine", modelfile_, "--store", db_}).exit_code, 0);
  r = Drift({"--endpoint", "wine"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("no endpoint 'wine' in " + db_ + " (applied endpoints: none)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("give --config FILE"), std::string::npos) << r.err;
  r = Drift({"--endpoint", "wine", "--config", "wine.yaml", "--model", modelfile_});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("at most one of --config and --model"), std::string::npos) << r.err;
  r = Drift({"--endpoint", "wine", "--model", modelfile_, "--until", "yesterday"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--until 'yesterday'"), std::string::npos) << r.err;
  r = Drift({"--endpoint", "wine", "--model", (dir_.path() / "nothing").string()});
  EXPECT_EQ(r.exit_code, 2);
  const auto config = dir_.Write("wine.yaml", "endpoints:\n  - name: wine\n    variants:\n      - {name: v1, model: " +
                                                  modelfile_ + "}\n");
  r = Drift({"--endpoint", "red", "--config", config.string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("no endpoint 'red'; its endpoints: wine"), std::string::npos) << r.err;
  r = Drift({"--endpoint", "wine", "--config", config.string(), "--variant", "v2"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("its variants: v1"), std::string::npos) << r.err;

  // One capture: enough to read, too few to judge; an empty range is not an error either.
  r = Drift({"--endpoint", "wine", "--model", modelfile_, "--fail-on-drift"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("11 had too few rows to judge"), std::string::npos) << r.out;
  r = Drift({"--endpoint", "wine", "--model", modelfile_, "--since", "0s", "--fail-on-drift"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("nothing to compare"), std::string::npos) << r.out;
}

// An endpoint the control plane manages: `wharf server` with the test's
// directory as its home (its store is db_, where replicas capture too), the
// wine Modelfile registered twice (versions 1 and 2, each its own copy), and
// revisions made with `wharf endpoint apply`. Drift needs no --config or --model.
class DriftOfAnAppliedEndpointTest : public DriftTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(DriftTest::SetUp());
    for (int version = 1; version <= 2; ++version) {
      auto r = RunWharf({"model", "register", "wine", modelfile_, "--store", db_, "--json"});
      ASSERT_EQ(r.exit_code, 0) << r.err;
      registered_.push_back(json::parse(r.out)["path"].get<std::string>());
    }
    server_ = std::make_unique<ServerProcess>(std::vector<std::string>{
        "server", "--home", dir_.path().string(), "--port", "0", "--cpus", "2"});
    ASSERT_TRUE(server_->started()) << server_->output();
  }

  // Replicas are tasks, which outlive the server: delete the endpoint, then
  // stop whatever still runs.
  void TearDown() override {
    if (!server_ || !server_->started()) return;
    Control({"endpoint", "delete", "wine"});
    const auto none_live = [](const json& live) { return live.value("tasks", json::array()).empty(); };
    const json live = testing::WaitFor(
        [&] {
          const ProcessResult list = Control({"task", "list", "--state", "PENDING,RUNNING", "--limit", "0", "--json"});
          json listed = json::parse(list.out, nullptr, /*allow_exceptions=*/false);
          for (const auto& t : listed.value("tasks", json::array())) {
            Control({"task", "stop", t.value("id", ""), "--grace", "0s"});
          }
          return listed;
        },
        none_live, testing::kPatience, std::chrono::milliseconds(200));  // each look runs the wharf CLI
    EXPECT_TRUE(none_live(live)) << "tasks outlive the test: " << live;
    if (HasFailure()) std::cerr << "server output:\n" << server_->output() << "\n";
  }

  // Runs wharf against this test's server.
  ProcessResult Control(std::vector<std::string> args) const {
    const std::string url = "http://127.0.0.1:" + std::to_string(server_->port());
    args.insert(args.end(), {"--server", url, "--token-file", (dir_.path() / "server.token").string()});
    return RunWharf(args);
  }

  // Applies the wine endpoint with one variant, `variant` serving `model`
  // ("wine@1"), capturing every request durably; `extra` adds YAML lines.
  ProcessResult Apply(const std::string& variant, const std::string& model, const std::string& extra,
                      std::vector<std::string> flags = {}) const {
    const auto spec = dir_.Write(variant + ".yaml", "name: wine\nport: " + std::to_string(port_) +
                                                        "\nvariants: [{name: " + variant + ", model: " + model +
                                                        "}]\ncapture: {mode: durable}\n" + extra);
    std::vector<std::string> args = {"endpoint", "apply", spec.string()};
    args.insert(args.end(), flags.begin(), flags.end());
    return Control(args);
  }

  std::vector<std::string> registered_;  // the registry's copy of versions 1 and 2
  std::unique_ptr<ServerProcess> server_;
  const int port_ = UnusedPort();
};

TEST_F(DriftOfAnAppliedEndpointTest, ComparesWithTheLatestRevisionOrTheOneAskedFor) {
  // Revision 1 serves version 1 without aliases; revision 2 version 2, whose
  // clients call alcohol "alc".
  auto r = Apply("blue", "wine@1", "");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = Apply("green", "wine@2", "aliases: {alc: alcohol}\n", {"--wait", "--timeout", PatienceFlag()});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  WineRows wine = TrainingRows();
  wine.rows.resize(80);
  WineRows aliased = wine;
  aliased.columns[kAlcohol] = "alc";
  HttpClient client(port_);
  for (const auto& row : wine.rows) ASSERT_EQ(client.Post("/run/", RunBody(aliased.columns, row)).status, 200);
  for (const auto& row : wine.rows) ASSERT_EQ(client.Post("/v2/models/wine/infer", InferBody(row)).status, 200);

  r = Drift({"--endpoint", "wine", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json report = json::parse(r.out);
  EXPECT_EQ(report["revision"], 2) << r.out;
  EXPECT_EQ(report["training"]["modelfile"], registered_[1]) << r.out;
  EXPECT_EQ(report["training"]["variant"], "green") << r.out;
  EXPECT_EQ(report["training"]["version"], "2") << r.out;
  EXPECT_EQ(report["captures"], 160) << r.out;
  EXPECT_EQ(report["unparsed"], 0) << r.out;  // revision 2's aliases
  r = Drift({"--endpoint", "wine"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Model: variant green version 2, from endpoint revision 2 (latest)\nTraining data: " +
                       registered_[1] + " ("),
            std::string::npos)
      << r.out;

  // Revision 1: version 1's Modelfile, and no alias, so the /run/ bodies fail to parse.
  r = Drift({"--endpoint", "wine", "--revision", "1", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  report = json::parse(r.out);
  EXPECT_EQ(report["revision"], 1) << r.out;
  EXPECT_EQ(report["training"]["modelfile"], registered_[0]) << r.out;
  EXPECT_EQ(report["training"]["variant"], "blue") << r.out;
  EXPECT_EQ(report["unparsed"], 80) << r.out;

  r = Drift({"--endpoint", "wine", "--revision", "7"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("endpoint 'wine' has no revision 7; its revisions: 1 to 2"), std::string::npos) << r.err;
  r = Drift({"--endpoint", "wine", "--revision", "1", "--model", modelfile_});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("does not go with --model"), std::string::npos) << r.err;
  r = Drift({"--endpoint", "red"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("no endpoint 'red' in " + db_ + " (applied endpoints: wine)"), std::string::npos) << r.err;
  // --model still wins over the store.
  r = Drift({"--endpoint", "wine", "--model", modelfile_, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out)["training"]["modelfile"], modelfile_) << r.out;
  EXPECT_TRUE(json::parse(r.out)["revision"].is_null()) << r.out;
}

}  // namespace
}  // namespace wharf
