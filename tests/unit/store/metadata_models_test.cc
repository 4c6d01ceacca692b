#include <algorithm>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "store/metadata_store.h"
#include "store_backend.h"

namespace wharf::store {
namespace {

class MetadataStoreModelsTest : public MetadataBackendTest {
 protected:
  ModelVersion Register(std::string_view model, std::string_view modelfile) {
    auto version = store_->RegisterModelVersion(model, modelfile, R"({"accuracy":0.9})", R"({"task":"t1"})");
    EXPECT_TRUE(version.ok()) << version.status().ToString();
    return version.ok() ? *version : ModelVersion{};
  }

  // The Status of looking up `version_or_alias`, expected NotFound; its message.
  std::string NotFoundMessage(std::string_view model, const std::variant<int, std::string>& version_or_alias) {
    const auto version = store_->GetModelVersion(model, version_or_alias);
    EXPECT_EQ(version.status().code(), StatusCode::kNotFound) << version.status().ToString();
    return version.status().message();
  }

};
WHARF_INSTANTIATE_STORE_BACKENDS(MetadataStoreModelsTest);

TEST_P(MetadataStoreModelsTest, VersionsIncrementPerModelAndKeepTheirFields) {
  EXPECT_EQ(Register("wine", "/models/wine/1.wharf").version, 1);
  EXPECT_EQ(Register("wine", "/models/wine/2.wharf").version, 2);
  EXPECT_EQ(Register("iris", "/models/iris/1.wharf").version, 1);
  EXPECT_EQ(Register("wine", "/models/wine/2.wharf").version, 3);  // same file again is still a new version

  const auto second = store_->GetModelVersion("wine", 2);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->model, "wine");
  EXPECT_EQ(second->modelfile_path, "/models/wine/2.wharf");
  EXPECT_EQ(second->metrics_json, R"({"accuracy":0.9})");
  EXPECT_EQ(second->lineage_json, R"({"task":"t1"})");
  EXPECT_GT(second->created_us, 0);

  EXPECT_EQ(store_->ListModels().value(), (std::vector<std::string>{"iris", "wine"}));
  std::vector<int> versions;
  const auto listed = store_->ListModelVersions("wine");
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  for (const auto& v : *listed) versions.push_back(v.version);
  EXPECT_EQ(versions, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(store_->RegisterModelVersion("wine/red", "/m", "{}", "{}").status().code(), StatusCode::kInvalidArgument);
}

TEST_P(MetadataStoreModelsTest, AliasesMoveAndResolve) {
  Register("wine", "/1");
  Register("wine", "/2");
  ASSERT_TRUE(store_->SetAlias("wine", "production", 1).ok());
  ASSERT_TRUE(store_->SetAlias("wine", "staging", 2).ok());
  EXPECT_EQ(store_->GetModelVersion("wine", "production")->modelfile_path, "/1");
  EXPECT_EQ((store_->ListAliases("wine").value()), (std::map<std::string, int>{{"production", 1}, {"staging", 2}}));

  ASSERT_TRUE(store_->SetAlias("wine", "production", 2).ok());
  EXPECT_EQ(store_->GetModelVersion("wine", "production")->version, 2);
  EXPECT_EQ((store_->ListAliases("wine").value()), (std::map<std::string, int>{{"production", 2}, {"staging", 2}}));
  // A string of digits names a version, as it can never be an alias.
  EXPECT_EQ(store_->GetModelVersion("wine", "1")->modelfile_path, "/1");
}

TEST_P(MetadataStoreModelsTest, NumericAndMalformedAliasesAreRejected) {
  Register("wine", "/1");
  for (const std::string_view alias : {"2", "1st", "", "pro duction", "-x"}) {
    const Status status = store_->SetAlias("wine", alias, 1);
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << alias;
    EXPECT_NE(status.message().find("starts with a letter"), std::string::npos) << status.message();
  }
  EXPECT_TRUE(store_->ListAliases("wine")->empty());
}

TEST_P(MetadataStoreModelsTest, UnknownModelVersionOrAliasIsNotFoundByName) {
  Register("wine", "/1");
  ASSERT_TRUE(store_->SetAlias("wine", "production", 1).ok());
  EXPECT_NE(NotFoundMessage("beer", 1).find("model 'beer'"), std::string::npos);
  EXPECT_NE(NotFoundMessage("beer", "production").find("model 'beer'"), std::string::npos);
  EXPECT_NE(NotFoundMessage("wine", 7).find("'wine' has no version 7; its versions are 1 to 1"), std::string::npos);
  EXPECT_NE(NotFoundMessage("wine", "7").find("no version 7"), std::string::npos);
  EXPECT_NE(NotFoundMessage("wine", "canary").find("'wine' has no alias 'canary'; its aliases: production"),
            std::string::npos);

  const Status missing_version = store_->SetAlias("wine", "staging", 9);
  EXPECT_EQ(missing_version.code(), StatusCode::kNotFound);
  EXPECT_NE(missing_version.message().find("no version 9"), std::string::npos) << missing_version.message();
  EXPECT_EQ(store_->SetAlias("beer", "staging", 1).code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->ListModelVersions("beer").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->ListAliases("beer").status().code(), StatusCode::kNotFound);
}

TEST_P(MetadataStoreModelsTest, ConcurrentRegistersGetDistinctConsecutiveVersions) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 5;
  std::vector<std::vector<int>> got(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto store = OpenMetadataStore(location()).value();
      for (int i = 0; i < kPerThread; ++i) {
        const auto version = store->RegisterModelVersion("wine", "/m", "{}", "{}");
        EXPECT_TRUE(version.ok()) << version.status().ToString();
        got[t].push_back(version.ok() ? version->version : -1);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  std::vector<int> versions;
  for (const auto& mine : got) versions.insert(versions.end(), mine.begin(), mine.end());
  std::sort(versions.begin(), versions.end());
  std::vector<int> expected;
  for (int v = 1; v <= kThreads * kPerThread; ++v) expected.push_back(v);
  EXPECT_EQ(versions, expected);
}

}  // namespace
}  // namespace wharf::store
