#include "artifact/registry.h"

#include <memory>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "testing/temp_dir.h"

namespace wharf::artifact {
namespace {

using ::testing::HasSubstr;

class FakeModel : public Model {
 public:
  explicit FakeModel(std::string tag) : tag_(std::move(tag)) {}
  const ModelSchema& schema() const override { return schema_; }
  std::size_t output_width() const override { return 1; }
  Status Predict(const float*, std::size_t, float*) const override { return Status::Ok(); }
  const std::string& tag() const { return tag_; }

 private:
  ModelSchema schema_;
  std::string tag_;
};

Modelfile WithKind(const std::string& kind) {
  Modelfile file;
  file.header = {{"estimator", {{"kind", kind}}}};
  file.sections = {{"model", "payload"}};
  return file;
}

// A loader that records the payload it was given and returns a FakeModel.
ModelLoader FakeLoader(std::string tag, int* calls) {
  return [tag = std::move(tag), calls](const Modelfile& file, const LoadOptions&) -> Result<std::unique_ptr<Model>> {
    ++*calls;
    const Section* s = file.Find("model");
    if (s == nullptr) return InvalidArgument("no model section");
    return std::unique_ptr<Model>(std::make_unique<FakeModel>(tag + ":" + s->bytes));
  };
}

TEST(ModelRegistryTest, CallsTheLoaderRegisteredForTheKind) {
  ModelRegistry registry;
  int xgb_calls = 0, rf_calls = 0;
  registry.Register("xgboost", FakeLoader("xgb", &xgb_calls));
  registry.Register("rf", FakeLoader("rf", &rf_calls));
  auto model = registry.Load(WithKind("rf"));
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ(rf_calls, 1);
  EXPECT_EQ(xgb_calls, 0);
  EXPECT_EQ(static_cast<FakeModel&>(**model).tag(), "rf:payload");
}

TEST(ModelRegistryTest, UnknownKindListsKnownKinds) {
  ModelRegistry registry;
  int calls = 0;
  registry.Register("xgboost", FakeLoader("xgb", &calls));
  registry.Register("logistic", FakeLoader("log", &calls));
  auto model = registry.Load(WithKind("xgb"));
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(model.status().message(), "unknown estimator kind 'xgb'; known: logistic, xgboost");
  EXPECT_EQ(calls, 0);
}

TEST(ModelRegistryTest, HeaderWithoutKindIsInvalidArgument) {
  ModelRegistry registry;
  Modelfile file;
  file.header = {{"estimator", "xgboost"}};
  EXPECT_EQ(registry.Load(file).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(registry.Load(Modelfile{}).status().code(), StatusCode::kInvalidArgument);
}

TEST(ModelRegistryTest, RegisteringAKindTwiceReplacesTheLoader) {
  ModelRegistry registry;
  int first = 0, second = 0;
  registry.Register("rf", FakeLoader("a", &first));
  registry.Register("rf", FakeLoader("b", &second));
  EXPECT_TRUE(registry.Load(WithKind("rf")).ok());
  EXPECT_EQ(first, 0);
  EXPECT_EQ(second, 1);
  EXPECT_EQ(registry.kinds(), std::vector<std::string>{"rf"});
}

TEST(ModelRegistryTest, LoadModelReadsTheFileAndNamesThePathInErrors) {
  testing::TempDir dir;
  const auto path = dir.path() / "m.wharf";
  ASSERT_TRUE(WriteModelfile(WithKind("svm"), path).ok());
  ModelRegistry registry;
  int calls = 0;
  registry.Register("rf", FakeLoader("rf", &calls));
  auto missing_kind = LoadModel(path, registry);
  ASSERT_FALSE(missing_kind.ok());
  EXPECT_THAT(missing_kind.status().message(), HasSubstr(path.string()));
  EXPECT_THAT(missing_kind.status().message(), HasSubstr("known: rf"));

  registry.Register("svm", FakeLoader("svm", &calls));
  auto model = LoadModel(path, registry);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ(calls, 1);

  EXPECT_EQ(LoadModel(dir.path() / "absent.wharf", registry).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace wharf::artifact
