// Capture into PostgreSQL while PostgreSQL restarts under load: async
// capture keeps answering, counts every row it could not write and writes
// again once the server is back; durable capture refuses (503) what it
// cannot store rather than acknowledge it, and recovers too.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "serve/serve_fixture.h"
#include "testing/http_client.h"
#include "testing/postgres_server.h"
#include "testing/server_process.h"

namespace wharf {
namespace {

using namespace std::chrono_literals;
using testing::Eventually;
using testing::HttpClient;
using testing::Metric;
using testing::ServeModels;
using testing::ServerProcess;
using testing::TempDir;


// Stops and joins the client threads when the test ends, an ASSERT included.
struct Clients {
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  void Join() {
    stop = true;
    for (auto& t : threads) {
      if (t.joinable()) t.join();
    }
  }
  ~Clients() { Join(); }
};

class PostgresCaptureRestartTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<std::string> url = testing::NewPostgresDatabase();
    if (!url.ok()) GTEST_SKIP() << "no PostgreSQL here: " << url.status().message();
    url_ = *url;
  }

  std::unique_ptr<ServerProcess> Serve(const std::string& mode) {
    const auto config = dir_.Write("wine.yaml", "endpoints:\n  - name: wine\n    variants:\n      - {name: a, model: " +
                                                    ServeModels::Wine().string() + "}\n    capture: {mode: " + mode +
                                                    "}\n");
    return std::make_unique<ServerProcess>(std::vector<std::string>{
        "serve", "--config", config.string(), "--port", "0", "--threads", "2", "--store", url_});
  }

  // The ids of the captures whose id starts with `prefix`.
  std::set<std::string> Stored(const std::string& prefix) {
    auto rows = testing::QueryPostgres(url_, "SELECT id FROM captures WHERE id LIKE '" + prefix + "%'");
    EXPECT_TRUE(rows.ok()) << rows.status().message();
    std::set<std::string> ids;
    if (rows.ok()) {
      for (const auto& row : *rows) ids.insert(row[0]);
    }
    return ids;
  }

  std::string url_;
  TempDir dir_;
};

TEST_F(PostgresCaptureRestartTest, AsyncCaptureAnswersThroughARestartCountsWhatItLostAndResumes) {
  auto server = Serve("async");
  ASSERT_TRUE(server->started()) << server->output();

  // Clients tag each request with the phase it was sent in: before, down, after.
  std::atomic<int> phase{0};
  std::atomic<long> answered{0}, refused{0};
  std::atomic<long> sent_down{0};
  std::mutex mu;
  std::string first_refusal;
  Clients clients;  // after what the clients use: joined before it goes
  for (int t = 0; t < 2; ++t) {
    clients.threads.emplace_back([&, t] {
      static const char* const kPhase[] = {"before-", "down-", "after-"};
      HttpClient client(server->port());
      for (int i = 0; !clients.stop; ++i) {
        const int p = phase.load();
        const std::string id = std::string(kPhase[p]) + std::to_string(t) + "-" + std::to_string(i);
        const auto r = client.Post("/v2/models/wine/infer", testing::WineInferBody(id));
        if (r.status == 200) {
          ++answered;
          if (p == 1) ++sent_down;
        } else {
          ++refused;
          std::lock_guard lock(mu);
          if (first_refusal.empty()) first_refusal = std::to_string(r.status) + " " + r.body;
        }
        std::this_thread::sleep_for(2ms);
      }
    });
  }
  HttpClient admin(server->port());
  ASSERT_TRUE(Eventually([&] { return !Stored("before-").empty(); })) << "nothing captured before the restart";

  ASSERT_TRUE(testing::StopPostgres().ok());
  phase = 1;
  // Inference goes on while the store is down; the writer counts what it lost.
  long failed_down = 0;
  EXPECT_TRUE(Eventually([&] {
    failed_down = Metric(admin.Get("/metrics").body, "wharf_capture_failed_total");
    return failed_down > 0;
  })) << "no failed write counted while PostgreSQL was down: wharf_capture_failed_total " << failed_down;
  EXPECT_TRUE(Eventually([&] { return sent_down.load() >= 50; }))
      << sent_down.load() << " requests answered while PostgreSQL was down";

  ASSERT_TRUE(testing::RestartPostgres().ok());
  phase = 2;
  std::size_t stored_after = 0;
  EXPECT_TRUE(Eventually([&] { return (stored_after = Stored("after-").size()) >= 20; }))
      << stored_after << " captures after PostgreSQL came back; server output:\n" << server->output();
  clients.Join();

  EXPECT_EQ(refused.load(), 0) << "async capture must never fail inference: " << first_refusal;
  EXPECT_GT(sent_down.load(), 0);
  // Every answered request is accounted for: written, failed or dropped,
  // once the writer has finished the group it may still be committing.
  long written = 0, failed = 0, dropped = 0;
  const bool accounted = Eventually([&] {
    const std::string page = admin.Get("/metrics").body;
    written = Metric(page, "wharf_capture_written_total");
    failed = Metric(page, "wharf_capture_failed_total");
    dropped = Metric(page, "wharf_capture_dropped_total");
    return written + failed + dropped == answered.load();
  });
  EXPECT_TRUE(accounted) << answered.load() << " answered, but written " << written << " + failed " << failed
                         << " + dropped " << dropped;
  EXPECT_GT(failed, 0) << "the rows lost while PostgreSQL was down are counted";
  auto rows = testing::QueryPostgres(url_, "SELECT count(*) FROM captures");
  ASSERT_TRUE(rows.ok()) << rows.status().message();
  EXPECT_GE(std::stol((*rows)[0][0]), written) << "every row counted as written is in PostgreSQL";
}

TEST_F(PostgresCaptureRestartTest, DurableCaptureRefusesWhatItCannotStoreAndRecovers) {
  auto server = Serve("durable");
  ASSERT_TRUE(server->started()) << server->output();
  HttpClient client(server->port());
  std::set<std::string> acknowledged;
  int n = 0;
  auto send = [&](const std::string& prefix) {
    const std::string id = prefix + std::to_string(++n);
    const auto r = client.Post("/v2/models/wine/infer", testing::WineInferBody(id));
    if (r.status == 200) acknowledged.insert(id);
    return r;
  };
  for (int i = 0; i < 5; ++i) ASSERT_EQ(send("before-").status, 200);

  ASSERT_TRUE(testing::StopPostgres().ok());
  for (int i = 0; i < 5; ++i) {
    const auto r = send("down-");
    EXPECT_EQ(r.status, 503) << "an answer whose row cannot be committed must not be acknowledged: " << r.body;
    EXPECT_NE(r.body.find("could not be captured"), std::string::npos) << r.body;
  }

  ASSERT_TRUE(testing::RestartPostgres().ok());
  int status = 0;
  EXPECT_TRUE(Eventually([&] { return (status = send("after-").status) == 200; }))
      << "durable capture did not recover after PostgreSQL came back: " << status << "\n" << server->output();
  for (int i = 0; i < 5; ++i) EXPECT_EQ(send("after-").status, 200);

  const std::set<std::string> stored = Stored("");
  for (const auto& id : acknowledged) EXPECT_TRUE(stored.count(id)) << id << " was acknowledged but not stored";
  EXPECT_TRUE(Stored("down-").empty()) << "nothing could be written while the server was down";
}

}  // namespace
}  // namespace wharf
