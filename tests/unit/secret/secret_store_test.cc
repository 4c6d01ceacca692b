// The vault (sealing under a 0600 key file) and the secret store above it:
// values round-trip, the store holds only sealed text, every access is
// audited, and a key or sealed value that is wrong is refused.

#include <sys/stat.h>

#include <string>

#include <gtest/gtest.h>

#include "core/file.h"
#include "secret/secret_store.h"
#include "secret/vault.h"
#include "testing/temp_dir.h"

namespace wharf::secret {
namespace {

namespace fs = std::filesystem;

class SecretStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = OpenSecretStore((dir_.path() / "wharf.db").string(), KeyFile(dir_.path()));
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    opened_ = std::move(opened).value();
  }

  testing::TempDir dir_;
  OpenedSecretStore opened_;
};

TEST_F(SecretStoreTest, TheKeyFileIsCreatedOwnerOnly) {
  struct stat info {};
  ASSERT_EQ(::stat(KeyFile(dir_.path()).c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
}

TEST_F(SecretStoreTest, ValuesRoundTripAndTheStoreHoldsOnlySealedText) {
  using namespace std::string_literals;
  const std::string value = "s3cr3t-\n-with\0nul"s;
  ASSERT_TRUE(opened_.secrets->Set("pg", value, "user:test").ok());
  auto read = opened_.secrets->Read("pg", "task:t1");
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->value, value);
  EXPECT_EQ(read->version, 1);

  auto stored = opened_.store->GetSecret("pg");
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->sealed.find("s3cr3t"), std::string::npos);
  auto db = ReadFile(dir_.path() / "wharf.db");
  ASSERT_TRUE(db.ok());
  EXPECT_EQ(db->find("s3cr3t"), std::string::npos);
}

TEST_F(SecretStoreTest, EverySetReadAndRemovalIsAudited) {
  ASSERT_TRUE(opened_.secrets->Set("pg", "one", "user:alice").ok());
  ASSERT_TRUE(opened_.secrets->Set("pg", "two", "user:alice").ok());
  ASSERT_TRUE(opened_.secrets->Read("pg", "task:t9 (attempt 1)").ok());
  ASSERT_TRUE(opened_.secrets->Remove("pg", "user:bob").ok());
  EXPECT_EQ(opened_.secrets->Read("pg", "task:t10").status().code(), StatusCode::kNotFound);

  auto audit = opened_.secrets->Audit("pg", 0);
  ASSERT_TRUE(audit.ok());
  ASSERT_EQ(audit->size(), 4u);
  EXPECT_EQ((*audit)[0].action, "remove");
  EXPECT_EQ((*audit)[0].actor, "user:bob");
  EXPECT_EQ((*audit)[1].action, "read");
  EXPECT_EQ((*audit)[1].actor, "task:t9 (attempt 1)");
  EXPECT_EQ((*audit)[1].version, 2);
  EXPECT_EQ((*audit)[3].action, "set");
  EXPECT_EQ((*audit)[3].version, 1);
}

TEST_F(SecretStoreTest, EmptyAndOversizedValuesAreRefused) {
  EXPECT_EQ(opened_.secrets->Set("pg", "", "user:a").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(opened_.secrets->Set("pg", std::string(kMaxSecretBytes + 1, 'x'), "user:a").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(opened_.secrets->Set("pg", std::string(kMaxSecretBytes, 'x'), "user:a").ok());
}

TEST(VaultTest, ASealedValueOpensOnlyUnderItsNameAndKeyAndUnaltered) {
  testing::TempDir dir;
  auto vault = Vault::Open(dir.path() / "a.key");
  auto other = Vault::Open(dir.path() / "b.key");
  ASSERT_TRUE(vault.ok() && other.ok());
  const std::string sealed = vault->Seal("pg", "hunter2");
  EXPECT_EQ(vault->Unseal("pg", sealed).value(), "hunter2");
  EXPECT_NE(vault->Seal("pg", "hunter2"), sealed);  // a fresh nonce each time
  EXPECT_EQ(vault->Unseal("other-name", sealed).status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(other->Unseal("pg", sealed).status().code(), StatusCode::kDataLoss);
  std::string altered = sealed;
  altered[altered.size() / 2] = altered[altered.size() / 2] == 'A' ? 'B' : 'A';
  EXPECT_EQ(vault->Unseal("pg", altered).status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(vault->Unseal("pg", "plain").status().code(), StatusCode::kDataLoss);
}

TEST(VaultTest, AKeyFileOthersCanReadIsRefused) {
  testing::TempDir dir;
  const fs::path key = dir.path() / "secrets.key";
  ASSERT_TRUE(Vault::Open(key).ok());
  ASSERT_EQ(::chmod(key.c_str(), 0644), 0);
  auto opened = Vault::Open(key);
  EXPECT_EQ(opened.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(opened.status().message().find("chmod 600"), std::string::npos);
  // Named for what it is: a secret key file, not the token file.
  EXPECT_NE(opened.status().message().find("the secret key file " + key.string()), std::string::npos)
      << opened.status().message();
}

TEST(VaultTest, AKeyFileThatIsNoKeyIsRefused) {
  testing::TempDir dir;
  const fs::path key = dir.path() / "secrets.key";
  ASSERT_TRUE(Vault::Open(key).ok());
  ASSERT_TRUE(WriteFileAtomically(key, "not hex\n").ok());
  ASSERT_EQ(::chmod(key.c_str(), 0600), 0);
  EXPECT_EQ(Vault::Open(key).status().code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace wharf::secret
