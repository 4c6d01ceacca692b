#include "control/artifact_store.h"

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "testing/temp_dir.h"

namespace wharf::control {
namespace {

namespace fs = std::filesystem;
using testing::ReadFile;
using testing::TempDir;

ArtifactStore OpenStore(const fs::path& root) {
  auto store = ArtifactStore::Open(root);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return std::move(store).value();
}

std::vector<std::string> Names(const std::vector<ArtifactInfo>& infos) {
  std::vector<std::string> names;
  for (const auto& info : infos) names.push_back(info.name);
  return names;
}

std::vector<std::string> DirectoryEntries(const fs::path& directory) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(directory)) names.push_back(entry.path().filename().string());
  return names;
}

TEST(ArtifactStoreTest, AcceptsRelativeNamesOfPlainSegments) {
  for (const std::string& name : std::vector<std::string>{"a", "wine/TrainingDataset.csv", "tasks/t-1/out_2.json", "..a",
                                                         "a..", ".hidden", std::string(512, 'x')}) {
    EXPECT_TRUE(ArtifactStore::ValidateName(name).ok()) << name;
  }
}

TEST(ArtifactStoreTest, RejectsNamesThatCouldLeaveTheRoot) {
  for (const std::string& name : std::vector<std::string>{
           "", ".", "..", "../x", "a/../../x", "a/..", "/etc/passwd", "a//b", "a/", "/", "a/./b", "%2e%2e/x", "a%2Fb",
           "a b", "a\\b", "caf\xc3\xa9", std::string("a\0b", 3), "~/x", std::string(513, 'x')}) {
    const Status status = ArtifactStore::ValidateName(name);
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << name;
    EXPECT_NE(status.message().find("A-Za-z0-9._-"), std::string::npos) << status.message();
  }
}

TEST(ArtifactStoreTest, OpenCreatesTheRootAndCanonicalisesIt) {
  TempDir dir;
  const auto store = OpenStore(dir.path() / "a" / ".." / "a" / "store");
  EXPECT_TRUE(fs::is_directory(dir.path() / "a" / "store"));
  EXPECT_EQ(store.root(), fs::canonical(dir.path() / "a" / "store"));
}

TEST(ArtifactStoreTest, PathOfMapsUnderTheRootAndRejectsBadNames) {
  TempDir dir;
  const auto store = OpenStore(dir.path());
  auto path = store.PathOf("wine/TrainingDataset.csv");
  ASSERT_TRUE(path.ok()) << path.status().ToString();
  EXPECT_EQ(*path, store.root() / "wine" / "TrainingDataset.csv");
  for (const std::string& name :
       std::vector<std::string>{"../x", "a/../../x", "/etc/passwd", "a//b", "", ".", "%2e%2e/etc/passwd"}) {
    EXPECT_EQ(store.PathOf(name).status().code(), StatusCode::kInvalidArgument) << name;
    EXPECT_EQ(store.Put(name, "x").code(), StatusCode::kInvalidArgument) << name;
    EXPECT_EQ(store.Get(name).status().code(), StatusCode::kInvalidArgument) << name;
  }
}

TEST(ArtifactStoreTest, PutThenGetRoundTripsAndReplaces) {
  TempDir dir;
  const auto store = OpenStore(dir.path());
  const std::string bytes("binary\0data\nwith lines", 22);
  ASSERT_TRUE(store.Put("wine/deep/TrainingDataset.csv", bytes).ok());
  auto read = store.Get("wine/deep/TrainingDataset.csv");
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(*read, bytes);

  ASSERT_TRUE(store.Put("wine/deep/TrainingDataset.csv", "v2").ok());
  EXPECT_EQ(store.Get("wine/deep/TrainingDataset.csv").value(), "v2");
  // The temporary file was renamed into place: nothing else is left beside it.
  EXPECT_EQ(DirectoryEntries(dir.path() / "wine" / "deep"), std::vector<std::string>{"TrainingDataset.csv"});

  ASSERT_TRUE(store.Put("empty", "").ok());
  EXPECT_EQ(store.Get("empty").value(), "");
  const std::string large(3 << 20, 'z');
  ASSERT_TRUE(store.Put("large.bin", large).ok());
  EXPECT_EQ(store.Get("large.bin").value(), large);
}

TEST(ArtifactStoreTest, GetOfAMissingNameOrADirectoryIsNotFound) {
  TempDir dir;
  const auto store = OpenStore(dir.path());
  ASSERT_TRUE(store.Put("wine/a.csv", "1").ok());
  for (const std::string& name : std::vector<std::string>{"nope", "wine/b.csv", "wine", "wine/a.csv/x"}) {
    auto read = store.Get(name);
    EXPECT_EQ(read.status().code(), StatusCode::kNotFound) << name;
    EXPECT_NE(read.status().message().find("'" + name + "'"), std::string::npos) << read.status().message();
  }
}

TEST(ArtifactStoreTest, PutOverADirectoryFailsAndLeavesNoTemporaryFile) {
  TempDir dir;
  const auto store = OpenStore(dir.path());
  ASSERT_TRUE(store.Put("wine/a.csv", "1").ok());
  EXPECT_EQ(store.Put("wine", "x").code(), StatusCode::kIoError);
  EXPECT_EQ(store.Put("wine/a.csv/x", "x").code(), StatusCode::kIoError);
  std::vector<std::string> top = DirectoryEntries(dir.path());
  EXPECT_EQ(top, std::vector<std::string>{"wine"});
}

TEST(ArtifactStoreTest, ALinkInsideTheStorePointingOutsideIsRefused) {
  TempDir dir, outside;
  const auto store = OpenStore(dir.path() / "store");
  outside.Write("secret", "top secret");
  fs::create_directory_symlink(outside.path(), dir.path() / "store" / "evil");
  fs::create_symlink(outside.path() / "secret", dir.path() / "store" / "leak");
  fs::create_symlink(outside.path() / "not-yet", dir.path() / "store" / "dangling");

  for (const std::string& name : std::vector<std::string>{"evil", "evil/secret", "evil/new/file", "leak", "dangling"}) {
    EXPECT_EQ(store.PathOf(name).status().code(), StatusCode::kInvalidArgument) << name;
    EXPECT_EQ(store.Get(name).status().code(), StatusCode::kInvalidArgument) << name;
    EXPECT_EQ(store.Put(name, "overwritten").code(), StatusCode::kInvalidArgument) << name;
  }
  EXPECT_EQ(ReadFile(outside.path() / "secret"), "top secret");
  EXPECT_EQ(DirectoryEntries(outside.path()), std::vector<std::string>{"secret"});
}

TEST(ArtifactStoreTest, AParentDirectoryLinkedOutsideIsRefused) {
  TempDir dir, outside;
  const auto store = OpenStore(dir.path() / "store");
  fs::create_directories(outside.path() / "sub");
  outside.Write("sub/secret", "top secret");
  fs::create_directories(dir.path() / "store" / "wine");
  fs::create_directory_symlink(outside.path() / "sub", dir.path() / "store" / "wine" / "sub");
  EXPECT_EQ(store.Get("wine/sub/secret").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store.Put("wine/sub/more/file", "x").code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(fs::exists(outside.path() / "sub" / "more"));
}

TEST(ArtifactStoreTest, ALinkThatStaysInsideIsFollowed) {
  TempDir dir;
  const auto store = OpenStore(dir.path());
  ASSERT_TRUE(store.Put("real/data.csv", "a,b\n").ok());
  fs::create_symlink(dir.path() / "real" / "data.csv", dir.path() / "alias.csv");
  auto read = store.Get("alias.csv");
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(*read, "a,b\n");
}

TEST(ArtifactStoreTest, ListFiltersByNamePrefixAndSorts) {
  TempDir dir;
  const auto store = OpenStore(dir.path());
  const auto before =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  for (const std::string& name :
       std::vector<std::string>{"wine2/c.csv", "wine/b.csv", "other/d", "wine/a.csv", "tasks/t1/out/model.json"}) {
    ASSERT_TRUE(store.Put(name, name).ok()) << name;
  }
  fs::create_symlink(dir.path() / "wine" / "a.csv", dir.path() / "wine" / "link.csv");

  auto wine = store.List("wine/");
  ASSERT_TRUE(wine.ok()) << wine.status().ToString();
  EXPECT_EQ(Names(*wine), (std::vector<std::string>{"wine/a.csv", "wine/b.csv"}));
  EXPECT_EQ((*wine)[0].size, std::string("wine/a.csv").size());
  EXPECT_GE((*wine)[0].modified_us, before - 2'000'000);
  EXPECT_LE((*wine)[0].modified_us, before + 60'000'000);

  EXPECT_EQ(Names(store.List("wine").value()), (std::vector<std::string>{"wine/a.csv", "wine/b.csv", "wine2/c.csv"}));
  EXPECT_EQ(Names(store.List("wine/a").value()), std::vector<std::string>{"wine/a.csv"});
  EXPECT_EQ(Names(store.List("tasks/t1/").value()), std::vector<std::string>{"tasks/t1/out/model.json"});
  EXPECT_EQ(Names(store.List("").value()), (std::vector<std::string>{"other/d", "tasks/t1/out/model.json", "wine/a.csv",
                                                                     "wine/b.csv", "wine2/c.csv"}));
  EXPECT_TRUE(store.List("nope/").value().empty());
  EXPECT_TRUE(store.List("../").value().empty());
}

TEST(ArtifactStoreTest, ListDoesNotDescendIntoALinkOutside) {
  TempDir dir, outside;
  const auto store = OpenStore(dir.path() / "store");
  outside.Write("secret", "top secret");
  fs::create_directory_symlink(outside.path(), dir.path() / "store" / "evil");
  ASSERT_TRUE(store.Put("ok.txt", "1").ok());
  EXPECT_EQ(Names(store.List("").value()), std::vector<std::string>{"ok.txt"});
  EXPECT_TRUE(store.List("evil/").value().empty());
}

TEST(ArtifactStoreTest, ResetTaskOutputDirEmptiesOnlyThatTask) {
  TempDir dir;
  const auto store = OpenStore(dir.path());
  EXPECT_EQ(ArtifactStore::TaskOutputPrefix("t1"), "tasks/t1");
  ASSERT_TRUE(store.Put("tasks/t1/model.json", "old").ok());
  ASSERT_TRUE(store.Put("tasks/t1/sub/log.txt", "old").ok());
  ASSERT_TRUE(store.Put("tasks/t10/model.json", "keep").ok());

  auto path = store.ResetTaskOutputDir("t1");
  ASSERT_TRUE(path.ok()) << path.status().ToString();
  EXPECT_EQ(*path, store.root() / "tasks" / "t1");
  EXPECT_TRUE(fs::is_directory(*path));
  EXPECT_TRUE(fs::is_empty(*path));
  EXPECT_EQ(store.Get("tasks/t10/model.json").value(), "keep");

  auto fresh = store.ResetTaskOutputDir("t2");
  ASSERT_TRUE(fresh.ok()) << fresh.status().ToString();
  EXPECT_TRUE(fs::is_directory(*fresh));
}

TEST(ArtifactStoreTest, ResetTaskOutputDirRefusesBadIdsAndLinksOutside) {
  TempDir dir, outside;
  const auto store = OpenStore(dir.path() / "store");
  for (const std::string& id : std::vector<std::string>{"", "..", "../x", "a/b", "/x"}) {
    EXPECT_EQ(store.ResetTaskOutputDir(id).status().code(), StatusCode::kInvalidArgument) << id;
  }
  outside.Write("precious", "keep me");
  fs::create_directories(dir.path() / "store" / "tasks");
  fs::create_directory_symlink(outside.path(), dir.path() / "store" / "tasks" / "t1");
  EXPECT_EQ(store.ResetTaskOutputDir("t1").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ReadFile(outside.path() / "precious"), "keep me");
}

}  // namespace
}  // namespace wharf::control
