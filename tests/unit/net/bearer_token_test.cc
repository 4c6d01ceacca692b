#include "net/bearer_token.h"

#include <sys/stat.h>

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "testing/temp_dir.h"

namespace wharf::net {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

mode_t ModeOf(const fs::path& path) {
  struct stat info {};
  EXPECT_EQ(::stat(path.c_str(), &info), 0) << path;
  return info.st_mode & 07777;
}

bool IsLowerHex(const std::string& s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// Sets the process umask for one scope.
class ScopedUmask {
 public:
  explicit ScopedUmask(mode_t mask) : old_(::umask(mask)) {}
  ~ScopedUmask() { ::umask(old_); }

 private:
  mode_t old_;
};

TEST(TokenTest, CreatesAFreshTokenOnlyItsOwnerCanRead) {
  TempDir dir;
  const ScopedUmask permissive(0);  // 0600 must not depend on the caller's umask
  const auto path = dir.path() / "home" / "server.token";
  auto token = LoadOrCreateToken(path);
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  EXPECT_EQ(token->size(), 64u);
  EXPECT_TRUE(IsLowerHex(*token)) << *token;
  EXPECT_EQ(ModeOf(path), 0600);
  EXPECT_EQ(testing::ReadFile(path), *token + "\n");
  // No temporary file is left beside it.
  EXPECT_EQ(std::distance(fs::directory_iterator(path.parent_path()), fs::directory_iterator()), 1);
}

TEST(TokenTest, ReloadingGivesTheSameToken) {
  TempDir dir;
  const auto path = dir.path() / "server.token";
  auto first = LoadOrCreateToken(path);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto again = LoadOrCreateToken(path);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(*again, *first);
  auto read = ReadToken(path);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(*read, *first);
}

TEST(TokenTest, EachNewFileGetsADifferentToken) {
  TempDir dir;
  auto a = LoadOrCreateToken(dir.path() / "a.token");
  auto b = LoadOrCreateToken(dir.path() / "b.token");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(*a, *b);
}

TEST(TokenTest, TrimsWhitespaceAroundAWrittenToken) {
  TempDir dir;
  const auto path = dir.Write("server.token", "  my-token\n\n");
  fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_EQ(LoadOrCreateToken(path).value(), "my-token");
  EXPECT_EQ(ReadToken(path).value(), "my-token");
}

TEST(TokenTest, RefusesAFileOthersCanRead) {
  TempDir dir;
  const auto path = dir.Write("server.token", "secret");
  for (const mode_t mode : {0640, 0604, 0620, 0644}) {
    ASSERT_EQ(::chmod(path.c_str(), mode), 0);
    auto token = LoadOrCreateToken(path);
    ASSERT_FALSE(token.ok()) << std::oct << mode;
    EXPECT_EQ(token.status().code(), StatusCode::kFailedPrecondition);
    EXPECT_NE(token.status().message().find("chmod 600 " + path.string()), std::string::npos)
        << token.status().message();
  }
  // A client only reads it.
  EXPECT_EQ(ReadToken(path).value(), "secret");
}

TEST(TokenTest, RefusesAnEmptyFile) {
  TempDir dir;
  const auto path = dir.Write("server.token", " \n");
  ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
  auto token = LoadOrCreateToken(path);
  EXPECT_EQ(token.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(token.status().message().find(path.string()), std::string::npos);
  EXPECT_EQ(testing::ReadFile(path), " \n");  // not replaced behind the user's back
}

TEST(TokenTest, ReadTokenOfAMissingFileIsNotFoundNamingIt) {
  TempDir dir;
  const auto path = dir.path() / "server.token";
  auto token = ReadToken(path);
  EXPECT_EQ(token.status().code(), StatusCode::kNotFound);
  EXPECT_NE(token.status().message().find(path.string()), std::string::npos);
  EXPECT_FALSE(fs::exists(path));
}

TEST(TokenTest, BearerMatchesOnlyTheExactHeader) {
  const std::string token = "0123456789abcdef";
  EXPECT_TRUE(BearerMatches("Bearer " + token, token));
  for (const std::string& header : std::vector<std::string>{
           std::string(), std::string("Bearer "), "Bearer " + token + "0", "Bearer " + token.substr(1),
           "bearer " + token, "Bearer  " + token, "Basic " + token, token, "Bearer 0123456789abcdeF"}) {
    EXPECT_FALSE(BearerMatches(header, token)) << header;
  }
  EXPECT_FALSE(BearerMatches("Bearer ", ""));
}

}  // namespace
}  // namespace wharf::net
