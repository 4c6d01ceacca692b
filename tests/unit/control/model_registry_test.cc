#include "control/model_registry.h"

#include <filesystem>
#include <memory>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "artifact/modelfile.h"
#include "testing/temp_dir.h"

namespace wharf::control {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::ReadFile;
using testing::TempDir;
using ::testing::HasSubstr;

TEST(ModelRefTest, ParsesNameVersionAndAlias) {
  auto latest = ParseModelRef("wine");
  ASSERT_TRUE(latest.ok()) << latest.status().ToString();
  EXPECT_EQ(latest->model, "wine");
  EXPECT_FALSE(latest->version_or_alias.has_value());

  auto version = ParseModelRef("wine@3");
  ASSERT_TRUE(version.ok()) << version.status().ToString();
  EXPECT_EQ(version->model, "wine");
  EXPECT_EQ(version->version_or_alias, (std::variant<int, std::string>(3)));

  auto alias = ParseModelRef("wine-v2.a_b@production");
  ASSERT_TRUE(alias.ok()) << alias.status().ToString();
  EXPECT_EQ(alias->model, "wine-v2.a_b");
  EXPECT_EQ(alias->version_or_alias, (std::variant<int, std::string>(std::string("production"))));
}

TEST(ModelRefTest, RejectsBadNamesAndAliases) {
  for (const char* text : {"", "@3", "wine@", "wine@3a", "wine@1@2", "bad name", "../wine", "..", "wine/1",
                           "wine@prod uction", "wine@0", "wine@-1"}) {
    const auto ref = ParseModelRef(text);
    EXPECT_EQ(ref.status().code(), StatusCode::kInvalidArgument) << "'" << text << "'";
  }
}

class ModelRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = store::OpenSqliteMetadataStore(dir_.path() / "wharf.db");
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
  }

  // A Modelfile whose header tells what RegisterModelfile copies into lineage.
  fs::path WriteSample(const std::string& name, double accuracy) {
    artifact::Modelfile file;
    file.header = {{"estimator", {{"kind", "logistic"}}},
                   {"metrics", {{"accuracy", accuracy}}},
                   {"data", {{"train", {{"sha256", "abc123"}}}}},
                   {"created_at", "2026-01-02T03:04:05Z"}};
    file.sections = {{"weights", "0123"}};
    const fs::path path = dir_.path() / name;
    EXPECT_TRUE(artifact::WriteModelfile(file, path).ok());
    return path;
  }

  Result<store::ModelVersion> Register(const fs::path& modelfile, std::string alias = "",
                                       json lineage = json::object()) {
    return RegisterModelfile(*store_, models_dir(), {"wine", modelfile, std::move(lineage), std::move(alias)});
  }

  fs::path models_dir() const { return dir_.path() / "models"; }

  TempDir dir_;
  std::unique_ptr<store::MetadataStore> store_;
};

TEST_F(ModelRegistryTest, NumbersVersionsAndCopiesEachUnderItsNumber) {
  const fs::path first = WriteSample("a.wharf", 0.8);
  const fs::path second = WriteSample("b.wharf", 0.9);
  auto v1 = Register(first);
  ASSERT_TRUE(v1.ok()) << v1.status().ToString();
  auto v2 = Register(second);
  ASSERT_TRUE(v2.ok()) << v2.status().ToString();

  EXPECT_EQ(v1->model, "wine");
  EXPECT_EQ(v1->version, 1);
  EXPECT_EQ(v2->version, 2);
  EXPECT_EQ(fs::path(v1->modelfile_path), fs::absolute(models_dir() / "wine" / "1" / "Modelfile"));
  EXPECT_EQ(fs::path(v2->modelfile_path), fs::absolute(models_dir() / "wine" / "2" / "Modelfile"));
  EXPECT_EQ(ReadFile(v1->modelfile_path), ReadFile(first));
  EXPECT_EQ(ReadFile(v2->modelfile_path), ReadFile(second));

  // The copy is the registered model: changing the source later changes nothing.
  WriteSample("a.wharf", 0.1);
  EXPECT_NE(ReadFile(v1->modelfile_path), ReadFile(first));
  EXPECT_TRUE(artifact::ReadModelfile(v1->modelfile_path).ok());

  auto versions = store_->ListModelVersions("wine");
  ASSERT_TRUE(versions.ok());
  ASSERT_EQ(versions->size(), 2u);
  EXPECT_EQ(versions->back().modelfile_path, v2->modelfile_path);
}

TEST_F(ModelRegistryTest, RecordsMetricsAndLineageWithTheGivenFields) {
  const fs::path source = WriteSample("m.wharf", 0.9);
  auto v = Register(source, "", {{"task_id", "t-1"}, {"definition", "wine-train:2"}});
  ASSERT_TRUE(v.ok()) << v.status().ToString();

  EXPECT_EQ(json::parse(v->metrics_json), json({{"accuracy", 0.9}}));
  const json lineage = json::parse(v->lineage_json);
  EXPECT_EQ(lineage["source"], fs::absolute(source).string());
  EXPECT_EQ(lineage["data_sha256"], "abc123");
  EXPECT_EQ(lineage["estimator"], "logistic");
  EXPECT_EQ(lineage["created_at"], "2026-01-02T03:04:05Z");
  EXPECT_EQ(lineage["task_id"], "t-1");
  EXPECT_EQ(lineage["definition"], "wine-train:2");
}

TEST_F(ModelRegistryTest, PointsTheAliasAtTheNewVersion) {
  ASSERT_TRUE(Register(WriteSample("a.wharf", 0.8), "production").ok());
  ASSERT_TRUE(Register(WriteSample("b.wharf", 0.9)).ok());
  auto aliases = store_->ListAliases("wine");
  ASSERT_TRUE(aliases.ok());
  EXPECT_EQ(*aliases, (std::map<std::string, int>{{"production", 1}}));

  ASSERT_TRUE(Register(WriteSample("c.wharf", 0.95), "production").ok());
  aliases = store_->ListAliases("wine");
  EXPECT_EQ(*aliases, (std::map<std::string, int>{{"production", 3}}));

  auto by_alias = ResolveModelRef(*store_, *ParseModelRef("wine@production"));
  ASSERT_TRUE(by_alias.ok()) << by_alias.status().ToString();
  EXPECT_EQ(by_alias->version, 3);
  auto by_number = ResolveModelRef(*store_, *ParseModelRef("wine@2"));
  ASSERT_TRUE(by_number.ok());
  EXPECT_EQ(by_number->version, 2);
  auto latest = ResolveModelRef(*store_, *ParseModelRef("wine"));
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ(latest->version, 3);
  EXPECT_EQ(ResolveModelRef(*store_, *ParseModelRef("wine@7")).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(ResolveModelRef(*store_, *ParseModelRef("beer")).status().code(), StatusCode::kNotFound);
}

TEST_F(ModelRegistryTest, RejectsWhatIsNotAModelfileAndRegistersNothing) {
  const fs::path text = dir_.Write("notes.txt", "not a model, just some text that is long enough");
  auto bad = Register(text);
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument) << bad.status().ToString();

  auto missing = Register(dir_.path() / "absent.wharf");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound) << missing.status().ToString();

  auto bad_alias = Register(WriteSample("m.wharf", 0.9), "1st");
  EXPECT_EQ(bad_alias.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(bad_alias.status().message(), HasSubstr("'1st'"));

  const ModelRegistration escape{"../wine", WriteSample("m.wharf", 0.9), json::object(), ""};
  auto bad_name = RegisterModelfile(*store_, models_dir(), escape);
  EXPECT_EQ(bad_name.status().code(), StatusCode::kInvalidArgument);

  auto models = store_->ListModels();
  ASSERT_TRUE(models.ok());
  EXPECT_TRUE(models->empty());
  EXPECT_FALSE(fs::exists(models_dir() / "wine"));
  EXPECT_FALSE(fs::exists(dir_.path() / "wine"));
}

TEST(ModelVersionJsonTest, ShowsTheVersionWithItsAliases) {
  store::ModelVersion v{"wine", 2, "/m/wine/2/Modelfile", R"({"accuracy":0.9})", R"({"task_id":"t"})", 1'000'000};
  const json j = ModelVersionToJson(v, {{"production", 2}, {"staging", 1}, {"canary", 2}});
  EXPECT_EQ(j["version"], 2);
  EXPECT_EQ(j["path"], "/m/wine/2/Modelfile");
  EXPECT_EQ(j["metrics"], json({{"accuracy", 0.9}}));
  EXPECT_EQ(j["lineage"], json({{"task_id", "t"}}));
  EXPECT_EQ(j["aliases"], json({"canary", "production"}));
  EXPECT_EQ(j["created_at"], "1970-01-01T00:00:01.000Z");
  EXPECT_TRUE(TimeToJson(0).is_null());
}

}  // namespace
}  // namespace wharf::control
