// Who may listen on a port: a process alone, or the replicas of one group.
// Found by attacking a fresh build: a second `wharf serve --port P` started
// beside an endpoint's replicas and silently took a share of their traffic.

#include "net/http_server.h"

#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "net/http_client.h"

namespace wharf::net {
namespace {

// Answers with its own name, so a test sees which server took a request.
class NamedHandler : public HttpHandler {
 public:
  explicit NamedHandler(std::string name) : name_(std::move(name)) {}
  void Handle(HttpRequest&, Respond respond) override { respond({200, name_, "text/plain"}); }

 private:
  std::string name_;
};

HttpEndpoint Local(std::uint16_t port) { return {"127.0.0.1", port}; }

Result<std::unique_ptr<HttpServer>> Listen(HttpHandler& handler, std::uint16_t port, std::string group = "",
                                           int threads = 2) {
  HttpServerOptions options;
  options.port = port;
  options.threads = threads;
  options.replica_group = std::move(group);
  return HttpServer::Start(options, handler);
}

TEST(HttpServerPortTest, APortServedAlreadyIsRefusedNamingIt) {
  NamedHandler first("first"), second("second");
  auto owner = Listen(first, 0);
  ASSERT_TRUE(owner.ok()) << owner.status().ToString();
  const std::uint16_t port = (*owner)->port();
  for (const std::string group : {"", "some-group"}) {
    auto intruder = Listen(second, port, group);
    ASSERT_FALSE(intruder.ok()) << "group '" << group << "' joined a port that was not shared";
    EXPECT_EQ(intruder.status().code(), StatusCode::kIoError);
    EXPECT_NE(intruder.status().message().find("127.0.0.1:" + std::to_string(port) + " is already served"),
              std::string::npos)
        << intruder.status().message();
  }
  HttpClient client(Local(port), std::chrono::seconds(60));
  for (int i = 0; i < 10; ++i) EXPECT_EQ(client.Request("GET", "/")->body, "first");
}

TEST(HttpServerPortTest, ReplicasOfOneGroupShareAPortAndNoOneElseJoins) {
  NamedHandler a("a"), b("b"), other("other");
  auto replica_a = Listen(a, 0, "endpoint-1");
  ASSERT_TRUE(replica_a.ok()) << replica_a.status().ToString();
  const std::uint16_t port = (*replica_a)->port();
  auto replica_b = Listen(b, port, "endpoint-1");
  ASSERT_TRUE(replica_b.ok()) << replica_b.status().ToString();

  for (const std::string group : {"", "endpoint-2"}) {
    auto intruder = Listen(other, port, group);
    ASSERT_FALSE(intruder.ok()) << "group '" << group << "' joined endpoint-1's port";
    EXPECT_NE(intruder.status().message().find("already served"), std::string::npos) << intruder.status().message();
  }
  // The kernel spreads new connections over the group's sockets.
  bool saw_a = false, saw_b = false;
  for (int i = 0; i < 200 && !(saw_a && saw_b); ++i) {
    HttpClient client(Local(port), std::chrono::seconds(60));
    Result<HttpReply> reply = client.Request("GET", "/");
    ASSERT_TRUE(reply.ok()) << reply.status().ToString();
    EXPECT_EQ(reply->headers["x-wharf-replica-group"], "endpoint-1");
    saw_a = saw_a || reply->body == "a";
    saw_b = saw_b || reply->body == "b";
    EXPECT_NE(reply->body, "other");
  }
  EXPECT_TRUE(saw_a && saw_b) << "both replicas take connections";
}

TEST(HttpServerPortTest, EveryThreadOfAProcessAcceptsOnItsOwnPort) {
  NamedHandler alone("alone");
  auto server = Listen(alone, 0, "", 4);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  for (int i = 0; i < 50; ++i) {
    HttpClient client(Local((*server)->port()), std::chrono::seconds(60));
    EXPECT_EQ(client.Request("GET", "/")->body, "alone");
  }
}

}  // namespace
}  // namespace wharf::net
