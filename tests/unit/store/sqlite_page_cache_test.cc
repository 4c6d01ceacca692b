#include <sqlite3.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include <gtest/gtest.h>

#include "store/sqlite_database.h"
#include "testing/temp_dir.h"

namespace wharf::store {
namespace {

// Fills a table with ~4 MiB of rows in one transaction: ~1000 pages, all in
// its 6 MB page cache.
void Fill(const std::filesystem::path& path) {
  auto db = SqliteDatabase::Open(path);
  if (!db.ok()) std::exit(10);
  auto& d = **db;
  if (!d.Exec("PRAGMA cache_size=-6000").ok() || !d.Exec("CREATE TABLE t (v BLOB)").ok() || !d.Exec("BEGIN").ok()) {
    std::exit(11);
  }
  for (int i = 0; i < 4000; ++i) {
    if (!d.Exec("INSERT INTO t VALUES (randomblob(1000))").ok()) std::exit(12);
  }
  if (!d.Exec("COMMIT").ok()) std::exit(13);
}

int SlabHighwater() {
  int current = 0, highwater = 0;
  sqlite3_status(SQLITE_STATUS_PAGECACHE_USED, &current, &highwater, 0);
  return highwater;
}

// SQLite is configured once per process, before its first use: each case runs
// in a process of its own (gtest re-executes the binary for it).
class SqlitePageCacheTest : public ::testing::Test {
 protected:
  void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
  testing::TempDir dir_;
};

TEST_F(SqlitePageCacheTest, PagesComeFromTheReservedSlab) {
  EXPECT_EXIT(
      {
        const Status reserved = ReserveSqlitePageCache(8 << 20);
        if (!reserved.ok()) {
          std::fprintf(stderr, "%s\n", reserved.message().c_str());
          std::exit(1);
        }
        Fill(dir_.path() / "a.db");
        // The table's pages sit in the slab, which SqliteMemoryUsed counts.
        if (SlabHighwater() < 900) std::exit(2);
        if (SqliteMemoryUsed() < sqlite3_memory_used() + (7 << 20)) std::exit(3);
        std::exit(ReserveSqlitePageCache(8 << 20).code() == StatusCode::kFailedPrecondition ? 0 : 4);
      },
      ::testing::ExitedWithCode(0), "");
}

TEST_F(SqlitePageCacheTest, ReservingOnceSQLiteIsInUseIsRefused) {
  EXPECT_EXIT(
      {
        Fill(dir_.path() / "b.db");
        const Status late = ReserveSqlitePageCache(8 << 20);
        if (late.code() != StatusCode::kFailedPrecondition) std::exit(1);
        std::exit(SlabHighwater() == 0 ? 0 : 2);
      },
      ::testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace wharf::store
