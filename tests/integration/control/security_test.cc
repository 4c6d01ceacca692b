// The control plane against hostile clients: credentials other than the
// server's bearer token, oversized headers and JSON bodies, and slow senders
// holding connections. Each is refused, and the server keeps answering the
// honest client. (Every documented route needing the token, artifact names
// escaping the store and literal argv are in control_server_test.cc.)

#include <sys/resource.h>

#include <csignal>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "control/api.h"
#include "control_server_fixture.h"
#include "testing/temp_dir.h"
#include "testing/wait.h"

namespace wharf::testing {
namespace {

class ControlSecurityTest : public ControlServerTest {
 protected:
  void SetUp() override { Start("2", {"--read-timeout-ms", "500"}); }
};

TEST_F(ControlSecurityTest, OnlyTheBearerTokenItselfIsAccepted) {
  const std::string route = "/api/tasks";
  const std::vector<std::pair<std::string, std::string>> refused = {
      {"Authorization", "Bearer " + token_.substr(0, 63)},          // one character short
      {"Authorization", "Bearer " + token_ + "0"},                 // one too many
      {"Authorization", "Bearer " + std::string(64, '0')},         // right length, wrong value
      {"Authorization", "Basic " + token_},                        // another scheme
      {"Authorization", "Bearer"},                                 // no token at all
      {"Authorization", "bearer  " + token_ + " trailing"},        // mangled
      {"X-Token", token_},                                         // not the Authorization header
  };
  for (const auto& [header, value] : refused) {
    EXPECT_EQ(http_->Request("GET", route, "", {{header, value}}).status, 401) << header << ": " << value;
  }
  EXPECT_EQ(http_->Request("GET", route + "?token=" + token_).status, 401) << "a token in the URL ends up in logs";
  EXPECT_EQ(Call("GET", route).status, 200);
}

TEST_F(ControlSecurityTest, OversizedHeadersGetA431AndTheServerStaysUp) {
  HttpClient raw(server_->port());
  ASSERT_TRUE(raw.Connect());
  ASSERT_TRUE(raw.SendRaw("GET /api/health HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(64 * 1024, 'a') + "\r\n\r\n"));
  EXPECT_EQ(raw.ReadResponse().status, 431);
  EXPECT_EQ(Call("GET", "/api/tasks").status, 200);
}

TEST_F(ControlSecurityTest, JsonBodiesOverTheLimitAreRefusedWithoutEffect) {
  json spec = {{"name", "big"}, {"command", {"true"}}, {"env", {{"PAD", std::string(control::kMaxJsonBody, 'x')}}}};
  const HttpResult r = Call("POST", "/api/taskdefs", spec.dump());
  EXPECT_EQ(r.status, 413) << r.body;
  EXPECT_NE(r.body.find("exceeds the limit of 1048576 bytes"), std::string::npos) << r.body;
  EXPECT_EQ(Call("GET", "/api/taskdefs/big").status, 404);

  const HttpResult secret = Call("PUT", "/api/secrets/big", std::string(control::kMaxJsonBody + 1, 's'));
  EXPECT_EQ(secret.status, 413) << secret.body;
  EXPECT_EQ(Call("GET", "/api/secrets/big").status, 404);
}

// Found by attacking a fresh build: a definition whose params, or a run whose
// overrides, nested 200,000 deep crashed the server (a recursive copy). Every
// route that takes JSON refuses a body past the depth rule with a 400 naming
// it, and stores nothing.
TEST_F(ControlSecurityTest, DeeplyNestedJsonIsRefusedOnEveryRouteThatTakesJson) {
  const std::string deep = std::string(200000, '[') + std::string(200000, ']');
  const std::vector<std::pair<std::string, std::string>> routes = {
      {"POST", "/api/taskdefs"},       {"POST", "/api/runs"},
      {"POST", "/api/tasks/x/stop"},   {"POST", "/api/endpoints"},
      {"POST", "/api/endpoints/x/rollback"}, {"POST", "/api/services"},
      {"POST", "/api/services/x/scale"},
  };
  for (const auto& [method, route] : routes) {
    const std::string body = R"({"name": "deep", "taskdef": "deep", "command": ["true"], "params": )" + deep + "}";
    const HttpResult r = Call(method, route, body);
    EXPECT_EQ(r.status, 400) << method << " " << route << ": " << r.body;
    EXPECT_NE(r.body.find("nests deeper than 64 levels"), std::string::npos) << route << ": " << r.body;
    ASSERT_EQ(Call("GET", "/api/tasks").status, 200) << "the server died on " << route;
  }
  EXPECT_EQ(Call("GET", "/api/taskdefs/deep").status, 404);

  // Nesting within the rule reaches the definition's own checks.
  const std::string nested = std::string(60, '[') + std::string(60, ']');
  const HttpResult checked = Call("POST", "/api/taskdefs", R"({"name": "nested", "command": ["true"], "params": )" +
                                                               nested + "}");
  EXPECT_EQ(checked.status, 400) << checked.body;
  EXPECT_NE(checked.body.find("only a job takes params"), std::string::npos) << checked.body;
}

// Found by attacking a fresh build: every route read the whole body before
// checking the token, so clients without one made the server hold 250 MB
// bodies (16 at once: 3.9 GB) and got their 401 only once all had arrived.
// The token is checked on the headers; the body is never read.
TEST_F(ControlSecurityTest, ARequestWithoutTheTokenIsRefusedBeforeItsBodyIsRead) {
  const std::string declared = "Content-Length: 262144000\r\n\r\n";  // 250 MB, of which 64 KiB are sent
  const std::vector<std::pair<std::string, int>> heads = {
      {"PUT /api/artifacts/big HTTP/1.1\r\nHost: x\r\n", 401},
      {"POST /api/taskdefs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer nope\r\n", 401},
      {"GET /api/health HTTP/1.1\r\nHost: x\r\n", 413},  // public, so no token, but no big body either
  };
  for (const auto& [head, status] : heads) {
    HttpClient raw(server_->port());
    ASSERT_TRUE(raw.Connect());
    ASSERT_TRUE(raw.SendRaw(head + declared + std::string(64 * 1024, 'a')));
    const HttpResult r = raw.ReadResponse();
    EXPECT_EQ(r.status, status) << head << r.body;
    EXPECT_NE(r.body.find(status == 401 ? "bearer token" : "exceeds the limit"), std::string::npos) << r.body;
    EXPECT_TRUE(raw.WaitForClose(static_cast<int>(kPatience.count()))) << "the body was not wanted: " << head;
  }
  EXPECT_EQ(Call("GET", "/api/artifacts/big").status, 404);
  EXPECT_EQ(Call("GET", "/api/tasks").status, 200);
}

TEST_F(ControlSecurityTest, AJsonBodyDeclaredOverTheLimitIsRefusedBeforeItIsRead) {
  HttpClient raw(server_->port());
  ASSERT_TRUE(raw.Connect());
  ASSERT_TRUE(raw.SendRaw("POST /api/taskdefs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token_ +
                          "\r\nContent-Length: 104857600\r\n\r\n{"));
  const HttpResult r = raw.ReadResponse();
  EXPECT_EQ(r.status, 413) << r.body;
  EXPECT_NE(r.body.find("request body of 104857600 bytes exceeds the limit of 1048576 bytes"), std::string::npos)
      << r.body;
}

TEST_F(ControlSecurityTest, AClientThatAsksBeforeSendingItsBodyIsToldToGoOn) {
  const std::string body = "model bytes";
  HttpClient raw(server_->port());
  ASSERT_TRUE(raw.Connect());
  ASSERT_TRUE(raw.SendRaw("PUT /api/artifacts/asked HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token_ +
                          "\r\nExpect: 100-continue\r\nContent-Length: " + std::to_string(body.size()) +
                          "\r\n\r\n"));
  EXPECT_EQ(raw.ReadResponse().status, 100);
  ASSERT_TRUE(raw.SendRaw(body));
  const HttpResult stored = raw.ReadResponse();
  EXPECT_EQ(stored.status, 201) << stored.body;

  HttpClient refused(server_->port());
  ASSERT_TRUE(refused.Connect());
  ASSERT_TRUE(refused.SendRaw("PUT /api/artifacts/unasked HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                              "Content-Length: 5\r\n\r\n"));
  EXPECT_EQ(refused.ReadResponse().status, 401) << "no 100 Continue without the token";
}

TEST_F(ControlSecurityTest, SlowClientsAreCutOffWhileTheApiAnswers) {
  std::vector<std::unique_ptr<HttpClient>> slow;
  for (int i = 0; i < 20; ++i) {
    slow.push_back(std::make_unique<HttpClient>(server_->port()));
    ASSERT_TRUE(slow.back()->Connect());
    ASSERT_TRUE(slow.back()->SendRaw("POST /api/taskdefs HTTP/1.1\r\nHost: x\r\nAuthoriz"));
  }
  EXPECT_EQ(Call("GET", "/api/tasks").status, 200);
  for (auto& s : slow) {
    s->SendRaw("ation: Bea");  // still dribbling
    ASSERT_TRUE(s->WaitForClose(static_cast<int>(kPatience.count())))
        << "a slow client kept its connection past the read timeout";
  }
  EXPECT_EQ(Call("GET", "/api/tasks").status, 200);
}

// Found by attacking a fresh build: the store, logs and artifacts under the
// home were 0644 in 0755 folders (the umask's), readable by every user.
TEST_F(ControlSecurityTest, EverythingUnderTheHomeIsTheServersAlone) {
  ASSERT_EQ(Call("PUT", "/api/artifacts/model.bin", "weights").status, 201);
  const std::vector<json> tasks = Run("writes", {{"command", {"sh", "-c", "echo out; echo err >&2; echo f > made"}}});
  EXPECT_EQ(WaitFinal(tasks.front()["id"])["state"], "SUCCEEDED");
  std::size_t seen = 0;
  EXPECT_EQ(std::filesystem::status(home_.path()).permissions(), std::filesystem::perms::owner_all);
  for (const auto& entry : std::filesystem::recursive_directory_iterator(home_.path())) {
    if (entry.is_symlink()) continue;
    const auto mode = entry.status().permissions();
    EXPECT_EQ(mode & (std::filesystem::perms::group_all | std::filesystem::perms::others_all),
              std::filesystem::perms::none)
        << entry.path() << " is open to group or others";
    ++seen;
  }
  EXPECT_GT(seen, 5u) << "the store, the token, the artifact and the task's files";
}

// Found by attacking a fresh build: a crashed server's core dump would hold
// its token and the vault key. Nothing the server holds can end up in one.
TEST(ControlServerCoreTest, ACrashedServerLeavesNoCoreDump) {
  rlimit before{};
  ASSERT_EQ(::getrlimit(RLIMIT_CORE, &before), 0);
  if (before.rlim_max == 0) GTEST_SKIP() << "core dumps are off on this machine (hard RLIMIT_CORE is 0)";
  const rlimit dump_everything{before.rlim_max, before.rlim_max};
  ASSERT_EQ(::setrlimit(RLIMIT_CORE, &dump_everything), 0);  // what the server inherits
  TempDir home;
  ServerProcess server({"server", "--home", home.path().string(), "--port", "0"});
  ASSERT_EQ(::setrlimit(RLIMIT_CORE, &before), 0);
  ASSERT_TRUE(server.started()) << server.output();
  // SIGQUIT: a core by default, and no sanitizer runtime catches it (ASan turns SIGSEGV into exit 1).
  EXPECT_EQ(server.Stop(SIGQUIT), 128 + SIGQUIT);
  EXPECT_FALSE(server.dumped_core()) << "the kernel wrote a core of a process holding the token and the key";
}

}  // namespace
}  // namespace wharf::testing
