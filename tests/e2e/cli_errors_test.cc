// What a user sees when they give wharf bad input: exit code 2 and a message
// that names the file, line and column (or the flag) at fault.

#include <zlib.h>

#include <gtest/gtest.h>

#include "artifact/modelfile.h"
#include "testing/process.h"
#include "testing/temp_dir.h"

namespace wharf {
namespace {

using testing::RunWharf;
using testing::TempDir;
using testing::WineDir;

constexpr char kHeader[] = "a;b;quality\n";

std::vector<std::string> Train(const std::filesystem::path& train, const TempDir& dir) {
  return {"train", "--train", train.string(), "--label", "quality", "--out", (dir.path() / "out").string()};
}

TEST(CliErrorsTest, MissingTrainingFileNamesThePath) {
  TempDir dir;
  auto r = RunWharf(Train(dir.path() / "nope.csv", dir));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("nope.csv"), std::string::npos) << r.err;
}

TEST(CliErrorsTest, WrongLabelNameListsTheColumns) {
  TempDir dir;
  auto r = RunWharf({"train", "--train", (WineDir() / "TrainingDataset.csv").string(), "--label", "qualty", "--out",
                     (dir.path() / "out").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("qualty"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("quality"), std::string::npos) << r.err;
}

TEST(CliErrorsTest, EmptyFileIsReported) {
  TempDir dir;
  auto r = RunWharf(Train(dir.Write("empty.csv", ""), dir));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("empty.csv"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("empty"), std::string::npos) << r.err;
}

TEST(CliErrorsTest, BadNumberNamesFileLineAndColumn) {
  TempDir dir;
  const auto file = dir.Write("bad.csv", std::string(kHeader) + "1;2;5\n1.5;abc;6\n");
  auto r = RunWharf(Train(file, dir));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("bad.csv:3:5"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("'b'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("abc"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "out" / "Modelfile"));
}

TEST(CliErrorsTest, RaggedRowNamesItsLine) {
  TempDir dir;
  const auto file = dir.Write("ragged.csv", std::string(kHeader) + "1;2;5\n1;6\n");
  auto r = RunWharf(Train(file, dir));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("ragged.csv:3:"), std::string::npos) << r.err;
}

TEST(CliErrorsTest, UnknownEstimatorListsTheKnownOnes) {
  TempDir dir;
  auto r = RunWharf({"train", "--train", (WineDir() / "TrainingDataset.csv").string(), "--estimator", "xgb",
                     "--out", (dir.path() / "out").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("known: logistic, ordinal-logistic, xgboost, rf"), std::string::npos) << r.err;
}

TEST(CliErrorsTest, MalformedParamIsAUsageError) {
  TempDir dir;
  auto r = RunWharf({"train", "--train", (WineDir() / "TrainingDataset.csv").string(), "--param", "max_depth",
                     "--out", (dir.path() / "out").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("max_depth"), std::string::npos) << r.err;
}

TEST(CliErrorsTest, MissingRequiredFlagIsAUsageError) {
  auto r = RunWharf({"train", "--out", "x"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--train"), std::string::npos) << r.err;
}

TEST(CliErrorsTest, CorruptedModelfileIsAClearErrorAndLeavesNoOutput) {
  TempDir dir;
  const auto model = dir.Write("Modelfile", "WHARFMDL this is not a model");
  const auto out = dir.path() / "p.csv";
  auto r = RunWharf({"predict", "--model", model.string(), "--input", (WineDir() / "TestDataset.csv").string(),
                     "--output", out.string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("Modelfile"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(out));
}

// Found by attacking a fresh build: input files nested hundreds of thousands
// deep overflowed the CLI's stack. Every JSON, YAML and Modelfile header the
// CLI reads obeys one depth rule; past it is a usage error naming the limit.
TEST(CliErrorsTest, InputsNestedPastTheDepthLimitAreUsageErrors) {
  TempDir dir;
  const std::string deep = std::string(300000, '[') + std::string(300000, ']');

  // A Modelfile with a valid checksum (the format: docs/modelfile.md).
  std::string modelfile = std::string(artifact::kModelfileMagic, sizeof(artifact::kModelfileMagic));
  auto le = [&modelfile](std::uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) modelfile.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  };
  const std::string header = R"({"estimator": )" + deep + "}";
  le(artifact::kModelfileFormatVersion, 4);
  le(0, 4);
  le(header.size(), 8);
  modelfile += header;
  le(::crc32(0, reinterpret_cast<const Bytef*>(modelfile.data()), static_cast<uInt>(modelfile.size())), 4);
  const auto model = dir.Write("Modelfile", modelfile);
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"model", "inspect", "--json", model.string()},
        std::vector<std::string>{"model", "inspect", model.string()}}) {
    const auto r = RunWharf(args);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("Modelfile header nests deeper than 64 levels"), std::string::npos) << r.err;
  }

  std::string yaml = "name: deep\nspec:\n";
  for (int i = 0; i < 100; ++i) yaml += std::string(2 * (i + 1), ' ') + "k:\n";
  const std::vector<std::pair<std::vector<std::string>, std::string>> inputs = {
      {{"taskdef", "register", dir.Write("deep.json", R"({"name": "d", "params": )" + deep + "}").string()},
       "deep.json nests deeper than 64 levels"},
      {{"endpoint", "apply", dir.Write("deep-endpoint.json", R"({"name": "d", "x": )" + deep + "}").string()},
       "deep-endpoint.json nests deeper than 64 levels"},
      {{"endpoint", "apply", dir.Write("deep.yaml", yaml).string()}, "nests deeper than 64 levels"},
      {{"endpoint", "apply", dir.Write("flow.yaml", "name: d\nx: " + deep + "\n").string()}, "flow.yaml"},
  };
  for (const auto& [args, expected] : inputs) {
    const auto r = RunWharf(args);
    EXPECT_EQ(r.exit_code, 2) << args.back() << ": " << r.err;
    EXPECT_NE(r.err.find(expected), std::string::npos) << r.err;
  }
}

TEST(CliErrorsTest, InputWithoutAModelFeatureNamesTheColumn) {
  TempDir dir;
  auto trained = RunWharf({"train", "--train", (WineDir() / "TrainingDataset.csv").string(), "--estimator",
                           "logistic", "--out", (dir.path() / "m").string()});
  ASSERT_EQ(trained.exit_code, 0) << trained.err;
  const auto input = dir.Write("partial.csv", "alcohol;pH\n9.4;3.5\n");
  auto r = RunWharf({"predict", "--model", (dir.path() / "m" / "Modelfile").string(), "--input", input.string(),
                     "--output", (dir.path() / "p.csv").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("fixed acidity"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace wharf
