// Prediction streams: memory stays flat however long the input is, so files
// larger than memory can be predicted.

#include <gtest/gtest.h>

#include <fstream>

#include "testing/process.h"
#include "testing/temp_dir.h"

// gcc says it builds with AddressSanitizer by a macro, clang by a feature.
#if defined(__SANITIZE_ADDRESS__)
#define WHARF_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WHARF_UNDER_ASAN 1
#endif
#endif

namespace wharf {
namespace {

using testing::RunWharf;
using testing::TempDir;
using testing::WineDir;

TEST(StreamingTest, PeakMemoryDoesNotGrowWithTheInput) {
#if defined(WHARF_UNDER_ASAN)
  GTEST_SKIP() << "AddressSanitizer's quarantine keeps freed memory, so peak RSS grows with the input";
#endif
  TempDir dir;
  auto trained = RunWharf({"train", "--train", (WineDir() / "TrainingDataset.csv").string(), "--estimator",
                           "logistic", "--out", (dir.path() / "m").string()});
  ASSERT_EQ(trained.exit_code, 0) << trained.err;

  // 400k rows: holding them as floats alone would take 17.6 MB more.
  const auto big = dir.path() / "big.csv";
  {
    std::ifstream test(WineDir() / "TestDataset.csv");
    std::string header, row;
    std::getline(test, header);
    std::getline(test, row);
    std::ofstream out(big);
    out << header << '\n';
    for (int i = 0; i < 400000; ++i) out << row << '\n';
  }
  const auto model = (dir.path() / "m" / "Modelfile").string();
  auto small = RunWharf({"predict", "--model", model, "--input", (WineDir() / "TestDataset.csv").string(),
                         "--output", (dir.path() / "small.csv").string()});
  auto large = RunWharf({"predict", "--model", model, "--input", big.string(), "--output",
                         (dir.path() / "large.csv").string()});
  ASSERT_EQ(small.exit_code, 0) << small.err;
  ASSERT_EQ(large.exit_code, 0) << large.err;
  EXPECT_NE(large.out.find("Predicted 400000 rows"), std::string::npos) << large.out;
  EXPECT_LT(large.max_rss_kb, small.max_rss_kb + 8 * 1024)
      << "small input: " << small.max_rss_kb << " kB, 400k rows: " << large.max_rss_kb << " kB";
}

}  // namespace
}  // namespace wharf
