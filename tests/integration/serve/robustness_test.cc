// Clients that misbehave: slow senders are cut off by the read timeout and
// the server keeps serving everyone else.

#include <csignal>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "serve/serve_fixture.h"
#include "testing/http_client.h"
#include "testing/server_process.h"
#include "testing/wait.h"

namespace wharf {
namespace {

using testing::HttpClient;
using testing::kPatience;
using testing::ServeModels;
using testing::ServerProcess;

TEST(RobustnessTest, SlowlorisIsCutOffWhileOthersAreServed) {
  ServerProcess server({"serve", "--model", "wine=" + ServeModels::Wine().string(), "--port", "0", "--threads", "2",
                        "--capture", "off", "--read-timeout-ms", "500"});
  ASSERT_TRUE(server.started()) << server.output();
  std::vector<std::unique_ptr<HttpClient>> slow;
  for (int i = 0; i < 20; ++i) {
    slow.push_back(std::make_unique<HttpClient>(server.port()));
    ASSERT_TRUE(slow.back()->Connect());
    ASSERT_TRUE(slow.back()->SendRaw("POST /v2/models/wine/infer HTTP/1.1\r\nHost: x\r\nContent-Le"));
  }
  HttpClient good(server.port());
  EXPECT_EQ(good.Post("/v2/models/wine/infer", testing::WineInferBody()).status, 200);
  for (auto& s : slow) {
    s->SendRaw("ngth: 10");  // still dribbling
    ASSERT_TRUE(s->WaitForClose(static_cast<int>(kPatience.count())))
        << "a slow client kept its connection past the read timeout";
  }
  HttpClient after(server.port());
  EXPECT_EQ(after.Post("/v2/models/wine/infer", testing::WineInferBody()).status, 200);
}

TEST(RobustnessTest, GarbageOnTheWireGetsA400AndAClose) {
  ServerProcess server({"serve", "--model", "wine=" + ServeModels::Wine().string(), "--port", "0", "--capture", "off"});
  ASSERT_TRUE(server.started()) << server.output();
  HttpClient raw(server.port());
  ASSERT_TRUE(raw.Connect());
  ASSERT_TRUE(raw.SendRaw("THIS IS NOT HTTP\r\n\r\n"));
  EXPECT_EQ(raw.ReadResponse().status, 400);
  HttpClient good(server.port());
  EXPECT_EQ(good.Get("/v2/health/live").status, 200);
}

TEST(RobustnessTest, OversizedHeadersGetA431AndTheServerStaysUp) {
  ServerProcess server({"serve", "--model", "wine=" + ServeModels::Wine().string(), "--port", "0", "--capture", "off"});
  ASSERT_TRUE(server.started()) << server.output();
  HttpClient raw(server.port());
  ASSERT_TRUE(raw.Connect());
  ASSERT_TRUE(raw.SendRaw("POST /v2/models/wine/infer HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(64 * 1024, 'a') +
                          "\r\nContent-Length: 2\r\n\r\n{}"));
  EXPECT_EQ(raw.ReadResponse().status, 431);
  HttpClient good(server.port());
  EXPECT_EQ(good.Post("/v2/models/wine/infer", testing::WineInferBody()).status, 200);
}

// Found by fuzzing (fuzz/request_fuzz.cc): one /run/ body with a malformed
// value killed the whole model server. Malformed bodies get a 400 and the
// server keeps serving.
TEST(RobustnessTest, MalformedJsonBodiesGetA400AndTheServerStaysUp) {
  ServerProcess server({"serve", "--model", "wine=" + ServeModels::Wine().string(), "--port", "0", "--capture", "off"});
  ASSERT_TRUE(server.started()) << server.output();
  HttpClient client(server.port());
  for (const std::string body : {R"({"id": 1, "inputs": {"pH": nuil}})", R"({"inputs": {"alcohol": [}})",
                                 R"({"inputs": {"alcohol": tru}})", R"({"inputs": {"alcohol": 9.4)"}) {
    EXPECT_EQ(client.Post("/run/", body).status, 400) << body;
    EXPECT_EQ(client.Post("/v2/models/wine/infer", body).status, 400) << body;
  }
  EXPECT_EQ(client.Post("/v2/models/wine/infer", testing::WineInferBody()).status, 200) << server.output();
}

// Found by attacking a fresh build: a v2 body whose data nested 70,000 deep
// (140 KB, under the body limit) overflowed the stack and killed the server,
// without a token. Bodies past the one depth rule get a 400 naming it.
TEST(RobustnessTest, DeeplyNestedBodiesGetA400NamingTheLimitAndTheServerStaysUp) {
  ServerProcess server({"serve", "--model", "wine=" + ServeModels::Wine().string(), "--port", "0", "--capture", "off"});
  ASSERT_TRUE(server.started()) << server.output();
  HttpClient client(server.port());
  const std::string deep = std::string(70000, '[') + "1" + std::string(70000, ']');
  const std::string infer = R"({"inputs": [{"name": "alcohol", "shape": [1], "datatype": "FP64", "data": )" + deep + "}]}";
  const std::string run = R"({"inputs": {"alcohol": )" + deep + "}}";
  for (int round = 0; round < 3; ++round) {
    const auto v2 = client.Post("/v2/models/wine/infer", infer);
    EXPECT_EQ(v2.status, 400) << server.output();
    EXPECT_NE(v2.body.find("nests deeper than 64 levels"), std::string::npos) << v2.body;
    const auto classic = client.Post("/run/", run);
    EXPECT_EQ(classic.status, 400) << server.output();
    EXPECT_NE(classic.body.find("nests deeper than 64 levels"), std::string::npos) << classic.body;
  }
  EXPECT_EQ(client.Post("/v2/models/wine/infer", testing::WineInferBody()).status, 200) << server.output();
}

// Found by attacking a fresh build: a second server on a port already
// served started fine and took a share of the first one's connections.
TEST(RobustnessTest, AServerOnAPortAlreadyServedRefusesToStartNamingThePort) {
  ServerProcess first({"serve", "--model", "wine=" + ServeModels::Wine().string(), "--port", "0", "--capture", "off"});
  ASSERT_TRUE(first.started()) << first.output();
  const std::string port = std::to_string(first.port());
  for (const std::vector<std::string>& extra : {std::vector<std::string>{}, {"--replica-group", "wine"}}) {
    std::vector<std::string> args = {"serve", "--model", "wine=" + ServeModels::Wine().string(), "--port", port,
                                     "--capture", "off"};
    args.insert(args.end(), extra.begin(), extra.end());
    ServerProcess second(args);
    EXPECT_FALSE(second.started()) << second.output();
    EXPECT_EQ(second.Stop(SIGKILL), 1) << second.output();
    EXPECT_NE(second.output().find("127.0.0.1:" + port + " is already served"), std::string::npos) << second.output();
  }
  HttpClient client(first.port());
  EXPECT_EQ(client.Post("/v2/models/wine/infer", testing::WineInferBody()).status, 200);
}

TEST(RobustnessTest, BadConfigurationIsRefusedAtStartWithExitCode2) {
  auto r = testing::RunWharf({"serve", "--model", "wine=/nonexistent/Modelfile", "--port", "0"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("/nonexistent/Modelfile"), std::string::npos) << r.err;
  auto flag = testing::RunWharf({"serve", "--model", "wine", "--port", "0"});
  EXPECT_EQ(flag.exit_code, 2);
  EXPECT_NE(flag.err.find("NAME=PATH"), std::string::npos) << flag.err;
}

}  // namespace
}  // namespace wharf
