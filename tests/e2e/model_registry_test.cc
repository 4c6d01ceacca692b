// The model registry as a user drives it: register, alias, describe, list.

#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "testing/process.h"
#include "testing/temp_dir.h"

namespace wharf {
namespace {

using testing::ProcessResult;
using testing::RunWharf;
using testing::TempDir;
using testing::WineDir;

class ModelRegistryTest : public ::testing::Test {
 protected:
  ProcessResult Wharf(std::vector<std::string> args) const {
    args.push_back("--db");
    args.push_back(db_.string());
    return RunWharf(args);
  }

  std::filesystem::path TrainModel() const {
    const auto out = dir_.path() / "trained";
    auto r = RunWharf({"train", "--train", (WineDir() / "TrainingDataset.csv").string(), "--validation",
                       (WineDir() / "ValidationDataset.csv").string(), "--estimator", "logistic", "--out",
                       out.string()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return out / "Modelfile";
  }

  TempDir dir_;
  std::filesystem::path db_ = dir_.path() / "registry" / "wharf.db";
};

TEST_F(ModelRegistryTest, RegistersVersionsAndMovesAliases) {
  const auto modelfile = TrainModel();
  auto r = Wharf({"model", "register", "wine", modelfile.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Registered wine version 1"), std::string::npos) << r.out;
  r = Wharf({"model", "register", "wine", modelfile.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Registered wine version 2"), std::string::npos) << r.out;
  EXPECT_TRUE(std::filesystem::exists(dir_.path() / "registry" / "models" / "wine" / "2" / "Modelfile"));

  ASSERT_EQ(Wharf({"model", "alias", "wine", "production", "1"}).exit_code, 0);
  r = Wharf({"model", "describe", "wine@production", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["versions"][0]["version"], 1);

  ASSERT_EQ(Wharf({"model", "alias", "wine", "production", "2"}).exit_code, 0);
  r = Wharf({"model", "describe", "wine@production"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Version 2 (production)"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("Version 1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("weighted F1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(modelfile.string()), std::string::npos) << r.out;  // lineage names the source

  r = Wharf({"model", "list", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto list = nlohmann::json::parse(r.out);
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["name"], "wine");
  EXPECT_EQ(list[0]["latest_version"], 2);
  EXPECT_EQ(list[0]["aliases"]["production"], 2);
}

TEST_F(ModelRegistryTest, RejectsAFileThatIsNotAModelfile) {
  const auto csv = (WineDir() / "TrainingDataset.csv").string();
  auto r = Wharf({"model", "register", "wine", csv});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("TrainingDataset.csv"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "registry" / "models"));
}

TEST_F(ModelRegistryTest, RejectsANameThatWouldEscapeTheStore) {
  const auto modelfile = TrainModel();
  for (const std::string name : {"../x", "..", "a/b"}) {
    auto r = Wharf({"model", "register", name, modelfile.string()});
    EXPECT_EQ(r.exit_code, 2) << name;
    EXPECT_NE(r.err.find("invalid model name"), std::string::npos) << r.err;
  }
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "x"));
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "registry" / "x"));
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "registry" / "models"));
}

TEST_F(ModelRegistryTest, DescribeOfAnUnknownModelIsNotFound) {
  auto r = Wharf({"model", "describe", "nope"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("nope"), std::string::npos) << r.err;
  const auto modelfile = TrainModel();
  ASSERT_EQ(Wharf({"model", "register", "wine", modelfile.string()}).exit_code, 0);
  r = Wharf({"model", "describe", "nope"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("model 'nope' not found"), std::string::npos) << r.err;
  r = Wharf({"model", "describe", "wine@staging"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("staging"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace wharf
