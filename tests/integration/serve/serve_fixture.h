#pragma once
// Shared set-up for the serve tests: models trained once per test binary
// (wine and iris, logistic: fast), request bodies, and polling helpers.

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <utility>

#include "testing/process.h"
#include "testing/temp_dir.h"
#include "testing/wait.h"

namespace wharf::testing {

// Trains the models into the build tree unless they are already there, so
// every test process (ctest runs one per test) reuses them.
class ServeModels : public ::testing::Environment {
 public:
  void SetUp() override;
  static std::filesystem::path Dir() { return WHARF_TEST_WORK_DIR; }
  static std::filesystem::path Wine() { return Dir() / "wine" / "Modelfile"; }
  static std::filesystem::path WineXgb() { return Dir() / "wine-xgb" / "Modelfile"; }
  static std::filesystem::path Iris() { return Dir() / "iris" / "Modelfile"; }
};

// One wine row as a KServe v2 FP32 [1, 11] tensor body, with `id`.
std::string WineInferBody(const std::string& id = "");

// The value of the counter or gauge `name` in a Prometheus text page; -1 if absent.
long Metric(const std::string& page, const std::string& name);

// Polls `done` every 50 ms (its checks post requests and read stores) until it
// holds or `limit` passes; true once it holds.
template <typename F>
bool Eventually(F&& done, std::chrono::milliseconds limit = kPatience) {
  return WaitUntil(std::forward<F>(done), limit, std::chrono::milliseconds(50));
}

}  // namespace wharf::testing
