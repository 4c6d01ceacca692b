// `wharf pca fit|transform` as a user drives it on a feature table with
// text columns (path, label) carried along.

#include <cmath>
#include <random>
#include <sstream>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "testing/process.h"
#include "testing/temp_dir.h"

namespace wharf::testing {
namespace {

namespace fs = std::filesystem;

bool Has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// path,label,f1..f6: two latent factors spread over six columns.
std::string Table(int rows, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal;
  std::string csv = "path,label,f1,f2,f3,f4,f5,f6\n";
  for (int r = 0; r < rows; ++r) {
    const double a = 3 * normal(rng), b = 2 * normal(rng);
    csv += fmt::format("img/{}.png,{}", r, a > 0 ? "up" : "down");
    for (int c = 0; c < 6; ++c) csv += fmt::format(",{:.5f}", (c % 2 ? a : b) * (c + 1) + 0.01 * normal(rng));
    csv += "\n";
  }
  return csv;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST(PcaCliTest, FitWritesTheModelTheCurveAndTheReducedTablesThatTransformReproduces) {
  TempDir dir;
  const fs::path train = dir.Write("train.csv", Table(300, 1)), test = dir.Write("test.csv", Table(50, 2));
  const fs::path out = dir.path() / "pca";
  const ProcessResult fit = RunWharf({"pca", "fit", train.string(), "--transform", test.string(), "--out", out.string()});
  ASSERT_EQ(fit.exit_code, 0) << fit.err;
  EXPECT_TRUE(Has(fit.out, "6 features -> 2 components")) << fit.out;
  for (const char* file : {"Modelfile", "results.txt", "explained_variance.csv", "explained_variance.svg", "train.csv",
                           "test.csv"}) {
    EXPECT_TRUE(fs::exists(out / file)) << file;
  }
  const auto reduced = Lines(ReadFile(out / "train.csv"));
  ASSERT_EQ(reduced.size(), 301u);
  EXPECT_EQ(reduced[0], "path,label,pc1,pc2");
  EXPECT_EQ(reduced[1].rfind("img/0.png,", 0), 0u);
  EXPECT_TRUE(Has(ReadFile(out / "results.txt"), "Kept:       2 components")) << ReadFile(out / "results.txt");

  // The Modelfile applied later gives the same table.
  const fs::path again = dir.path() / "test-again.csv";
  const ProcessResult transform =
      RunWharf({"pca", "transform", test.string(), "--model", (out / "Modelfile").string(), "--out", again.string()});
  ASSERT_EQ(transform.exit_code, 0) << transform.err;
  EXPECT_EQ(ReadFile(again), ReadFile(out / "test.csv"));
  const ProcessResult inspect = RunWharf({"model", "inspect", "--json", (out / "Modelfile").string()});
  ASSERT_EQ(inspect.exit_code, 0) << inspect.err;
  EXPECT_EQ(nlohmann::json::parse(inspect.out)["header"]["estimator"]["kind"], "pca");
  // It transforms; it does not classify.
  const ProcessResult predict = RunWharf({"predict", "--model", (out / "Modelfile").string(), "--input", test.string(),
                                          "--output", (dir.path() / "p.csv").string()});
  EXPECT_EQ(predict.exit_code, 2);
  EXPECT_TRUE(Has(predict.err, "a transformer (PCA), not a classifier: apply it with wharf pca transform")) << predict.err;

  // A fixed k; the reduced table trains a classifier with the path ignored.
  const ProcessResult k1 = RunWharf({"pca", "fit", train.string(), "-k", "1", "--out", (dir.path() / "k1").string()});
  ASSERT_EQ(k1.exit_code, 0) << k1.err;
  EXPECT_EQ(Lines(ReadFile(dir.path() / "k1" / "train.csv"))[0], "path,label,pc1");
  const ProcessResult trained = RunWharf({"train", "--train", (out / "train.csv").string(), "--label", "label",
                                          "--ignore", "path", "--estimator", "logistic", "--out",
                                          (dir.path() / "clf").string()});
  ASSERT_EQ(trained.exit_code, 0) << trained.err;
}

TEST(PcaCliTest, BadInputIsAClearErrorWithExitCode2) {
  TempDir dir;
  const fs::path text = dir.Write("t.csv", "path,f1,f2,note\na.png,1,2,hello\nb.png,3,4,bye\n");
  const ProcessResult fit = RunWharf({"pca", "fit", text.string(), "--out", (dir.path() / "o").string()});
  EXPECT_EQ(fit.exit_code, 2);
  EXPECT_TRUE(Has(fit.err, "t.csv:2:11: column 'note': 'hello' is not a number (carry text columns with --keep)"))
      << fit.err;
  EXPECT_FALSE(fs::exists(dir.path() / "o" / "Modelfile"));
  const ProcessResult both = RunWharf({"pca", "fit", text.string(), "-k", "1", "--explained-variance", "0.9", "--out",
                                       (dir.path() / "o").string()});
  EXPECT_EQ(both.exit_code, 2);
  const ProcessResult too_many =
      RunWharf({"pca", "fit", text.string(), "--keep", "path", "--keep", "note", "-k", "3", "--out",
                (dir.path() / "o").string()});
  EXPECT_EQ(too_many.exit_code, 2);
  EXPECT_TRUE(Has(too_many.err, "3 components asked of 2 columns")) << too_many.err;
  const fs::path other = dir.Write("other.csv", "path,f1\na.png,1\n");
  const ProcessResult fitted = RunWharf({"pca", "fit", text.string(), "--keep", "path", "--keep", "note", "-k", "1",
                                         "--out", (dir.path() / "ok").string()});
  ASSERT_EQ(fitted.exit_code, 0) << fitted.err;
  const ProcessResult missing = RunWharf({"pca", "transform", other.string(), "--model",
                                          (dir.path() / "ok" / "Modelfile").string(), "--out",
                                          (dir.path() / "x.csv").string()});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_TRUE(Has(missing.err, "feature column 'f2' not found")) << missing.err;
}

}  // namespace
}  // namespace wharf::testing
