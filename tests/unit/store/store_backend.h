#pragma once
// The store contract tests run on both backends: a suite derives from
// StoreBackendTest and is instantiated with WHARF_INSTANTIATE_STORE_BACKENDS,
// so each test runs as .../sqlite and .../postgresql. Each test gets an empty
// store location: a SQLite file (in a directory not created yet) or a fresh
// PostgreSQL database on this process's server (testing/postgres_server.h);
// the PostgreSQL instances skip, saying why, where no server can start.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "store/metadata_store.h"
#include "store/sqlite_database.h"
#include "testing/postgres_server.h"
#include "testing/temp_dir.h"

namespace wharf::store {

class StoreBackendTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (!postgresql()) {
      location_ = (dir_.path() / "nested" / "wharf.db").string();  // parents are created
      return;
    }
    auto url = wharf::testing::NewPostgresDatabase();
    if (!url.ok()) GTEST_SKIP() << "no PostgreSQL server: " << url.status().ToString();
    location_ = *url;
  }

  bool postgresql() const { return GetParam() == "postgresql"; }

  // A file path or a postgresql:// URL, for OpenCaptureStore / OpenMetadataStore.
  const std::string& location() const { return location_; }

  // Runs `sql` on the backend's database directly, not through a store.
  Status Exec(std::string_view sql) const {
    if (postgresql()) return wharf::testing::ExecPostgres(location_, sql);
    auto db = SqliteDatabase::Open(location_);
    if (!db.ok()) return db.status();
    return (*db)->Exec(sql);
  }

  // "version@applied_at" for every recorded migration, by version.
  std::vector<std::string> Migrations() const {
    constexpr std::string_view kSql = "SELECT version, applied_at FROM schema_migrations ORDER BY version";
    std::vector<std::string> out;
    if (postgresql()) {
      auto rows = wharf::testing::QueryPostgres(location_, kSql);
      EXPECT_TRUE(rows.ok()) << rows.status().ToString();
      if (rows.ok()) {
        for (const auto& row : *rows) out.push_back(row[0] + "@" + row[1]);
      }
      return out;
    }
    auto db = SqliteDatabase::Open(location_);
    EXPECT_TRUE(db.ok());
    auto rows = (*db)->Prepare(kSql);
    EXPECT_TRUE(rows.ok());
    while (rows->Step().value()) {
      out.push_back(std::to_string(rows->ColumnInt64(0)) + "@" + std::string(rows->ColumnText(1)));
    }
    return out;
  }

 private:
  wharf::testing::TempDir dir_;
  std::string location_;
};

// A StoreBackendTest with the metadata store open on its location as store_.
class MetadataBackendTest : public StoreBackendTest {
 protected:
  void SetUp() override {
    StoreBackendTest::SetUp();
    if (IsSkipped()) return;
    auto store = OpenMetadataStore(location());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
  }

  std::unique_ptr<MetadataStore> store_;
};

// "sqlite" or "postgresql": the last part of each test's name.
inline std::string StoreBackendName(const ::testing::TestParamInfo<std::string>& backend) { return backend.param; }

}  // namespace wharf::store

#define WHARF_INSTANTIATE_STORE_BACKENDS(suite) \
  INSTANTIATE_TEST_SUITE_P(Backends, suite, ::testing::Values("sqlite", "postgresql"), ::wharf::store::StoreBackendName)
