// Task definitions, the backend-independent helpers, and how the metadata
// store shares its database file (migrations) with the capture store.

#include <algorithm>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "core/sha256.h"
#include "store/capture_store.h"
#include "store/metadata_store.h"
#include "store/sqlite_database.h"
#include "store/postgres_migrations.h"
#include "store/sqlite_migrations.h"
#include "store_backend.h"
#include "testing/temp_dir.h"

namespace wharf::store {
namespace {

std::unique_ptr<MetadataStore> Open(std::string_view location) {
  auto store = OpenMetadataStore(location);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return store.ok() ? std::move(store).value() : nullptr;
}

TaskDefinition Register(MetadataStore& store, std::string_view name, std::string_view spec) {
  auto definition = store.RegisterDefinition(name, spec);
  EXPECT_TRUE(definition.ok()) << definition.status().ToString();
  return definition.ok() ? *definition : TaskDefinition{};
}

std::vector<std::string> Names(const std::vector<TaskDefinition>& definitions) {
  std::vector<std::string> names;
  for (const auto& d : definitions) names.push_back(d.name + ":" + std::to_string(d.revision));
  return names;
}

// "version@applied_at" for every recorded migration.
std::vector<std::string> Migrations(const std::filesystem::path& path) {
  auto db = SqliteDatabase::Open(path);
  EXPECT_TRUE(db.ok());
  auto rows = (*db)->Prepare("SELECT version, applied_at FROM schema_migrations ORDER BY version");
  EXPECT_TRUE(rows.ok());
  std::vector<std::string> out;
  while (rows->Step().value())
    out.push_back(std::to_string(rows->ColumnInt64(0)) + "@" + std::string(rows->ColumnText(1)));
  return out;
}

class MetadataStoreDefinitionsTest : public StoreBackendTest {};
WHARF_INSTANTIATE_STORE_BACKENDS(MetadataStoreDefinitionsTest);

TEST(TaskStateTest, NamesParseBackInAnyCase) {
  for (const TaskState state :
       {TaskState::kPending, TaskState::kRunning, TaskState::kSucceeded, TaskState::kFailed, TaskState::kCancelled}) {
    std::string lower(TaskStateName(state));
    std::transform(lower.begin(), lower.end(), lower.begin(), [](char c) { return static_cast<char>(c - 'A' + 'a'); });
    EXPECT_EQ(ParseTaskState(TaskStateName(state)).value(), state);
    EXPECT_EQ(ParseTaskState(lower).value(), state);
  }
  const auto unknown = ParseTaskState("done");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(unknown.status().message().find("'done'; known: PENDING, RUNNING"), std::string::npos);
}

TEST(TaskStateTest, OnlyDocumentedTransitionsAreLegal) {
  using S = TaskState;
  const S all[] = {S::kPending, S::kRunning, S::kSucceeded, S::kFailed, S::kCancelled};
  const std::vector<std::pair<S, S>> legal = {
      {S::kPending, S::kPending}, {S::kPending, S::kRunning},   {S::kPending, S::kCancelled},
      {S::kPending, S::kFailed},  {S::kRunning, S::kRunning},   {S::kRunning, S::kSucceeded},
      {S::kRunning, S::kFailed},  {S::kRunning, S::kCancelled}, {S::kRunning, S::kPending}};
  for (const S from : all) {
    for (const S to : all) {
      const bool expected = std::find(legal.begin(), legal.end(), std::pair(from, to)) != legal.end();
      const Status status = CheckTaskTransition(from, to);
      EXPECT_EQ(status.ok(), expected) << TaskStateName(from) << " -> " << TaskStateName(to);
      if (!expected) {
        EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition);
      }
    }
    EXPECT_EQ(CheckTaskTransition(from, std::nullopt).ok(), !IsTerminal(from)) << TaskStateName(from);
  }
}

TEST(NewTaskIdTest, SortsByTimeWithFixedWidth) {
  const std::string early = NewTaskId(1'700'000'000'000'000);
  const std::string late = NewTaskId(1'700'000'000'000'001);
  EXPECT_EQ(early.size(), 45u);
  EXPECT_EQ(early.substr(0, 13), "60a24181e4000");
  EXPECT_LT(early, late);
  EXPECT_LT(NewTaskId(4'000'000'000'000'000), NewTaskId(4'000'000'000'000'001));  // the year 2096
  EXPECT_NE(NewTaskId(5), NewTaskId(5));
  EXPECT_EQ(NewTaskId().size(), 45u);
}

TEST(ValidateNameTest, AllowsUrlSafeNamesOnly) {
  EXPECT_TRUE(ValidateName("model", "wine-quality_v2.1").ok());
  for (const std::string& bad : std::vector<std::string>{"", "a b", "a:b", "a/b", ".", "..", std::string(129, 'a')}) {
    const Status status = ValidateName("model", bad);
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(status.message().find("letters, digits"), std::string::npos);
  }
}

TEST_P(MetadataStoreDefinitionsTest, RevisionsIncrementOnlyWhenTheSpecChanges) {
  auto store = Open(location());
  const auto first = Register(*store, "train", R"({"command":["python","train.py"]})");
  EXPECT_EQ(first.revision, 1);
  EXPECT_TRUE(first.active);
  Sha256 hasher;
  hasher.Update(R"({"command":["python","train.py"]})");
  EXPECT_EQ(first.spec_sha256, hasher.HexDigest());

  const auto again = Register(*store, "train", R"({"command":["python","train.py"]})");
  EXPECT_EQ(again.revision, 1);
  EXPECT_EQ(again.created_us, first.created_us);

  // Any byte counts: whitespace is a change.
  EXPECT_EQ(Register(*store, "train", R"({"command": ["python","train.py"]})").revision, 2);
  EXPECT_EQ(Register(*store, "train", R"({"command":["python","train.py"]})").revision, 3);  // back to the old spec
  EXPECT_EQ(Register(*store, "eval", R"({})").revision, 1);

  EXPECT_EQ(store->GetDefinition("train", std::nullopt)->revision, 3);
  EXPECT_EQ(store->GetDefinition("train", 2)->spec_json, R"({"command": ["python","train.py"]})");
  EXPECT_EQ(Names(store->ListDefinitions(false).value()), (std::vector<std::string>{"eval:1", "train:3"}));
}

TEST_P(MetadataStoreDefinitionsTest, RejectsBadNamesAndEmptySpecs) {
  auto store = Open(location());
  EXPECT_EQ(store->RegisterDefinition("a b", "{}").status().code(), StatusCode::kInvalidArgument);
  const auto empty = store->RegisterDefinition("train", "");
  EXPECT_EQ(empty.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(empty.status().message().find("train"), std::string::npos);
}

TEST_P(MetadataStoreDefinitionsTest, DeregisterHidesFromTheListButRevisionsStayReadable) {
  auto store = Open(location());
  Register(*store, "train", "{\"v\":1}");
  Register(*store, "train", "{\"v\":2}");
  Register(*store, "eval", "{}");
  ASSERT_TRUE(store->DeregisterDefinition("train").ok());

  EXPECT_EQ(Names(store->ListDefinitions(false).value()), (std::vector<std::string>{"eval:1"}));
  EXPECT_EQ(Names(store->ListDefinitions(true).value()), (std::vector<std::string>{"eval:1", "train:2"}));
  const auto old = store->GetDefinition("train", 1);
  ASSERT_TRUE(old.ok()) << old.status().ToString();
  EXPECT_EQ(old->spec_json, "{\"v\":1}");
  EXPECT_FALSE(old->active);
  EXPECT_EQ(store->GetDefinition("train", std::nullopt)->revision, 2);

  // Registering the same spec again re-activates the name at the same revision.
  const auto back = Register(*store, "train", "{\"v\":2}");
  EXPECT_EQ(back.revision, 2);
  EXPECT_TRUE(back.active);
  EXPECT_TRUE(store->GetDefinition("train", 1)->active);
  EXPECT_EQ(Names(store->ListDefinitions(false).value()), (std::vector<std::string>{"eval:1", "train:2"}));
}

TEST_P(MetadataStoreDefinitionsTest, UnknownNamesAndRevisionsAreNotFound) {
  auto store = Open(location());
  Register(*store, "train", "{}");
  const auto cases = {
      std::pair{store->GetDefinition("eval", std::nullopt).status(), "'eval'"},
      std::pair{store->GetDefinition("eval", 1).status(), "'eval:1'"},
      std::pair{store->GetDefinition("train", 7).status(), "'train:7' not found: 'train' has revisions 1 to 1"},
      std::pair{store->DeregisterDefinition("eval"), "'eval'"}};
  for (const auto& [status, name] : cases) {
    EXPECT_EQ(status.code(), StatusCode::kNotFound) << status.ToString();
    EXPECT_NE(status.message().find(name), std::string::npos) << status.message();
  }
}

TEST_P(MetadataStoreDefinitionsTest, ConcurrentRegistersGetDistinctConsecutiveRevisions) {
  const std::string path = location();  // opened first by the threads at once
  constexpr int kThreads = 4;
  constexpr int kPerThread = 10;
  std::vector<std::vector<TaskDefinition>> got(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto store = Open(path);  // each thread its own store, as separate processes would
      if (store == nullptr) return;
      for (int i = 0; i < kPerThread; ++i) {
        got[t].push_back(
            Register(*store, "train", "{\"thread\":" + std::to_string(t) + ",\"i\":" + std::to_string(i) + "}"));
      }
    });
  }
  for (auto& thread : threads) thread.join();

  auto store = Open(path);
  std::vector<int> revisions;
  for (const auto& mine : got) {
    for (const auto& definition : mine) {
      revisions.push_back(definition.revision);
      EXPECT_EQ(store->GetDefinition("train", definition.revision)->spec_json, definition.spec_json);
    }
  }
  std::sort(revisions.begin(), revisions.end());
  std::vector<int> expected(kThreads * kPerThread);
  for (int i = 0; i < kThreads * kPerThread; ++i) expected[i] = i + 1;
  EXPECT_EQ(revisions, expected);
}

TEST_P(MetadataStoreDefinitionsTest, ReopenKeepsEverythingAndDoesNotRerunMigrations) {
  {
    auto store = Open(location());
    Register(*store, "train", "{}");
    TaskRecord task{.id = "t1", .definition = "train", .revision = 1, .group_id = "g"};
    ASSERT_TRUE(store->CreateTasks({&task, 1}).ok());
    ASSERT_TRUE(store->RegisterModelVersion("wine", "/m/1.wharf", "{}", "{}").ok());
    ASSERT_TRUE(store->SetAlias("wine", "production", 1).ok());
  }
  const auto before = Migrations();
  ASSERT_EQ(before.size(), (postgresql() ? PostgresMigrations() : SqliteMigrations()).size());
  auto store = Open(location());
  EXPECT_EQ(store->GetDefinition("train", 1)->spec_json, "{}");
  EXPECT_EQ(store->GetTask("t1")->group_id, "g");
  EXPECT_EQ(store->GetModelVersion("wine", "production")->modelfile_path, "/m/1.wharf");
  EXPECT_EQ(Migrations(), before);
}

TEST_P(MetadataStoreDefinitionsTest, SharesItsDatabaseWithTheCaptureStore) {
  auto captures = OpenCaptureStore(location());
  ASSERT_TRUE(captures.ok()) << captures.status().ToString();
  auto metadata = Open(location());
  ASSERT_NE(metadata, nullptr);
  CaptureRecord capture;
  capture.id = "r1";
  capture.endpoint = "wine";
  ASSERT_TRUE((*captures)->Append({&capture, 1}).ok());
  Register(*metadata, "train", "{}");
  EXPECT_EQ((*captures)->Query({.endpoint = "wine"})->size(), 1u);
  EXPECT_EQ(Open(location())->ListDefinitions(false)->size(), 1u);
}

TEST(SqliteMetadataStoreFileTest, SharesItsFileWithTheCaptureStoreInEitherOrder) {
  for (const bool capture_first : {true, false}) {
    testing::TempDir dir;
    const auto path = dir.path() / "wharf.db";
    std::unique_ptr<CaptureStore> captures;
    std::unique_ptr<MetadataStore> metadata;
    if (capture_first) captures = OpenSqliteCaptureStore(path).value();
    metadata = Open(path.string());
    if (!capture_first) captures = OpenSqliteCaptureStore(path).value();
    ASSERT_NE(captures, nullptr);
    ASSERT_NE(metadata, nullptr);

    CaptureRecord capture;
    capture.id = "r1";
    capture.endpoint = "wine";
    ASSERT_TRUE(captures->Append({&capture, 1}).ok());
    Register(*metadata, "train", "{}");
    EXPECT_EQ(captures->Query({.endpoint = "wine"})->size(), 1u);
    EXPECT_EQ(Open(path.string())->ListDefinitions(false)->size(), 1u);
    EXPECT_EQ(Migrations(path).size(), SqliteMigrations().size());
  }
}

TEST(SqliteMetadataStoreFileTest, UpgradesADatabaseThatOnlyHasCaptures) {
  testing::TempDir dir;
  const auto path = dir.path() / "wharf.db";
  {
    // What a build that knew only migration 1 left behind.
    auto db = SqliteDatabase::Open(path);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(ApplySqliteMigrations(**db, SqliteMigrations().first(1)).ok());
    ASSERT_TRUE((*db)
                    ->Exec("INSERT INTO captures (id, time_us, endpoint, variant, model_version, shadow, inputs, "
                           "outputs, latency_ms, status) VALUES ('old', 1, 'wine', 'a', 'v1', 0, '{}', '{}', 1, 200)")
                    .ok());
  }
  auto metadata = Open(path.string());
  Register(*metadata, "train", "{}");
  EXPECT_EQ(Migrations(path).size(), SqliteMigrations().size());
  const auto old = OpenSqliteCaptureStore(path).value()->Query({.endpoint = "wine"});
  ASSERT_TRUE(old.ok());
  ASSERT_EQ(old->size(), 1u);
  EXPECT_EQ((*old)[0].id, "old");
}

}  // namespace
}  // namespace wharf::store
