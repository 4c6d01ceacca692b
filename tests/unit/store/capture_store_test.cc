#include <atomic>
#include <cstdlib>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "store/capture_store.h"
#include "store/sqlite_database.h"
#include "store/postgres_migrations.h"
#include "store/sqlite_migrations.h"
#include "store_backend.h"
#include "testing/temp_dir.h"

namespace wharf::store {
namespace {

CaptureRecord Record(std::string id, std::int64_t time_us, bool shadow = false, std::string endpoint = "wine") {
  CaptureRecord r;
  r.id = std::move(id);
  r.time_us = time_us;
  r.endpoint = std::move(endpoint);
  r.variant = shadow ? "candidate" : "main";
  r.model_version = shadow ? "v2" : "v1";
  r.shadow = shadow;
  r.inputs = R"({"alcohol":[12.5]})";
  r.outputs = R"({"quality":[6]})";
  r.latency_ms = 1.25;
  r.status = 200;
  return r;
}

std::string Numbered(std::string prefix, int i) {
  prefix += std::to_string(i);
  return prefix;
}

std::vector<std::string> Ids(const std::vector<CaptureRecord>& records) {
  std::vector<std::string> ids;
  for (const auto& r : records) ids.push_back(r.id);
  return ids;
}

std::unique_ptr<CaptureStore> Open(std::string_view location) {
  auto store = OpenCaptureStore(location);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return store.ok() ? std::move(store).value() : nullptr;
}

class CaptureStoreTest : public StoreBackendTest {};
WHARF_INSTANTIATE_STORE_BACKENDS(CaptureStoreTest);

std::vector<CaptureRecord> All(CaptureStore& store, const std::string& endpoint = "wine") {
  CaptureQuery query{.endpoint = endpoint, .limit = 0};
  auto records = store.Query(query);
  EXPECT_TRUE(records.ok()) << records.status().ToString();
  return records.ok() ? *records : std::vector<CaptureRecord>{};
}

TEST_P(CaptureStoreTest, RoundTripsEveryField) {
  auto store = Open(location());
  CaptureRecord r;
  r.id = "req-\"1\"'; DROP TABLE captures; --";
  r.time_us = 1'795'000'000'123'456;
  r.endpoint = "vin/rouge";
  r.variant = "b";
  r.model_version = "2026-11-23T12:00:00Z";
  r.shadow = true;
  r.inputs = R"({"text":["Grüße, 世界 🍷","say \"hi\"\n\ttab\\"],"n":[1.5e-7]})";
  r.outputs = R"({"quality":[null,"x'y"]})";
  r.latency_ms = 12.375;
  r.status = 503;
  ASSERT_TRUE(store->Append({&r, 1}).ok());

  const auto records = All(*store, "vin/rouge");
  ASSERT_EQ(records.size(), 1u);
  const CaptureRecord& got = records[0];
  EXPECT_EQ(got.id, r.id);
  EXPECT_EQ(got.time_us, r.time_us);
  EXPECT_EQ(got.endpoint, r.endpoint);
  EXPECT_EQ(got.variant, r.variant);
  EXPECT_EQ(got.model_version, r.model_version);
  EXPECT_TRUE(got.shadow);
  EXPECT_EQ(got.inputs, r.inputs);
  EXPECT_EQ(got.outputs, r.outputs);
  EXPECT_DOUBLE_EQ(got.latency_ms, r.latency_ms);
  EXPECT_EQ(got.status, 503);
}

TEST_P(CaptureStoreTest, StoresEmptyJsonTextAsEmptyNotNull) {
  auto store = Open(location());
  CaptureRecord r = Record("a", 1);
  r.inputs.clear();
  r.variant.clear();
  ASSERT_TRUE(store->Append({&r, 1}).ok());
  const auto records = All(*store);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].inputs, "");
  EXPECT_EQ(records[0].variant, "");
}

TEST_P(CaptureStoreTest, QueryIsNewestFirstAndForEachOldestFirst) {
  auto store = Open(location());
  // Appended out of time order: order follows insertion, not time_us.
  const std::vector<CaptureRecord> batch = {Record("a", 30), Record("b", 10), Record("c", 20)};
  ASSERT_TRUE(store->Append(batch).ok());
  const auto d = Record("d", 5);
  ASSERT_TRUE(store->Append({&d, 1}).ok());

  EXPECT_EQ(Ids(All(*store)), (std::vector<std::string>{"d", "c", "b", "a"}));
  std::vector<std::string> streamed;
  ASSERT_TRUE(store
                  ->ForEach({.endpoint = "wine", .limit = 0},
                            [&](const CaptureRecord& r) {
                              streamed.push_back(r.id);
                              return Status::Ok();
                            })
                  .ok());
  EXPECT_EQ(streamed, (std::vector<std::string>{"a", "b", "c", "d"}));
}

TEST_P(CaptureStoreTest, FiltersBySinceUntilIdVariantShadowLimitAndEndpoint) {
  auto store = Open(location());
  const std::vector<CaptureRecord> batch = {
      Record("r1", 100), Record("r1", 100, true), Record("r2", 200),
      Record("r3", 300), Record("r3", 300, true), Record("r4", 400, false, "other"),
  };
  ASSERT_TRUE(store->Append(batch).ok());

  struct Case {
    const char* name;
    CaptureQuery query;
    std::vector<std::string> ids;
  };
  const std::vector<Case> cases = {
      {"all", {.endpoint = "wine", .limit = 0}, {"r3", "r3", "r2", "r1", "r1"}},
      {"since", {.endpoint = "wine", .since_us = 200, .limit = 0}, {"r3", "r3", "r2"}},
      {"since after all", {.endpoint = "wine", .since_us = 301, .limit = 0}, {}},
      {"until", {.endpoint = "wine", .until_us = 300, .limit = 0}, {"r2", "r1", "r1"}},
      {"until before all", {.endpoint = "wine", .until_us = 100, .limit = 0}, {}},
      {"since+until", {.endpoint = "wine", .since_us = 200, .until_us = 300, .limit = 0}, {"r2"}},
      {"variant", {.endpoint = "wine", .variant = "main", .limit = 0}, {"r3", "r2", "r1"}},
      {"shadow variant", {.endpoint = "wine", .variant = "candidate", .limit = 0}, {"r3", "r1"}},
      {"unknown variant", {.endpoint = "wine", .variant = "x' OR '1'='1", .limit = 0}, {}},
      {"variant+until+limit", {.endpoint = "wine", .until_us = 300, .variant = "main", .limit = 1}, {"r2"}},
      {"id", {.endpoint = "wine", .id = "r1", .limit = 0}, {"r1", "r1"}},
      {"unknown id", {.endpoint = "wine", .id = "nope", .limit = 0}, {}},
      {"no shadow", {.endpoint = "wine", .include_shadow = false, .limit = 0}, {"r3", "r2", "r1"}},
      {"limit", {.endpoint = "wine", .limit = 2}, {"r3", "r3"}},
      {"since+no shadow+limit", {.endpoint = "wine", .since_us = 150, .include_shadow = false, .limit = 1}, {"r3"}},
      {"other endpoint", {.endpoint = "other", .limit = 0}, {"r4"}},
      {"unknown endpoint", {.endpoint = "beer", .limit = 0}, {}},
  };
  for (const Case& c : cases) {
    auto records = store->Query(c.query);
    ASSERT_TRUE(records.ok()) << c.name << ": " << records.status().ToString();
    EXPECT_EQ(Ids(*records), c.ids) << c.name;
  }
  auto shadows = store->Query({.endpoint = "wine", .id = "r3", .limit = 0});
  ASSERT_TRUE(shadows.ok());
  ASSERT_EQ(shadows->size(), 2u);
  EXPECT_TRUE((*shadows)[0].shadow);
  EXPECT_FALSE((*shadows)[1].shadow);
}

TEST_P(CaptureStoreTest, ForEachHonoursLimitAndFiltersAndStopsOnSinkError) {
  auto store = Open(location());
  const std::vector<CaptureRecord> batch = {Record("a", 1), Record("b", 2), Record("c", 3)};
  ASSERT_TRUE(store->Append(batch).ok());

  std::vector<std::string> seen;
  ASSERT_TRUE(store
                  ->ForEach({.endpoint = "wine", .limit = 2},
                            [&](const CaptureRecord& r) {
                              seen.push_back(r.id);
                              return Status::Ok();
                            })
                  .ok());
  EXPECT_EQ(seen, (std::vector<std::string>{"a", "b"}));

  seen.clear();
  ASSERT_TRUE(store
                  ->ForEach({.endpoint = "wine", .since_us = 2, .until_us = 3, .variant = "main", .limit = 0},
                            [&](const CaptureRecord& r) {
                              seen.push_back(r.id);
                              return Status::Ok();
                            })
                  .ok());
  EXPECT_EQ(seen, (std::vector<std::string>{"b"}));

  seen.clear();
  const Status status = store->ForEach({.endpoint = "wine", .limit = 0}, [&](const CaptureRecord& r) {
    seen.push_back(r.id);
    return r.id == "b" ? IoError("disk full") : Status::Ok();
  });
  EXPECT_EQ(status.code(), StatusCode::kIoError);
  EXPECT_EQ(seen, (std::vector<std::string>{"a", "b"}));
}

TEST_P(CaptureStoreTest, QueryWithoutEndpointIsInvalid) {
  auto store = Open(location());
  EXPECT_EQ(store->Query({}).status().code(), StatusCode::kInvalidArgument);
}

TEST_P(CaptureStoreTest, ReopenKeepsDataAndDoesNotRerunMigrations) {
  {
    auto store = Open(location());
    const auto r = Record("kept", 7);
    ASSERT_TRUE(store->Append({&r, 1}).ok());
  }
  const auto before = Migrations();
  ASSERT_EQ(before.size(), (postgresql() ? PostgresMigrations() : SqliteMigrations()).size());
  auto store = Open(location());
  EXPECT_EQ(Ids(All(*store)), (std::vector<std::string>{"kept"}));
  EXPECT_EQ(Migrations(), before);
}

TEST_P(CaptureStoreTest, RefusesSchemaNewerThanThisBuild) {
  ASSERT_NE(Open(location()), nullptr);
  ASSERT_TRUE(Exec("INSERT INTO schema_migrations (version) VALUES (99)").ok());
  auto store = OpenCaptureStore(location());
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(store.status().message().find("99"), std::string::npos) << store.status().message();
  EXPECT_NE(store.status().message().find(location()), std::string::npos) << store.status().message();
}

// While other connections keep SQLite's passive checkpoints from finishing
// (here a reader holding an old snapshot; in serving, other replicas'
// commits), the log grows; once they let go, the next append past the bound
// copies it back and truncates it.
TEST(SqliteCaptureStoreTest, TheWriteAheadLogIsTruncatedOncePastItsBound) {
  testing::TempDir dir;
  const auto path = dir.path() / "captures.db";
  auto store = OpenSqliteCaptureStore(path, Durability::kProcessCrash);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  CaptureRecord record;
  record.endpoint = "wine";
  record.inputs.assign(std::size_t{1} << 20, 'x');
  auto append = [&](int i) {
    record.id = Numbered("r", i);
    const Status appended = (*store)->Append({&record, 1});
    ASSERT_TRUE(appended.ok()) << appended.ToString();
  };
  append(0);
  auto reader = SqliteDatabase::Open(path);
  ASSERT_TRUE(reader.ok());
  ASSERT_TRUE((*reader)->Exec("BEGIN").ok());
  auto snapshot = (*reader)->Prepare("SELECT count(*) FROM captures");
  ASSERT_TRUE(snapshot.ok());
  ASSERT_TRUE(snapshot->Step().ok());  // the read transaction holds its snapshot from here

  int i = 1;
  for (; i <= 100 && (*reader)->WalBytes() < (std::uintmax_t{32} << 20); ++i) append(i);
  EXPECT_GE((*reader)->WalBytes(), std::uintmax_t{32} << 20) << "the log never reached the bound";
  append(i++);  // past the bound, but the reader holds the log: the append succeeds and the log stays
  EXPECT_GE((*reader)->WalBytes(), std::uintmax_t{32} << 20);

  snapshot->Reset();
  ASSERT_TRUE((*reader)->Exec("COMMIT").ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // the writer retries a second after giving up
  append(i++);
  EXPECT_LT((*reader)->WalBytes(), std::uintmax_t{8} << 20);
  auto all = (*store)->Query({.endpoint = "wine", .limit = 0});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), static_cast<std::size_t>(i)) << "every append is kept";
}

TEST(SqliteCaptureStoreTest, FileThatIsNotADatabaseIsDataLoss) {
  testing::TempDir dir;
  for (const std::string& contents : {std::string("id,quality\n1,6\n"), std::string(8192, 'x')}) {
    const auto path = dir.Write("not.db", contents);
    auto store = OpenSqliteCaptureStore(path);
    ASSERT_FALSE(store.ok());
    EXPECT_EQ(store.status().code(), StatusCode::kDataLoss) << store.status().ToString();
    EXPECT_NE(store.status().message().find(path.string()), std::string::npos);
    EXPECT_NE(store.status().message().find("not a SQLite database"), std::string::npos) << store.status().message();
  }
}

TEST(SqliteCaptureStoreTest, DirectoryPathIsAnError) {
  testing::TempDir dir;
  auto store = OpenSqliteCaptureStore(dir.path());
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.status().message().find(dir.path().string()), std::string::npos);
}

TEST_P(CaptureStoreTest, BatchWithABadRowStoresNothingAndStoreStaysUsable) {
  auto store = Open(location());
  std::vector<CaptureRecord> batch;
  for (int i = 0; i < 1000; ++i) batch.push_back(Record(Numbered("r", i), i));
  batch[500].endpoint.clear();  // rejected after 500 rows were inserted
  const Status status = store->Append(batch);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("r500"), std::string::npos) << status.message();
  EXPECT_TRUE(All(*store).empty());

  batch[500].endpoint = "wine";
  ASSERT_TRUE(store->Append(batch).ok());
  EXPECT_EQ(All(*store).size(), 1000u);
}

TEST_P(CaptureStoreTest, RollsBackWhenTheDatabaseRejectsARowMidBatch) {
  auto store = Open(location());
  const Status trigger =
      postgresql()
          ? Exec("CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                 "IF NEW.id = 'boom' THEN RAISE EXCEPTION 'boom rejected'; END IF; RETURN NEW; END $$; "
                 "CREATE TRIGGER boom BEFORE INSERT ON captures FOR EACH ROW EXECUTE FUNCTION boom()")
          : Exec("CREATE TRIGGER boom BEFORE INSERT ON captures WHEN NEW.id = 'boom' "
                 "BEGIN SELECT RAISE(ABORT, 'boom rejected'); END");
  ASSERT_TRUE(trigger.ok()) << trigger.ToString();
  const std::vector<CaptureRecord> batch = {Record("a", 1), Record("b", 2), Record("boom", 3), Record("c", 4)};
  const Status status = store->Append(batch);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("boom rejected"), std::string::npos) << status.message();
  EXPECT_TRUE(All(*store).empty());

  const std::vector<CaptureRecord> good = {Record("a", 1), Record("b", 2)};
  ASSERT_TRUE(store->Append(good).ok());
  EXPECT_EQ(Ids(All(*store)), (std::vector<std::string>{"b", "a"}));
}

TEST_P(CaptureStoreTest, ReaderSeesWholeBatchesWhileWriterAppends) {
  auto writer = Open(location());
  auto reader = Open(location());
  constexpr int kBatches = 100, kBatchRows = 50;
  std::atomic<bool> done = false;
  std::thread writing([&] {
    for (int b = 0; b < kBatches; ++b) {
      std::vector<CaptureRecord> batch;
      for (int i = 0; i < kBatchRows; ++i) batch.push_back(Record(Numbered(Numbered("b", b) + "-", i), b));
      EXPECT_TRUE(writer->Append(batch).ok());
    }
    done = true;
  });
  std::size_t last = 0;
  int reads = 0;
  while (!done || reads == 0) {
    auto records = reader->Query({.endpoint = "wine", .limit = 0});
    if (!records.ok()) {
      ADD_FAILURE() << records.status().ToString();  // not ASSERT: the writer thread must be joined
      break;
    }
    EXPECT_EQ(records->size() % kBatchRows, 0u) << "a batch was visible in part";
    EXPECT_GE(records->size(), last);
    last = records->size();
    ++reads;
  }
  writing.join();
  EXPECT_EQ(All(*reader).size(), static_cast<std::size_t>(kBatches * kBatchRows));
}

TEST(OpenCaptureStoreTest, UnknownSchemeIsInvalidAndOtherPathsAreFiles) {
  const auto mysql = OpenCaptureStore("mysql://db/wharf");
  EXPECT_EQ(mysql.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(mysql.status().message().find("'mysql'; known: postgresql://"), std::string::npos)
      << mysql.status().message();
  testing::TempDir dir;
  EXPECT_TRUE(OpenCaptureStore((dir.path() / "run://1.db").string()).ok());  // no scheme: a path
}

TEST(OpenCaptureStoreTest, UnreachableServerIsUnavailableAndTheMessageHidesThePassword) {
  for (const std::string url : {"postgresql://wharf:s3cret@127.0.0.1:1/wharf",
                                "postgres://wharf@127.0.0.1:1/wharf?connect_timeout=5&password=s3cret"}) {
    const auto store = OpenCaptureStore(url);
    ASSERT_FALSE(store.ok());
    EXPECT_EQ(store.status().code(), StatusCode::kUnavailable) << store.status().ToString();
    EXPECT_NE(store.status().message().find("127.0.0.1:1/wharf"), std::string::npos) << store.status().message();
    EXPECT_EQ(store.status().message().find("s3cret"), std::string::npos) << store.status().message();
  }
}

TEST(DefaultDatabasePathTest, PrefersWharfHomeThenHome) {
  const char* old_wharf_home = std::getenv("WHARF_HOME");
  const char* old_home = std::getenv("HOME");
  const std::optional<std::string> saved_wharf_home =
      old_wharf_home ? std::optional<std::string>(old_wharf_home) : std::nullopt;
  const std::optional<std::string> saved_home = old_home ? std::optional<std::string>(old_home) : std::nullopt;

  setenv("WHARF_HOME", "/srv/wharf", 1);
  setenv("HOME", "/home/ada", 1);
  EXPECT_EQ(DefaultDatabasePath(), std::filesystem::path("/srv/wharf/wharf.db"));
  unsetenv("WHARF_HOME");
  EXPECT_EQ(DefaultDatabasePath(), std::filesystem::path("/home/ada/.wharf/wharf.db"));

  if (saved_wharf_home) setenv("WHARF_HOME", saved_wharf_home->c_str(), 1);
  if (saved_home) {
    setenv("HOME", saved_home->c_str(), 1);
  } else {
    unsetenv("HOME");
  }
}

}  // namespace
}  // namespace wharf::store
