#pragma once
// Shared set-up for the serve tests: models trained once per test binary
// (wine and iris, logistic: fast) and endpoint configs written on demand.

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

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

}  // namespace wharf::testing
