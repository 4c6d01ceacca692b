// Clients that misbehave: slow senders are cut off by the read timeout and
// the server keeps serving everyone else.

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
