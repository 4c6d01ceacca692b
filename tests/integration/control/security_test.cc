// The control plane against hostile clients: credentials other than the
// server's bearer token, oversized headers and JSON bodies, and slow senders
// holding connections. Each is refused, and the server keeps answering the
// honest client. (Every documented route needing the token, artifact names
// escaping the store and literal argv are in control_server_test.cc.)

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "control/api.h"
#include "control_server_fixture.h"
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

}  // namespace
}  // namespace wharf::testing
