// Secrets in the metadata store (sealed values by version, removal, and the
// audit log that outlives them) and services (a row per name).

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "store/metadata_store.h"
#include "store_backend.h"

namespace wharf::store {
namespace {

class MetadataStoreSecretsTest : public MetadataBackendTest {};
WHARF_INSTANTIATE_STORE_BACKENDS(MetadataStoreSecretsTest);

TEST_P(MetadataStoreSecretsTest, EachPutIsANewVersionAndGetReturnsTheLatest) {
  auto first = store_->PutSecret("pg", "sealed-1");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->version, 1);
  auto second = store_->PutSecret("pg", "sealed-2");
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->version, 2);
  EXPECT_EQ(second->created_us, first->created_us);
  EXPECT_GE(second->updated_us, first->updated_us);

  auto got = store_->GetSecret("pg");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->sealed, "sealed-2");
  EXPECT_EQ(got->version, 2);
}

TEST_P(MetadataStoreSecretsTest, ListingsNameSecretsWithoutTheirValues) {
  ASSERT_TRUE(store_->PutSecret("b", "sealed-b").ok());
  ASSERT_TRUE(store_->PutSecret("a", "sealed-a").ok());
  auto list = store_->ListSecrets();
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].name, "a");
  EXPECT_EQ((*list)[1].name, "b");
  for (const auto& s : *list) EXPECT_TRUE(s.sealed.empty());
}

TEST_P(MetadataStoreSecretsTest, BadNamesAndEmptyValuesAreRefusedUnknownNamesAreNotFound) {
  EXPECT_EQ(store_->PutSecret("../x", "v").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->PutSecret("x", "").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->GetSecret("nope").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->RemoveSecret("nope").code(), StatusCode::kNotFound);
}

TEST_P(MetadataStoreSecretsTest, RemovedSecretsAreGoneButTheirAuditStays) {
  ASSERT_TRUE(store_->PutSecret("pg", "sealed").ok());
  ASSERT_TRUE(store_->AppendSecretAccess({.name = "pg", .action = "set", .actor = "user:a", .version = 1}).ok());
  ASSERT_TRUE(store_->AppendSecretAccess({.name = "pg", .action = "read", .actor = "task:t1", .version = 1}).ok());
  ASSERT_TRUE(store_->AppendSecretAccess({.name = "other", .action = "read", .actor = "task:t2", .version = 3}).ok());
  ASSERT_TRUE(store_->RemoveSecret("pg").ok());
  EXPECT_EQ(store_->GetSecret("pg").status().code(), StatusCode::kNotFound);

  auto audit = store_->ListSecretAccesses("pg", 0);
  ASSERT_TRUE(audit.ok()) << audit.status().ToString();
  ASSERT_EQ(audit->size(), 2u);
  EXPECT_EQ((*audit)[0].action, "read");  // newest first
  EXPECT_EQ((*audit)[0].actor, "task:t1");
  EXPECT_GT((*audit)[0].seq, (*audit)[1].seq);
  EXPECT_GT((*audit)[0].time_us, 0);

  auto all = store_->ListSecretAccesses("", 2);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].name, "other");
  EXPECT_EQ(store_->AppendSecretAccess({.name = "pg", .action = "read"}).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_P(MetadataStoreSecretsTest, SqlMetacharactersInValuesAreStoredAsData) {
  const std::string value = "x'); DROP TABLE secrets; --";
  ASSERT_TRUE(store_->PutSecret("quoted", value).ok());
  auto got = store_->GetSecret("quoted");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->sealed, value);
}

TEST_P(MetadataStoreSecretsTest, ServicesAreReplacedByNameAndStoppedOnesHiddenFromListings) {
  auto created = store_->PutService({.name = "web", .definition = "web-def", .desired = 2});
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_GT(created->created_us, 0);
  auto scaled = store_->PutService({.name = "web", .definition = "web-def", .desired = 5});
  ASSERT_TRUE(scaled.ok());
  EXPECT_EQ(scaled->created_us, created->created_us);
  EXPECT_GE(scaled->updated_us, created->updated_us);
  EXPECT_EQ(store_->GetService("web").value().desired, 5);
  ASSERT_TRUE(store_->PutService({.name = "batch", .definition = "b", .desired = 0, .active = false}).ok());
  auto active = store_->ListServices(false);
  ASSERT_TRUE(active.ok());
  ASSERT_EQ(active->size(), 1u);
  EXPECT_EQ((*active)[0].name, "web");
  EXPECT_EQ(store_->ListServices(true).value().size(), 2u);
  EXPECT_FALSE(store_->GetService("batch").value().active);
  EXPECT_EQ(store_->GetService("absent").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->PutService({.name = "x", .definition = "d", .desired = -1}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->PutService({.name = "../x", .definition = "d"}).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace wharf::store
