// `wharf featurize` as a user drives it: image folders generated from
// Debian's data by scripts/make-image-folders, a CNN trained on
// Fashion-MNIST cut at a layer, shards run as tasks of the control plane
// and merged, unreadable images skipped or fatal, and the transfer-learning
// pipeline (featurize -> pca fit -> train) on sklearn's digits.

#include <algorithm>
#include <chrono>
#include <random>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "fashion_model.h"
#include "testing/process.h"
#include "testing/server_process.h"
#include "testing/temp_dir.h"

namespace wharf::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

bool Has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

class FeaturizeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!WharfHasDeepLearning()) GTEST_SKIP() << "this build has no deep learning plugin (sanitizer build)";
    if (!fs::exists(kTestImages)) GTEST_SKIP() << kFashionMnist << " is missing (Debian package dataset-fashion-mnist)";
    EnsureModel();
    ASSERT_TRUE(fs::exists(Model()));
  }

  // scripts/make-image-folders DATASET OUT ARGS...
  fs::path Images(const std::string& dataset, std::vector<std::string> args = {}) {
    const fs::path out = work_.path() / dataset;
    std::vector<std::string> argv = {(SourceDir() / "scripts" / "make-image-folders").string(), dataset, out.string()};
    argv.insert(argv.end(), args.begin(), args.end());
    const ProcessResult r = RunProcess(argv);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    return out;
  }

  ProcessResult Featurize(std::vector<std::string> args) {
    args.insert(args.begin(), "featurize");
    return RunWharf(args);
  }

  static json Manifest(const fs::path& dir) { return json::parse(ReadFile(dir / "features.json")); }

  TempDir work_;
};

TEST_F(FeaturizeTest, ShardsRunAsTasksMergeIntoExactlyTheSingleRunsTables) {
  const fs::path images = Images("fashion-mnist", {"--per-class", "8", "--classes",
                                             (SourceDir() / "examples/fashion-mnist/classes.txt").string()});
  const fs::path single = work_.path() / "single";
  const ProcessResult one =
      Featurize({"--model", Model().string(), "--images", images.string(), "--batch-size", "8", "--out", single.string()});
  ASSERT_EQ(one.exit_code, 0) << one.err;
  EXPECT_TRUE(Has(one.out, "Featurized 90 images (0 skipped)")) << one.out;

  // The same run as three tasks of the control plane (local executor).
  const fs::path home = work_.path() / "home";
  ServerProcess server({"server", "--home", home.string(), "--port", "0", "--cpus", "2"});
  ASSERT_TRUE(server.started()) << server.output();
  const std::vector<std::string> client = {"--server", "http://127.0.0.1:" + std::to_string(server.port()),
                                           "--token-file", (home / "server.token").string()};
  auto wharf = [&](std::vector<std::string> args) {
    args.insert(args.end(), client.begin(), client.end());
    return RunWharf(args);
  };
  const json definition = {{"name", "fashion-features"},
                           {"job", "featurize"},
                           {"params", {{"images", images.string()}, {"model", Model().string()}, {"batch_size", 8}}},
                           {"resources", {{"cpus", 1}}}};
  const fs::path file = work_.Write("featurize.json", definition.dump());
  ASSERT_EQ(wharf({"taskdef", "register", file.string()}).exit_code, 0);
  const ProcessResult run = wharf({"run", "fashion-features", "--count", "3", "--wait", "--json"});
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err << server.output();
  std::vector<fs::path> shards;
  const json tasks = json::parse(run.out)["tasks"];
  for (const auto& task : tasks) {
    ASSERT_EQ(task["state"], "SUCCEEDED") << task.dump();
    shards.push_back(home / "artifacts" / "tasks" / task["id"].get<std::string>());
    EXPECT_EQ(Manifest(shards.back())["shard"]["count"], 3);
  }
  ASSERT_EQ(shards.size(), 3u) << run.out;
  std::shuffle(shards.begin(), shards.end(), std::mt19937(7));  // merge orders them by their manifests

  const fs::path merged = work_.path() / "merged";
  std::vector<std::string> merge = {"featurize", "merge"};
  for (const auto& s : shards) merge.push_back(s.string());
  merge.insert(merge.end(), {"--out", merged.string()});
  const ProcessResult joined = RunWharf(merge);
  ASSERT_EQ(joined.exit_code, 0) << joined.err;
  for (const char* table : {"train.csv", "train.npy", "test.csv", "test.npy"}) {
    const std::string expected = ReadFile(single / table);
    ASSERT_FALSE(expected.empty()) << table;
    EXPECT_TRUE(ReadFile(merged / table) == expected) << table << " differs from the single run's";
  }
  const json m = Manifest(merged);
  EXPECT_EQ(m["processed"], 90);
  EXPECT_EQ(m["tables"]["train"]["rows"], 80);
  EXPECT_EQ(m["tables"]["test"]["rows"], 10);
  EXPECT_EQ(m["layer"], "l9");

  // A missing shard is named, not silently merged.
  const ProcessResult partial = RunWharf({"featurize", "merge", shards[0].string(), shards[1].string(), "--out",
                                          (work_.path() / "partial").string()});
  EXPECT_EQ(partial.exit_code, 2);
  EXPECT_TRUE(Has(partial.err, "missing")) << partial.err;
}

TEST_F(FeaturizeTest, TheTablesReadBackInNumpyWithPathLabelAndFeatures) {
  if (RunProcess({"/usr/bin/python3", "-c", "import numpy"}).exit_code != 0) GTEST_SKIP() << "no numpy for /usr/bin/python3";
  const fs::path images = Images("fashion-mnist", {"--per-class", "3"});
  const fs::path out = work_.path() / "out";
  ASSERT_EQ(Featurize({"--model", Model().string(), "--images", images.string(), "--out", out.string()}).exit_code, 0);
  const ProcessResult numpy = RunProcess(
      {"/usr/bin/python3", "-c",
       "import csv, numpy as np, sys\n"
       "a = np.load(sys.argv[1])\n"
       "rows = list(csv.reader(open(sys.argv[2])))\n"
       "assert a.dtype.names == ('path', 'label', 'features'), a.dtype\n"
       "assert a.shape == (len(rows) - 1,), (a.shape, len(rows))\n"
       "assert a['features'].shape == (len(rows) - 1, 128), a['features'].shape\n"
       "assert a[2]['path'] == rows[3][0] and a[2]['label'] == rows[3][1], (a[2]['path'], rows[3][:2])\n"
       "assert np.array_equal(a['features'][2], np.array(rows[3][2:], dtype=np.float32))\n"
       "print('ok', a.shape[0])\n",
       (out / "train.npy").string(), (out / "train.csv").string()});
  EXPECT_EQ(numpy.exit_code, 0) << numpy.out << numpy.err;
  EXPECT_TRUE(Has(numpy.out, "ok 30")) << numpy.out;
}

// The features as numbers: row -> the floats after path and label.
std::vector<std::vector<double>> Values(const fs::path& csv) {
  std::vector<std::vector<double>> rows;
  std::istringstream in(ReadFile(csv));
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) {
    std::vector<double> row;
    std::istringstream fields(line);
    std::string field;
    for (int i = 0; std::getline(fields, field, ','); ++i) {
      if (i >= 2) row.push_back(std::stod(field));
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

TEST_F(FeaturizeTest, TheOnnxFormAndIdxInputGiveTheSameFeatures) {
  const fs::path images = Images("fashion-mnist", {"--per-class", "3"});
  const fs::path script = work_.path() / "ts", onnx = work_.path() / "onnx";
  ASSERT_EQ(Featurize({"--model", Model().string(), "--images", images.string(), "--out", script.string()}).exit_code, 0);
  const ProcessResult r = Featurize(
      {"--model", Model().string(), "--engine", "onnx", "--images", images.string(), "--out", onnx.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Manifest(onnx)["layer"], "onnx_node!Relu_9");  // the input of the last fully connected layer
  const auto a = Values(script / "train.csv"), b = Values(onnx / "train.csv");
  ASSERT_EQ(a.size(), 30u);
  ASSERT_EQ(b.size(), a.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i].size(), 128u);
    ASSERT_EQ(b[i].size(), 128u);
    for (std::size_t j = 0; j < a[i].size(); ++j) EXPECT_NEAR(a[i][j], b[i][j], 1e-3 * (1 + std::abs(a[i][j])));
  }
  // An IDX file: labels named by --classes, paths FILE#index.
  const fs::path idx = work_.path() / "idx";
  ASSERT_EQ(Featurize({"--model", Model().string(), "--images", kTestImages.string(), "--classes",
                       (SourceDir() / "examples/fashion-mnist/classes.txt").string(), "--out", idx.string()})
                .exit_code,
            0);
  EXPECT_EQ(Manifest(idx)["tables"]["features"]["rows"], 10000);
  EXPECT_TRUE(Has(ReadFile(idx / "features.csv"), "\nt10k-images-idx3-ubyte.gz#0,Ankle boot,"));
}

TEST_F(FeaturizeTest, UnreadableImagesAreSkippedCountedAndNamedOrStopTheRun) {
  const fs::path images = Images("colour", {"--count", "12", "--corrupt", "2"});
  const fs::path out = work_.path() / "out";
  const ProcessResult skipped = Featurize(
      {"--model", Model().string(), "--images", images.string(), "--color", "gray", "--out", out.string()});
  ASSERT_EQ(skipped.exit_code, 0) << skipped.err;
  EXPECT_TRUE(Has(skipped.out, "Featurized 14 images (2 skipped)")) << skipped.out;
  EXPECT_TRUE(Has(skipped.err, "skipped disc/corrupt-0.png: not a readable image")) << skipped.err;
  const json m = Manifest(out);
  ASSERT_EQ(m["skipped"].size(), 2u);
  EXPECT_EQ(m["skipped"][0]["path"], "disc/corrupt-0.png");
  EXPECT_EQ(m["tables"]["features"]["rows"], 12);
  // The labels are the folders' names.
  EXPECT_TRUE(Has(ReadFile(out / "features.csv"), "\nsquare/0001.png,square,")) << ReadFile(out / "features.csv").substr(0, 200);

  const ProcessResult failed = Featurize({"--model", Model().string(), "--images", images.string(), "--color", "gray",
                                          "--on-error", "fail", "--out", (work_.path() / "failed").string()});
  EXPECT_EQ(failed.exit_code, 2);
  EXPECT_TRUE(Has(failed.err, "corrupt-0.png: not a readable image")) << failed.err;
  EXPECT_FALSE(fs::exists(work_.path() / "failed" / "features.csv"));
}

TEST_F(FeaturizeTest, ColourImagesNeedADeclaredConversionForAGrayNetwork) {
  const fs::path images = Images("colour", {"--count", "3"});
  const ProcessResult r = Featurize({"--model", Model().string(), "--images", images.string(), "--on-error", "fail",
                                     "--out", (work_.path() / "out").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(Has(r.err, "a colour image, and the network takes 1 channel: declare the conversion with --color gray"))
      << r.err;
}

TEST_F(FeaturizeTest, BadFlagsAreClearErrorsWithExitCode2) {
  const fs::path images = Images("colour", {"--count", "3"});
  const std::string out = (work_.path() / "out").string();
  const ProcessResult layer = Featurize({"--model", Model().string(), "--images", images.string(), "--layer", "fc9",
                                         "--color", "gray", "--out", out});
  EXPECT_EQ(layer.exit_code, 2);
  EXPECT_TRUE(Has(layer.err, "no layer 'fc9' in this lenet network: its layers are l0 .. l10")) << layer.err;
  const ProcessResult shard = Featurize({"--raw", "--images", images.string(), "--shard", "3/3", "--out", out});
  EXPECT_EQ(shard.exit_code, 2);
  EXPECT_TRUE(Has(shard.err, "--shard 3/3: the index must be below the count")) << shard.err;
  const ProcessResult neither = Featurize({"--images", images.string(), "--out", out});
  EXPECT_EQ(neither.exit_code, 2);
  const ProcessResult layers = Featurize({"--model", Model().string(), "--list-layers"});
  EXPECT_EQ(layers.exit_code, 0);
  EXPECT_TRUE(Has(layers.out, "l9    dropout 0.25 (identity when featurizing)   (default: the penultimate)")) << layers.out;
}

// The tutorial: a network that never saw a digit describes sklearn's 8x8
// digits (resized to its 28x28 input); PCA keeps 95% of the variance; a
// linear classifier learns the digits from those few numbers.
TEST_F(FeaturizeTest, DigitsFeaturizedByAFashionNetworkTrainAClassifierThroughPca) {
  const fs::path digits = Images("digits");
  const fs::path features = work_.path() / "features", pca = work_.path() / "pca";
  const ProcessResult featurized =
      Featurize({"--model", Model().string(), "--images", digits.string(), "--layer", "l5", "--out", features.string()});
  ASSERT_EQ(featurized.exit_code, 0) << featurized.err;
  const ProcessResult fitted = RunWharf({"pca", "fit", (features / "train.csv").string(), "--transform",
                                         (features / "test.csv").string(), "--out", pca.string()});
  ASSERT_EQ(fitted.exit_code, 0) << fitted.err;
  EXPECT_TRUE(Has(fitted.out, "3136 features ->")) << fitted.out;
  EXPECT_TRUE(Has(fitted.out, "randomized SVD")) << fitted.out;
  const ProcessResult trained =
      RunWharf({"train", "--train", (pca / "train.csv").string(), "--validation", (pca / "test.csv").string(), "--label",
                "label", "--ignore", "path", "--estimator", "logistic", "--out", (work_.path() / "clf").string()});
  ASSERT_EQ(trained.exit_code, 0) << trained.err;
  const json metrics = json::parse(ReadFile(work_.path() / "clf" / "metrics.json"));
  const double accuracy = metrics["validation"]["accuracy"];
  RecordProperty("transfer_accuracy", std::to_string(accuracy));
  EXPECT_GT(accuracy, 0.9) << trained.out;  // ten classes: chance is 0.1
}

}  // namespace
}  // namespace wharf::testing
