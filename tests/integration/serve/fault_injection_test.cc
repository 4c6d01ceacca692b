// Faults injected into the model server under load:
// - kill -9 at random points (several rounds on one capture store, SQLite and
//   PostgreSQL): every request a server acknowledged with durable capture is
//   stored, no row is torn or doubled, and SQLite's integrity check passes;
// - the capture database's disk fills up (a small tmpfs): async capture keeps
//   answering and counts what it could not write, durable capture refuses
//   (503) what it cannot store, both say why, and both write again once
//   space is back.
// (PostgreSQL stopped and restarted under load: postgres_capture_restart_test.cc.)

#include <sys/mount.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "serve/serve_fixture.h"
#include "store/capture_store.h"
#include "store/location.h"
#include "store/sqlite_database.h"
#include "testing/http_client.h"
#include "testing/postgres_server.h"
#include "testing/server_process.h"

namespace wharf {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::Eventually;
using testing::HttpClient;
using testing::Metric;
using testing::ServeModels;
using testing::ServerProcess;
using testing::TempDir;

std::string ParamName(const ::testing::TestParamInfo<std::string>& param) { return param.param; }

// Client threads posting wine requests with unique ids until stopped,
// remembering which ones the server acknowledged (200) and how the others
// were answered. Joined when it goes, an ASSERT included.
class Load {
 public:
  Load(std::uint16_t port, std::string prefix, int threads) {
    for (int t = 0; t < threads; ++t) {
      threads_.emplace_back([this, port, prefix, t] {
        HttpClient client(port);
        for (int i = 0; !stop_; ++i) {
          const std::string id = prefix + std::to_string(t) + "-" + std::to_string(i);
          const auto r = client.Post("/v2/models/wine/infer", testing::WineInferBody(id));
          std::lock_guard lock(mu_);
          if (r.status == 200) {
            acknowledged_.insert(id);
          } else if (r.status != 0) {
            refused_.push_back(std::to_string(r.status) + " " + r.body);
          }
        }
      });
    }
  }
  ~Load() { Stop(); }

  void Stop() {
    stop_ = true;
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  }
  std::set<std::string> acknowledged() {
    std::lock_guard lock(mu_);
    return acknowledged_;
  }
  std::vector<std::string> refused() {
    std::lock_guard lock(mu_);
    return refused_;
  }

 private:
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::set<std::string> acknowledged_;
  std::vector<std::string> refused_;
  std::vector<std::thread> threads_;
};

std::string Config(const TempDir& dir, const std::string& mode) {
  return dir
      .Write("wine.yaml", "endpoints:\n  - name: wine\n    variants:\n      - {name: a, model: " +
                              ServeModels::Wine().string() + "}\n    capture: {mode: " + mode + "}\n")
      .string();
}

// Every capture id kept by the store at `location` (duplicates kept, to be counted).
std::vector<std::string> StoredIds(const std::string& location) {
  auto store = store::OpenCaptureStore(store::CaptureLocation(location), store::Durability::kProcessCrash);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  std::vector<std::string> ids;
  if (!store.ok()) return ids;
  const Status read = (*store)->ForEach({.endpoint = "wine", .limit = 0}, [&](const store::CaptureRecord& r) {
    EXPECT_FALSE(r.outputs.empty()) << r.id << " was stored without its outputs";
    ids.push_back(r.id);
    return Status::Ok();
  });
  EXPECT_TRUE(read.ok()) << read.ToString();
  return ids;
}

std::string SqliteIntegrity(const fs::path& file) {
  auto db = store::SqliteDatabase::Open(file);
  if (!db.ok()) return db.status().ToString();
  auto check = (*db)->Prepare("PRAGMA integrity_check");
  if (!check.ok()) return check.status().ToString();
  std::string verdict;
  for (Result<bool> row = check->Step(); row.ok() && *row; row = check->Step()) verdict += std::string(check->ColumnText(0)) + ";";
  return verdict;
}

class KillNineTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "sqlite") {
      location_ = (dir_.path() / "captures.db").string();
      return;
    }
    Result<std::string> url = testing::NewPostgresDatabase();
    if (!url.ok()) GTEST_SKIP() << "no PostgreSQL here: " << url.status().message();
    location_ = *url;
  }

  TempDir dir_;
  std::string location_;
};
INSTANTIATE_TEST_SUITE_P(Backends, KillNineTest, ::testing::Values("sqlite", "postgresql"),
                         ParamName);

TEST_P(KillNineTest, RandomKillsUnderLoadLoseNoAcknowledgedCaptureAndCorruptNothing) {
  const unsigned seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 random(seed);
  const std::string config = Config(dir_, "durable");
  std::set<std::string> acknowledged;
  constexpr int kRounds = 4;
  for (int round = 0; round < kRounds; ++round) {
    ServerProcess server(
        {"serve", "--config", config, "--port", "0", "--threads", "2", "--store", location_});
    ASSERT_TRUE(server.started()) << "round " << round << ": the store did not reopen after a kill:\n"
                                  << server.output();
    Load load(server.port(), "r" + std::to_string(round) + "-", 3);
    std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution(150, 1200)(random)));
    if (round == kRounds - 1) {
      // However slow the machine, enough acknowledged requests in all to prove something.
      Eventually([&] { return acknowledged.size() + load.acknowledged().size() > 50; });
    }
    server.Stop(SIGKILL);
    load.Stop();
    const auto round_acks = load.acknowledged();
    acknowledged.insert(round_acks.begin(), round_acks.end());
  }
  ASSERT_GT(acknowledged.size(), 50u) << "too little load to prove anything";

  const std::vector<std::string> ids = StoredIds(location_);
  const std::set<std::string> stored(ids.begin(), ids.end());
  EXPECT_EQ(stored.size(), ids.size()) << "a capture was stored twice";
  std::size_t lost = 0;
  for (const auto& id : acknowledged) lost += !stored.contains(id);
  EXPECT_EQ(lost, 0u) << lost << " of " << acknowledged.size() << " acknowledged requests are not in the store";
  if (GetParam() == "sqlite") {
    EXPECT_EQ(SqliteIntegrity(store::CaptureLocation(location_)), "ok;");
  }
}

// A tmpfs of `bytes` mounted on a fresh directory, unmounted when it goes.
class SmallDisk {
 public:
  explicit SmallDisk(std::size_t bytes) : dir_(temp_.path() / "disk") {
    fs::create_directories(dir_);
    const std::string options = "size=" + std::to_string(bytes);
    if (::mount("tmpfs", dir_.c_str(), "tmpfs", 0, options.c_str()) != 0) {
      error_ = std::string("cannot mount a tmpfs (needs root): ") + std::strerror(errno);
    }
  }
  ~SmallDisk() {
    if (error_.empty()) ::umount2(dir_.c_str(), MNT_DETACH);
  }
  const std::string& error() const { return error_; }
  const fs::path& path() const { return dir_; }

  // Fills all but `leave` bytes with a ballast file; Free() deletes it.
  void Fill(std::size_t leave) {
    const auto space = fs::space(dir_);
    std::ofstream ballast(dir_ / "ballast", std::ios::binary);
    const std::string block(4096, 'b');
    for (std::uintmax_t written = 0; written + leave + block.size() <= space.available; written += block.size()) {
      ballast.write(block.data(), static_cast<std::streamsize>(block.size()));
    }
  }
  void Free() { fs::remove(dir_ / "ballast"); }

 private:
  TempDir temp_;
  fs::path dir_;
  std::string error_;
};

class DiskFullTest : public ::testing::TestWithParam<std::string> {};
INSTANTIATE_TEST_SUITE_P(Modes, DiskFullTest, ::testing::Values("async", "durable"),
                         ParamName);

TEST_P(DiskFullTest, CaptureCountsAndExplainsWhatItCannotWriteAndResumesWhenSpaceIsBack) {
  const bool durable = GetParam() == "durable";
  SmallDisk disk(4 << 20);
  if (!disk.error().empty()) GTEST_SKIP() << disk.error();
  TempDir dir;
  const fs::path db = disk.path() / "captures.db";
  ServerProcess server({"serve", "--config", Config(dir, GetParam()), "--port", "0", "--threads", "2", "--store",
                        db.string()});
  ASSERT_TRUE(server.started()) << server.output();
  HttpClient admin(server.port());
  ASSERT_EQ(admin.Post("/v2/models/wine/infer", testing::WineInferBody("first")).status, 200);
  disk.Fill(64 << 10);

  {
    Load load(server.port(), "full-", 2);
    long failed_writes = 0;
    EXPECT_TRUE(Eventually([&] {
      if (durable) return !load.refused().empty();
      failed_writes = Metric(admin.Get("/metrics").body, "wharf_capture_failed_total");
      return failed_writes > 0;
    })) << "the disk never filled up (" << load.refused().size() << " refused, wharf_capture_failed_total "
        << failed_writes << "); server output:\n"
        << server.output();
    // Inference is still answered (async) or refused with the reason (durable).
    std::this_thread::sleep_for(300ms);
    load.Stop();
    if (durable) {
      for (const auto& refusal : load.refused()) {
        EXPECT_TRUE(refusal.starts_with("503 ")) << refusal;
        EXPECT_NE(refusal.find("full"), std::string::npos) << refusal;
      }
    } else {
      EXPECT_TRUE(load.refused().empty()) << "async capture must never fail inference: " << load.refused().front();
    }
  }
  EXPECT_NE(server.output().find("full"), std::string::npos) << "the server log does not say the disk is full:\n"
                                                              << server.output();
  EXPECT_EQ(admin.Get("/v2/health/ready").status, 200);

  disk.Free();
  int answered = 0;
  long written = -1;
  bool stored = false;
  EXPECT_TRUE(Eventually([&] {
    written = -1;
    stored = false;
    answered = admin.Post("/v2/models/wine/infer", testing::WineInferBody("after-space")).status;
    if (answered != 200) return false;
    written = Metric(admin.Get("/metrics").body, "wharf_capture_written_total");
    if (written <= 0) return false;
    const auto ids = StoredIds(db.string());
    stored = std::find(ids.begin(), ids.end(), "after-space") != ids.end();
    return stored;
  })) << "capture did not resume once space was back (inference answered " << answered
      << ", wharf_capture_written_total " << written << ", 'after-space' stored: " << stored << "); server output:\n"
      << server.output();
  EXPECT_EQ(server.Stop(SIGTERM), 0) << server.output();
  EXPECT_EQ(SqliteIntegrity(store::CaptureLocation(db.string())), "ok;");
  // Hundreds of failed commits make a line or two, not a flood; recovery is said too.
  const std::string log = server.output();
  std::size_t failure_lines = 0;
  for (std::size_t at = 0; (at = log.find("capture write failed", at)) != std::string::npos; ++at) ++failure_lines;
  EXPECT_LE(failure_lines, 3u) << log;
  EXPECT_NE(log.find("capture writes succeed again"), std::string::npos) << log;
}

}  // namespace
}  // namespace wharf
