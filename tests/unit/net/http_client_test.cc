#include "net/http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "net/http_server.h"

namespace wharf::net {
namespace {

using namespace std::chrono_literals;

// Answers "METHOD TARGET BODY X-ECHO" as text; 404 for /missing.
class EchoHandler : public HttpHandler {
 public:
  void Handle(HttpRequest& request, Respond respond) override {
    if (request.target == "/missing") return respond({404, "no such thing", "text/plain"});
    std::string body = std::string(request.method) + " " + std::string(request.target) + " " + *request.body + " " +
                       std::string(request.header("X-Echo"));
    respond({200, std::move(body), "text/plain"});
  }
};

std::unique_ptr<HttpServer> StartServer(HttpHandler& handler, std::chrono::milliseconds read_timeout = 15s) {
  HttpServerOptions options;
  options.port = 0;
  options.read_timeout = read_timeout;
  auto server = HttpServer::Start(options, handler);
  EXPECT_TRUE(server.ok()) << server.status().ToString();
  return std::move(server).value();
}

HttpEndpoint Local(std::uint16_t port) { return {"127.0.0.1", port}; }

// What FakeServer does with the Nth request it reads (counted from 1 over
// all connections).
enum class Action { kAnswer, kAnswerThenClose, kDrop, kHang };

// A bare HTTP/1.1 server on a raw socket, one connection at a time, so tests
// can see which connection served a request ("connection N" in the body) and
// misbehave on purpose.
class FakeServer {
 public:
  explicit FakeServer(std::function<Action(int)> action) : action_(std::move(action)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    EXPECT_EQ(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    EXPECT_EQ(::listen(listen_fd_, 16), 0);
    EXPECT_EQ(::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length), 0);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~FakeServer() {
    stop_ = true;
    thread_.join();
    ::close(listen_fd_);
  }

  std::uint16_t port() const { return port_; }
  int connections() const { return connections_; }
  int requests() const { return requests_; }

 private:
  bool WaitReadable(int fd) const {
    while (!stop_) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 20) > 0) return true;
    }
    return false;
  }

  void Serve() {
    while (WaitReadable(listen_fd_)) {
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      ServeConnection(fd, ++connections_);
      ::close(fd);
    }
  }

  // Reads one request (headers, then a Content-Length body); false at EOF.
  bool ReadRequest(int fd, std::string& buffer) const {
    while (true) {
      const auto end = buffer.find("\r\n\r\n");
      if (end != std::string::npos) {
        std::size_t length = 0;
        const auto field = buffer.find("Content-Length: ");
        if (field != std::string::npos && field < end) length = std::stoul(buffer.substr(field + 16));
        if (buffer.size() >= end + 4 + length) {
          buffer.erase(0, end + 4 + length);
          return true;
        }
      }
      if (!WaitReadable(fd)) return false;
      char chunk[4096];
      const ssize_t n = ::read(fd, chunk, sizeof(chunk));
      if (n <= 0) return false;
      buffer.append(chunk, static_cast<std::size_t>(n));
    }
  }

  void ServeConnection(int fd, int connection) {
    std::string buffer;
    while (ReadRequest(fd, buffer)) {
      const Action action = action_(++requests_);
      if (action == Action::kDrop) return;
      if (action == Action::kHang) {
        while (!stop_) std::this_thread::sleep_for(10ms);
        return;
      }
      const std::string body = "connection " + std::to_string(connection);
      const std::string answer =
          "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
      EXPECT_EQ(::write(fd, answer.data(), answer.size()), static_cast<ssize_t>(answer.size()));
      if (action == Action::kAnswerThenClose) return;
    }
  }

  std::function<Action(int)> action_;
  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::atomic<int> requests_{0};
  std::thread thread_;
};

// A port nothing listens on: bound once to learn a free one, then released.
std::uint16_t ClosedPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  EXPECT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length), 0);
  ::close(fd);
  return ntohs(address.sin_port);
}

TEST(HttpClientTest, GetAndPostRoundTrip) {
  EchoHandler handler;
  auto server = StartServer(handler);
  HttpClient client(Local(server->port()));

  auto get = client.Request("GET", "/hello");
  ASSERT_TRUE(get.ok()) << get.status().ToString();
  EXPECT_EQ(get->status, 200u);
  EXPECT_EQ(get->body, "GET /hello  ");

  auto post = client.Request("POST", "/v1/things?x=1", "payload bytes", {{"X-Echo", "abc"}});
  ASSERT_TRUE(post.ok()) << post.status().ToString();
  EXPECT_EQ(post->status, 200u);
  EXPECT_EQ(post->body, "POST /v1/things?x=1 payload bytes abc");
}

TEST(HttpClientTest, AnyStatusIsASuccessfulExchange) {
  EchoHandler handler;
  auto server = StartServer(handler);
  HttpClient client(Local(server->port()));
  auto reply = client.Request("GET", "/missing");
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(reply->status, 404u);
  EXPECT_EQ(reply->body, "no such thing");
}

TEST(HttpClientTest, HeaderNamesAreLowerCase) {
  EchoHandler handler;
  auto server = StartServer(handler);
  HttpClient client(Local(server->port()));
  auto reply = client.Request("GET", "/");
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(reply->headers["content-type"], "text/plain");
  EXPECT_EQ(reply->headers["server"], "wharf");
  EXPECT_EQ(reply->headers["content-length"], std::to_string(reply->body.size()));
  for (const auto& [name, value] : reply->headers) {
    for (char c : name) EXPECT_FALSE(c >= 'A' && c <= 'Z') << name;
  }
}

TEST(HttpClientTest, KeepsOneConnectionAcrossRequests) {
  FakeServer server([](int) { return Action::kAnswer; });
  HttpClient client(Local(server.port()));
  for (int i = 0; i < 3; ++i) {
    auto reply = client.Request("POST", "/", "body " + std::to_string(i));
    ASSERT_TRUE(reply.ok()) << reply.status().ToString();
    EXPECT_EQ(reply->body, "connection 1");
  }
  EXPECT_EQ(server.connections(), 1);
  EXPECT_EQ(server.requests(), 3);
}

TEST(HttpClientTest, ReconnectsWhenTheServerClosedTheKeptConnection) {
  FakeServer server([](int) { return Action::kAnswerThenClose; });
  HttpClient client(Local(server.port()));
  for (int i = 1; i <= 3; ++i) {
    auto reply = client.Request("GET", "/");
    ASSERT_TRUE(reply.ok()) << reply.status().ToString();
    EXPECT_EQ(reply->body, "connection " + std::to_string(i));
  }
  EXPECT_EQ(server.requests(), 3);
}

TEST(HttpClientTest, ReconnectsAfterTheRealServerTimedOutAnIdleConnection) {
  EchoHandler handler;
  auto server = StartServer(handler, 100ms);
  HttpClient client(Local(server->port()));
  ASSERT_TRUE(client.Request("GET", "/first").ok());
  std::this_thread::sleep_for(400ms);
  auto reply = client.Request("GET", "/second");
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(reply->body, "GET /second  ");
}

TEST(HttpClientTest, ResendsOnceWhenAKeptConnectionIsDroppedUnanswered) {
  FakeServer server([](int request) { return request == 2 ? Action::kDrop : Action::kAnswer; });
  HttpClient client(Local(server.port()));
  ASSERT_TRUE(client.Request("GET", "/").ok());
  auto reply = client.Request("GET", "/");
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(reply->body, "connection 2");
  EXPECT_EQ(server.requests(), 3);
}

TEST(HttpClientTest, ResendsOnlyOnce) {
  FakeServer server([](int request) { return request == 1 ? Action::kAnswer : Action::kDrop; });
  HttpClient client(Local(server.port()));
  ASSERT_TRUE(client.Request("GET", "/").ok());
  auto reply = client.Request("GET", "/");
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), StatusCode::kIoError) << reply.status().ToString();
  EXPECT_EQ(server.requests(), 3);
  EXPECT_EQ(server.connections(), 2);
}

TEST(HttpClientTest, AFreshConnectionDroppedUnansweredIsNotResent) {
  FakeServer server([](int) { return Action::kDrop; });
  HttpClient client(Local(server.port()));
  auto reply = client.Request("POST", "/", "once");
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), StatusCode::kIoError) << reply.status().ToString();
  EXPECT_EQ(server.requests(), 1);
}

TEST(HttpClientTest, ConnectionRefusedIsUnavailableNamingTheUrl) {
  const std::uint16_t port = ClosedPort();
  HttpClient client(Local(port));
  auto reply = client.Request("GET", "/");
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(reply.status().message(), "cannot reach http://127.0.0.1:" + std::to_string(port) + ": Connection refused");
}

TEST(HttpClientTest, ASilentServerTimesOutAsUnavailable) {
  FakeServer server([](int) { return Action::kHang; });
  HttpClient client(Local(server.port()), 200ms);
  const auto start = std::chrono::steady_clock::now();
  auto reply = client.Request("GET", "/");
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), StatusCode::kUnavailable) << reply.status().ToString();
  EXPECT_NE(reply.status().message().find("http://127.0.0.1:"), std::string::npos);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

TEST(ParseHttpUrlTest, AcceptsHostAndOptionalPort) {
  struct Case {
    std::string url, host;
    std::uint16_t port;
    std::string canonical;
  };
  const Case cases[] = {
      {"http://127.0.0.1:8765", "127.0.0.1", 8765, "http://127.0.0.1:8765"},
      {"http://127.0.0.1:8765/", "127.0.0.1", 8765, "http://127.0.0.1:8765"},
      {"http://localhost", "localhost", 80, "http://localhost:80"},
      {"http://wharf-1.example.com:65535", "wharf-1.example.com", 65535, "http://wharf-1.example.com:65535"},
      {"HTTP://host:1", "host", 1, "http://host:1"},
      {"http://[::1]:8080", "::1", 8080, "http://[::1]:8080"},
  };
  for (const auto& c : cases) {
    auto endpoint = ParseHttpUrl(c.url);
    ASSERT_TRUE(endpoint.ok()) << c.url << ": " << endpoint.status().ToString();
    EXPECT_EQ(endpoint->host, c.host) << c.url;
    EXPECT_EQ(endpoint->port, c.port) << c.url;
    EXPECT_EQ(endpoint->ToString(), c.canonical) << c.url;
  }
}

TEST(ParseHttpUrlTest, RejectsAnythingElseNamingTheUrl) {
  for (const std::string& url :
       std::vector<std::string>{"", "127.0.0.1:8765", "https://host:443", "ftp://host", "http://", "http://:80",
                                "http://host:", "http://host:0", "http://host:65536", "http://host:80x",
                                "http://host:-1", "http://host/path", "http://host:80/api", "http://us er@host",
                                "http://[::1", "http://[]:80", "http://[::1]x"}) {
    auto endpoint = ParseHttpUrl(url);
    ASSERT_FALSE(endpoint.ok()) << url;
    EXPECT_EQ(endpoint.status().code(), StatusCode::kInvalidArgument) << url;
    EXPECT_NE(endpoint.status().message().find("'" + url + "'"), std::string::npos) << endpoint.status().message();
  }
}

}  // namespace
}  // namespace wharf::net
