#include "serve/serve_fixture.h"

namespace wharf::testing {

void ServeModels::SetUp() {
  if (std::filesystem::exists(Wine()) && std::filesystem::exists(WineXgb()) && std::filesystem::exists(Iris())) return;
  const auto wine = (WineDir() / "TrainingDataset.csv").string();
  const auto iris = (SourceDir() / "examples" / "iris" / "iris.csv").string();
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"train", "--train", wine, "--estimator", "logistic", "--out", (Dir() / "wine").string()},
           {"train", "--train", wine, "--estimator", "xgboost", "--param", "num_round=20", "--out",
            (Dir() / "wine-xgb").string()},
           {"train", "--train", iris, "--label", "species", "--estimator", "logistic", "--out",
            (Dir() / "iris").string()}}) {
    auto r = RunWharf(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
}

std::string WineInferBody(const std::string& id) {
  return std::string("{") + (id.empty() ? "" : "\"id\":\"" + id + "\",") +
         R"("inputs":[{"name":"x","shape":[1,11],"datatype":"FP32",)"
         R"("data":[7.4,0.7,0,1.9,0.076,11,34,0.9978,3.51,0.56,9.4]}]})";
}

long Metric(const std::string& page, const std::string& name) {
  const std::string key = "\n" + name + " ";
  const std::size_t at = page.find(key);
  return at == std::string::npos ? -1 : std::stol(page.substr(at + key.size()));
}

}  // namespace wharf::testing

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::AddGlobalTestEnvironment(new wharf::testing::ServeModels);
  return RUN_ALL_TESTS();
}
