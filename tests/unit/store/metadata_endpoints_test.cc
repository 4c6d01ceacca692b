// Endpoints in the metadata store: revisions, deletion, the event log, and
// the migration that adds their tables.

#include <algorithm>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "core/clock.h"
#include "store/metadata_store.h"
#include "store/postgres_migrations.h"
#include "store/sqlite_database.h"
#include "store/sqlite_migrations.h"
#include "store_backend.h"
#include "testing/temp_dir.h"

namespace wharf::store {
namespace {

class MetadataStoreEndpointsTest : public MetadataBackendTest {
 protected:
  EndpointRevision Append(std::string_view endpoint, std::string_view spec, std::string_view reason = "apply") {
    auto revision = store_->AppendEndpointRevision(endpoint, spec, R"({"resolved":true})", reason);
    EXPECT_TRUE(revision.ok()) << revision.status().ToString();
    return revision.ok() ? *revision : EndpointRevision{};
  }

  EndpointEvent Event(std::string_view endpoint, std::string_view kind, std::string_view message) {
    auto event = store_->AppendEndpointEvent(
        {.endpoint = std::string(endpoint), .kind = std::string(kind), .message = std::string(message)});
    EXPECT_TRUE(event.ok()) << event.status().ToString();
    return event.ok() ? *event : EndpointEvent{};
  }

  // "endpoint:revision" of each, in order.
  static std::vector<std::string> Names(const Result<std::vector<EndpointRevision>>& revisions) {
    EXPECT_TRUE(revisions.ok()) << revisions.status().ToString();
    std::vector<std::string> names;
    if (!revisions.ok()) return names;
    for (const auto& r : *revisions) names.push_back(r.endpoint + ":" + std::to_string(r.revision));
    return names;
  }

  // The messages of `endpoint`'s events as ListEndpointEvents returns them.
  std::vector<std::string> Messages(std::string_view endpoint, std::int64_t after_seq, std::size_t limit) {
    const auto events = store_->ListEndpointEvents(endpoint, after_seq, limit);
    EXPECT_TRUE(events.ok()) << events.status().ToString();
    std::vector<std::string> messages;
    if (!events.ok()) return messages;
    for (const auto& e : *events) messages.push_back(e.message);
    return messages;
  }

};
WHARF_INSTANTIATE_STORE_BACKENDS(MetadataStoreEndpointsTest);

TEST_P(MetadataStoreEndpointsTest, RevisionsStartAtOneAndIncreasePerEndpoint) {
  const auto first = Append("wine", R"({"replicas":1})");
  EXPECT_EQ(first.revision, 1);
  EXPECT_EQ(first.endpoint, "wine");
  EXPECT_TRUE(first.active);
  EXPECT_GT(first.created_us, 0);
  // The same spec again is still a new revision: every change appends one.
  EXPECT_EQ(Append("wine", R"({"replicas":1})", "rollback to 1").revision, 2);
  EXPECT_EQ(Append("wine", R"({"replicas":3})", "scale").revision, 3);
  EXPECT_EQ(Append("iris", R"({})").revision, 1);
}

TEST_P(MetadataStoreEndpointsTest, RevisionsAreImmutableAndReadableByNumberAndLatest) {
  Append("wine", R"({"replicas":1})", "apply");
  Append("wine", R"({"replicas":2})", "canary step 2/4");

  const auto first = store_->GetEndpointRevision("wine", 1);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->spec_json, R"({"replicas":1})");
  EXPECT_EQ(first->resolved_json, R"({"resolved":true})");
  EXPECT_EQ(first->reason, "apply");
  EXPECT_TRUE(first->active);

  const auto latest = store_->GetEndpointRevision("wine", std::nullopt);
  ASSERT_TRUE(latest.ok()) << latest.status().ToString();
  EXPECT_EQ(latest->revision, 2);
  EXPECT_EQ(latest->spec_json, R"({"replicas":2})");
  EXPECT_EQ(latest->reason, "canary step 2/4");
  EXPECT_GE(latest->created_us, first->created_us);

  EXPECT_EQ(Names(store_->ListEndpointRevisions("wine")), (std::vector<std::string>{"wine:1", "wine:2"}));
  EXPECT_EQ(store_->ListEndpointRevisions("wine")->front().spec_json, R"({"replicas":1})");
}

TEST_P(MetadataStoreEndpointsTest, UnknownEndpointsAndRevisionsAreNotFoundByName) {
  Append("wine", "{}");
  const auto cases = {
      std::pair{store_->GetEndpointRevision("beer", std::nullopt).status(), "endpoint 'beer'"},
      std::pair{store_->GetEndpointRevision("beer", 1).status(), "endpoint 'beer:1' not found: no endpoint named"},
      std::pair{store_->GetEndpointRevision("wine", 7).status(), "'wine:7' not found: 'wine' has revisions 1 to 1"},
      std::pair{store_->ListEndpointRevisions("beer").status(), "endpoint 'beer'"},
      std::pair{store_->DeleteEndpoint("beer"), "endpoint 'beer'"}};
  for (const auto& [status, name] : cases) {
    EXPECT_EQ(status.code(), StatusCode::kNotFound) << status.ToString();
    EXPECT_NE(status.message().find(name), std::string::npos) << status.message();
  }
}

TEST_P(MetadataStoreEndpointsTest, RejectsBadNamesAndEmptySpecs) {
  for (const std::string_view bad : {"", "a b", "wine/red", ".."}) {
    const auto revision = store_->AppendEndpointRevision(bad, "{}", "{}", "apply");
    EXPECT_EQ(revision.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(revision.status().message().find("endpoint"), std::string::npos) << revision.status().message();
  }
  const auto empty = store_->AppendEndpointRevision("wine", "", "{}", "apply");
  EXPECT_EQ(empty.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(empty.status().message().find("'wine'"), std::string::npos) << empty.status().message();
  EXPECT_TRUE(store_->ListEndpoints(true)->empty());
}

TEST_P(MetadataStoreEndpointsTest, ListShowsTheLatestRevisionPerEndpointSortedByName) {
  EXPECT_TRUE(store_->ListEndpoints(false)->empty());
  Append("wine", "{\"v\":1}");
  Append("iris", "{}");
  Append("wine", "{\"v\":2}");
  Append("Zebra", "{}");  // byte order: upper case first, on both backends
  const auto listed = store_->ListEndpoints(false);
  EXPECT_EQ(Names(listed), (std::vector<std::string>{"Zebra:1", "iris:1", "wine:2"}));
  EXPECT_EQ(listed->back().spec_json, "{\"v\":2}");
}

TEST_P(MetadataStoreEndpointsTest, DeleteHidesFromTheListButRevisionsStayReadable) {
  Append("wine", "{\"v\":1}");
  Append("wine", "{\"v\":2}");
  Append("iris", "{}");
  ASSERT_TRUE(store_->DeleteEndpoint("wine").ok());

  EXPECT_EQ(Names(store_->ListEndpoints(false)), (std::vector<std::string>{"iris:1"}));
  const auto all = store_->ListEndpoints(true);
  EXPECT_EQ(Names(all), (std::vector<std::string>{"iris:1", "wine:2"}));
  EXPECT_TRUE(all->front().active);
  EXPECT_FALSE(all->back().active);
  const auto old = store_->GetEndpointRevision("wine", 1);
  ASSERT_TRUE(old.ok()) << old.status().ToString();
  EXPECT_EQ(old->spec_json, "{\"v\":1}");
  EXPECT_FALSE(old->active);
  const auto revisions = store_->ListEndpointRevisions("wine");
  ASSERT_TRUE(revisions.ok()) << revisions.status().ToString();
  for (const auto& revision : *revisions) EXPECT_FALSE(revision.active);
  EXPECT_TRUE(store_->DeleteEndpoint("wine").ok());  // deleting again changes nothing
}

TEST_P(MetadataStoreEndpointsTest, AppendingToADeletedEndpointReactivatesItAndContinuesNumbering) {
  Append("wine", "{\"v\":1}");
  Append("wine", "{\"v\":2}");
  ASSERT_TRUE(store_->DeleteEndpoint("wine").ok());

  const auto back = Append("wine", "{\"v\":1}");
  EXPECT_EQ(back.revision, 3);
  EXPECT_TRUE(back.active);
  EXPECT_TRUE(store_->GetEndpointRevision("wine", 1)->active);
  EXPECT_EQ(Names(store_->ListEndpoints(false)), (std::vector<std::string>{"wine:3"}));
}

TEST_P(MetadataStoreEndpointsTest, ConcurrentAppendsFromTwoStoresGetDistinctConsecutiveRevisions) {
  constexpr int kThreads = 2;
  constexpr int kPerThread = 15;
  std::vector<std::vector<EndpointRevision>> got(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto store = OpenMetadataStore(location());  // each thread its own store, as separate processes would
      ASSERT_TRUE(store.ok()) << store.status().ToString();
      for (int i = 0; i < kPerThread; ++i) {
        const std::string spec = "{\"thread\":" + std::to_string(t) + ",\"i\":" + std::to_string(i) + "}";
        const auto revision = (*store)->AppendEndpointRevision("wine", spec, "{}", "apply");
        EXPECT_TRUE(revision.ok()) << revision.status().ToString();
        if (revision.ok()) got[t].push_back(*revision);
      }
    });
  }
  for (auto& thread : threads) thread.join();

  std::vector<int> revisions;
  for (const auto& mine : got) {
    for (const auto& revision : mine) {
      revisions.push_back(revision.revision);
      EXPECT_EQ(store_->GetEndpointRevision("wine", revision.revision)->spec_json, revision.spec_json);
    }
  }
  std::sort(revisions.begin(), revisions.end());
  std::vector<int> expected(kThreads * kPerThread);
  for (int i = 0; i < kThreads * kPerThread; ++i) expected[i] = i + 1;
  EXPECT_EQ(revisions, expected);
}

TEST_P(MetadataStoreEndpointsTest, EventsGetIncreasingSeqsAndATime) {
  const std::int64_t before = NowMicros();
  const auto first = Event("wine", "scale", "1 -> 2 replicas");
  const auto second = Event("wine", "canary", "step 2/4");
  EXPECT_GT(first.seq, 0);
  EXPECT_GT(second.seq, first.seq);
  EXPECT_GE(first.time_us, before);
  EXPECT_LE(second.time_us, NowMicros());
  EXPECT_EQ(first.details_json, "{}");  // none given

  const auto kept = store_->AppendEndpointEvent({.endpoint = "wine",
                                                 .time_us = 1'700'000'000'000'000,
                                                 .kind = "replica",
                                                 .message = "replica 0 restarted",
                                                 .details_json = R"({"exit_code":137})"});
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  EXPECT_GT(kept->seq, second.seq);
  const auto stored = store_->ListEndpointEvents("wine", second.seq, 0);
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  ASSERT_EQ(stored->size(), 1u);
  EXPECT_EQ((*stored)[0].seq, kept->seq);
  EXPECT_EQ((*stored)[0].endpoint, "wine");
  EXPECT_EQ((*stored)[0].time_us, 1'700'000'000'000'000);
  EXPECT_EQ((*stored)[0].kind, "replica");
  EXPECT_EQ((*stored)[0].message, "replica 0 restarted");
  EXPECT_EQ((*stored)[0].details_json, R"({"exit_code":137})");
}

TEST_P(MetadataStoreEndpointsTest, EventsListNewestFirstAfterASeqUpToALimit) {
  std::vector<EndpointEvent> events;
  for (const char* message : {"e1", "e2", "e3", "e4"}) events.push_back(Event("wine", "scale", message));
  Event("iris", "scale", "other endpoint");

  EXPECT_EQ(Messages("wine", 0, 0), (std::vector<std::string>{"e4", "e3", "e2", "e1"}));
  EXPECT_EQ(Messages("wine", events[1].seq, 0), (std::vector<std::string>{"e4", "e3"}));
  EXPECT_EQ(Messages("wine", 0, 2), (std::vector<std::string>{"e4", "e3"}));
  EXPECT_EQ(Messages("wine", events[0].seq, 1), (std::vector<std::string>{"e4"}));
  EXPECT_TRUE(Messages("wine", events[3].seq, 0).empty());
  EXPECT_EQ(Messages("iris", 0, 0), (std::vector<std::string>{"other endpoint"}));
}

TEST_P(MetadataStoreEndpointsTest, AnEndpointWithoutEventsHasNone) {
  Append("wine", "{}");
  EXPECT_TRUE(Messages("wine", 0, 0).empty());
  EXPECT_TRUE(Messages("never-applied", 0, 10).empty());
}

TEST_P(MetadataStoreEndpointsTest, EventsWithoutEndpointOrKindAreRejected) {
  const auto no_endpoint = store_->AppendEndpointEvent({.kind = "scale", .message = "m"});
  EXPECT_EQ(no_endpoint.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(no_endpoint.status().message().find("endpoint"), std::string::npos) << no_endpoint.status().message();
  const auto no_kind = store_->AppendEndpointEvent({.endpoint = "wine", .message = "m"});
  EXPECT_EQ(no_kind.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(no_kind.status().message().find("kind"), std::string::npos) << no_kind.status().message();
  EXPECT_TRUE(Messages("wine", 0, 0).empty());
}

TEST_P(MetadataStoreEndpointsTest, ConcurrentEventsFromTwoStoresGetDistinctSeqs) {
  constexpr int kThreads = 2;
  constexpr int kPerThread = 20;
  std::vector<std::vector<std::int64_t>> got(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto store = OpenMetadataStore(location());
      ASSERT_TRUE(store.ok()) << store.status().ToString();
      for (int i = 0; i < kPerThread; ++i) {
        const auto event = (*store)->AppendEndpointEvent({.endpoint = "wine", .kind = "scale", .message = "m"});
        EXPECT_TRUE(event.ok()) << event.status().ToString();
        if (event.ok()) got[t].push_back(event->seq);
      }
      EXPECT_TRUE(std::is_sorted(got[t].begin(), got[t].end()));
    });
  }
  for (auto& thread : threads) thread.join();
  std::vector<std::int64_t> seqs;
  for (const auto& mine : got) seqs.insert(seqs.end(), mine.begin(), mine.end());
  std::sort(seqs.begin(), seqs.end());
  EXPECT_EQ(std::adjacent_find(seqs.begin(), seqs.end()), seqs.end());
  EXPECT_EQ(store_->ListEndpointEvents("wine", 0, 0)->size(), static_cast<std::size_t>(kThreads * kPerThread));
}

TEST_P(MetadataStoreEndpointsTest, MigrationFiveAddsTheEndpointTables) {
  const auto& migrations = postgresql() ? PostgresMigrations() : SqliteMigrations();
  ASSERT_GE(migrations.size(), 5u);
  EXPECT_EQ(migrations[4].version, 5);
  EXPECT_EQ(migrations[4].description, "endpoints");
  const auto applied = Migrations();
  ASSERT_EQ(applied.size(), migrations.size());
  EXPECT_EQ(applied[4].substr(0, 2), "5@");
  EXPECT_TRUE(Exec("SELECT endpoint, revision, spec_json, resolved_json, reason, created_us FROM endpoint_revisions; "
                   "SELECT name, active FROM endpoint_names; "
                   "SELECT seq, endpoint, time_us, kind, message, details_json FROM endpoint_events")
                  .ok());
}

TEST(MigrationListsTest, BothBackendsHaveTheSameNumbering) {
  ASSERT_EQ(SqliteMigrations().size(), PostgresMigrations().size());
  for (std::size_t i = 0; i < SqliteMigrations().size(); ++i) {
    EXPECT_EQ(SqliteMigrations()[i].version, PostgresMigrations()[i].version);
    EXPECT_EQ(SqliteMigrations()[i].description, PostgresMigrations()[i].description);
  }
}

TEST(SqliteMetadataStoreFileTest, UpgradesADatabaseFromBeforeEndpoints) {
  testing::TempDir dir;
  const auto path = dir.path() / "wharf.db";
  {
    // What a build that knew migrations 1 to 4 left behind.
    auto db = SqliteDatabase::Open(path);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(ApplySqliteMigrations(**db, SqliteMigrations().first(4)).ok());
  }
  auto store = OpenMetadataStore(path.string());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  const auto revision = (*store)->AppendEndpointRevision("wine", "{}", "{}", "apply");
  ASSERT_TRUE(revision.ok()) << revision.status().ToString();
  EXPECT_EQ(revision->revision, 1);
}

}  // namespace
}  // namespace wharf::store
