// `wharf drift` as a user runs it: train a wine model, serve it with
// capture, send rows of its training data unchanged and then with alcohol
// moved up three standard deviations, and ask which features drifted.
//
// Not the validation CSV: its rows (the same as the test CSV's) really did
// drift from the training rows, in 9 of the 11 features.

#include <chrono>
#include <fstream>
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

namespace wharf {
namespace {

using nlohmann::json;
using testing::HttpClient;
using testing::ProcessResult;
using testing::RunWharf;
using testing::ServerProcess;
using testing::TempDir;
using testing::WineDir;

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
  auto r = Drift({"--endpoint", "wine"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--config"), std::string::npos) << r.err;
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

}  // namespace
}  // namespace wharf
