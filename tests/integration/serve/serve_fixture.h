#pragma once
// Shared set-up for the serve tests: models trained once per test binary
// (wine and iris, logistic: fast), request bodies, and polling helpers.

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include "testing/process.h"
#include "testing/temp_dir.h"

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

// Polls `done` every 50 ms for up to `timeout`; true once it holds.
template <typename F>
bool Eventually(F done, std::chrono::seconds timeout = std::chrono::seconds(30)) {
  for (const auto deadline = std::chrono::steady_clock::now() + timeout; std::chrono::steady_clock::now() < deadline;) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return done();
}

}  // namespace wharf::testing
