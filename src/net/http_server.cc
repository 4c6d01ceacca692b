#include "net/http_server.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <array>
#include <atomic>
#include <optional>
#include <thread>
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>

namespace wharf::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using ReusePort = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;

struct HttpServer::Impl {
  HttpServerOptions options;
  HttpHandler* handler = nullptr;
  std::vector<std::unique_ptr<asio::io_context>> loops;
  // Keep each loop running until Shutdown stops it: once its acceptor is
  // closed, a loop whose only requests wait for an answer from another thread
  // (durable capture) has no work of its own and would return from run(),
  // leaving those answers posted to a loop that never runs them.
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors;
  std::vector<std::thread> threads;
  std::atomic<std::size_t> in_flight{0};
  std::atomic<bool> draining{false};
  bool stopped = false;
  std::uint16_t port = 0;

  void Accept(std::size_t i);
};

namespace {

constexpr std::size_t kHeaderLimit = 16 * 1024;
// How long, and how much of a body not wanted, is discarded after answering it unread.
constexpr std::chrono::seconds kDrainTime{2};
constexpr std::size_t kDrainBytes = 4 << 20;

std::string ErrorBody(std::string_view message) {
  std::string escaped;
  for (char c : message) {
    if (c == '"' || c == '\\') escaped += '\\';
    if (static_cast<unsigned char>(c) >= 0x20) escaped += c;
  }
  return R"({"error": ")" + escaped + "\"}";
}

// One connection: read a request, hand it to the handler, write the answer,
// repeat while keep-alive holds. Lives as long as an operation holds it.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, HttpServer::Impl& server) : stream_(std::move(socket)), server_(server) {}

  // Reads the headers, lets the handler screen them, then reads the body.
  void Read() {
    parser_.emplace();
    parser_->body_limit(server_.options.max_body_bytes);
    parser_->header_limit(kHeaderLimit);
    stream_.expires_after(server_.options.read_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = shared_from_this()](beast::error_code ec, std::size_t) { self->OnHeader(ec); });
  }

 private:
  void OnHeader(beast::error_code ec) {
    if (ec) return OnRead(ec);
    const auto& head = parser_->get();
    std::string no_body;
    const HttpRequest screened{
        std::string_view(head.method_string().data(), head.method_string().size()),
        std::string_view(head.target().data(), head.target().size()),
        &no_body,
        [&head](std::string_view name) {
          auto it = head.find(beast::string_view(name.data(), name.size()));
          return it == head.end() ? std::string_view() : std::string_view(it->value().data(), it->value().size());
        },
        [](std::function<void()>) {},
    };
    if (std::optional<HttpResponse> answer = server_.handler->Screen(screened)) {
      ++server_.in_flight;
      drain_after_write_ = !parser_->is_done();
      return Write(std::move(*answer), false);
    }
    auto read_body = [self = shared_from_this()] {
      http::async_read(self->stream_, self->buffer_, *self->parser_,
                       [self](beast::error_code read_error, std::size_t) { self->OnRead(read_error); });
    };
    // A client that asked before sending its body (curl does for big ones) is told to go on.
    const auto expect = head.find(http::field::expect);
    if (expect != head.end() && beast::iequals(expect->value(), "100-continue") && !parser_->is_done()) {
      continue_.emplace(http::status::continue_, head.version());
      return http::async_write(stream_, *continue_,
                               [self = shared_from_this(), read_body](beast::error_code write_error, std::size_t) {
                                 if (write_error) return self->Close();
                                 read_body();
                               });
    }
    read_body();
  }

  void OnRead(beast::error_code ec) {
    if (ec == http::error::body_limit) {
      ++server_.in_flight;
      return Write({413, ErrorBody(fmt::format("request body exceeds the limit of {} bytes",
                                               server_.options.max_body_bytes))},
                   false);
    }
    if (ec == http::error::header_limit) {
      ++server_.in_flight;
      return Write({431, ErrorBody("request headers too large")}, false);
    }
    if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::connection_reset) {
      return Close();
    }
    if (ec) {
      ++server_.in_flight;
      return Write({400, ErrorBody("malformed HTTP request: " + ec.message())}, false);
    }

    request_ = parser_->release();
    ++server_.in_flight;
    HttpRequest request{
        std::string_view(request_.method_string().data(), request_.method_string().size()),
        std::string_view(request_.target().data(), request_.target().size()),
        &request_.body(),
        [this](std::string_view name) {
          auto it = request_.find(beast::string_view(name.data(), name.size()));
          return it == request_.end() ? std::string_view() : std::string_view(it->value().data(), it->value().size());
        },
        [self = shared_from_this()](std::function<void()> work) {
          asio::post(self->stream_.get_executor(), std::move(work));
        },
    };
    server_.handler->Handle(request, [self = shared_from_this()](HttpResponse response) {
      auto executor = self->stream_.get_executor();
      asio::dispatch(executor, [self = std::move(self), response = std::move(response)]() mutable {
        self->Write(std::move(response), self->request_.keep_alive());
      });
    });
  }

  // Sends `answer` for a request counted in in_flight; uncounts it once written.
  void Write(HttpResponse answer, bool keep_alive) {
    keep_alive = keep_alive && !server_.draining.load(std::memory_order_relaxed);
    response_ = {};
    response_.version(11);
    response_.result(answer.status);
    response_.set(http::field::server, "wharf");
    if (!server_.options.replica_group.empty()) {
      const std::string& group = server_.options.replica_group;  // what a replica joining checks
      response_.set(beast::string_view(kReplicaGroupHeader.data(), kReplicaGroupHeader.size()),
                    beast::string_view(group.data(), group.size()));
    }
    response_.set(http::field::content_type, beast::string_view(answer.content_type.data(), answer.content_type.size()));
    for (const auto& [name, value] : answer.headers) {
      response_.set(beast::string_view(name.data(), name.size()), beast::string_view(value.data(), value.size()));
    }
    response_.keep_alive(keep_alive);
    response_.body() = std::move(answer.body);
    response_.prepare_payload();
    stream_.expires_after(server_.options.read_timeout);
    http::async_write(stream_, response_, [self = shared_from_this(), keep_alive](beast::error_code ec, std::size_t) {
      --self->server_.in_flight;
      if (ec || !keep_alive) {
        self->Close();
        if (!ec && self->drain_after_write_) self->Drain(kDrainBytes);
        return;
      }
      self->Read();
    });
  }

  void Close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  // After an answer sent before the request's body was read: discards what
  // the client still sends, for a moment and up to `left` bytes, so that the
  // answer reaches it (closing on unread data resets the connection, and a
  // client still sending may then never read the answer). Nothing is kept.
  void Drain(std::size_t left) {
    if (!drain_buffer_) {
      drain_buffer_ = std::make_unique<std::array<char, 16 * 1024>>();
      stream_.expires_after(kDrainTime);
    }
    stream_.async_read_some(asio::buffer(*drain_buffer_), [self = shared_from_this(), left](beast::error_code ec,
                                                                                             std::size_t n) {
      if (!ec && n < left) self->Drain(left - n);
    });
  }

  beast::tcp_stream stream_;
  HttpServer::Impl& server_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::request<http::string_body> request_;
  http::response<http::string_body> response_;
  std::optional<http::response<http::empty_body>> continue_;  // "100 Continue", when a client asked for it
  bool drain_after_write_ = false;                             // answered before reading a body that follows
  std::unique_ptr<std::array<char, 16 * 1024>> drain_buffer_;  // where a drained body goes, unkept
};

}  // namespace

unsigned HttpStatusOf(const Status& status) {
  switch (status.code()) {
    case StatusCode::kInvalidArgument: return 400;
    case StatusCode::kUnauthenticated: return 401;
    case StatusCode::kNotFound: return 404;
    case StatusCode::kAlreadyExists:
    case StatusCode::kFailedPrecondition: return 409;
    case StatusCode::kUnavailable: return 503;
    default: return 500;
  }
}

void HttpServer::Impl::Accept(std::size_t i) {
  acceptors[i]->async_accept([this, i](beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || draining) return;
    if (!ec) {
      socket.set_option(tcp::no_delay(true), ec);
      std::make_shared<Session>(std::move(socket), *this)->Read();
    }
    Accept(i);
  });
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() { Shutdown(std::chrono::milliseconds(0)); }

std::uint16_t HttpServer::port() const { return impl_->port; }
std::size_t HttpServer::in_flight() const { return impl_->in_flight.load(); }

namespace {

// The replica group the server already listening on `endpoint` names in its
// answers ("" when it names none), or nullopt when nothing listens there.
// Asks with one plain request and waits at most 10 seconds.
std::optional<std::string> ListenerGroup(const tcp::endpoint& endpoint) {
  const int fd = ::socket(endpoint.protocol().family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::string();
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  if (::connect(fd, endpoint.data(), static_cast<socklen_t>(endpoint.size())) != 0) {
    return errno == ECONNREFUSED ? std::nullopt : std::optional<std::string>("");
  }
  const std::string ask = "GET / HTTP/1.1\r\nHost: wharf\r\nConnection: close\r\n\r\n";
  if (::send(fd, ask.data(), ask.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(ask.size())) return std::string();
  std::string head;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (head.find("\r\n\r\n") == std::string::npos && head.size() < kHeaderLimit) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd ready{fd, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&ready, 1, static_cast<int>(left.count())) <= 0) break;
    char chunk[4096];
    const ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
    if (n <= 0) break;
    head.append(chunk, static_cast<std::size_t>(n));
  }
  const std::string name = std::string("\r\n") + std::string(kReplicaGroupHeader) + ": ";
  const std::size_t at = head.find(name);
  if (at == std::string::npos) return std::string();
  const std::size_t value = at + name.size();
  return head.substr(value, head.find("\r\n", value) - value);
}

}  // namespace

Result<std::unique_ptr<HttpServer>> HttpServer::Start(const HttpServerOptions& options, HttpHandler& handler) {
  beast::error_code ec;
  const auto address = asio::ip::make_address(options.host, ec);
  if (ec) return InvalidArgument(fmt::format("--host '{}' is not an IP address", options.host));
  const bool replica = !options.replica_group.empty();
  if (replica && options.port != 0) {
    // Replicas share their port (SO_REUSEPORT); only with their own group's.
    const std::optional<std::string> group = ListenerGroup(tcp::endpoint(address, options.port));
    if (group && *group != options.replica_group) {
      return IoError(fmt::format("port {}:{} is already served by another process, not a replica of this group",
                                 options.host, options.port));
    }
  }
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->handler = &handler;
  impl->port = options.port;
  const int threads = std::max(options.threads, 1);
  for (int i = 0; i < threads; ++i) {
    auto& loop = impl->loops.emplace_back(std::make_unique<asio::io_context>(1));
    impl->work.push_back(asio::make_work_guard(*loop));
    auto acceptor = std::make_unique<tcp::acceptor>(*loop);
    const tcp::endpoint endpoint(address, impl->port);
    if (i > 0 && !replica) {
      // The port is this process's alone: every loop accepts on the first one's socket.
      const int shared = ::dup(impl->acceptors.front()->native_handle());
      if (shared < 0) return IoError(fmt::format("cannot share the listening socket: {}", std::strerror(errno)));
      acceptor->assign(endpoint.protocol(), shared, ec);
      if (ec) return IoError(fmt::format("cannot share the listening socket: {}", ec.message()));
      impl->acceptors.push_back(std::move(acceptor));
      continue;
    }
    acceptor->open(endpoint.protocol(), ec);
    if (!ec) acceptor->set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec && replica) acceptor->set_option(ReusePort(true), ec);
    if (!ec) acceptor->bind(endpoint, ec);
    if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if (ec == asio::error::address_in_use) {
      return IoError(fmt::format("port {}:{} is already served by another process", options.host, impl->port));
    }
    if (ec) return IoError(fmt::format("cannot listen on {}:{}: {}", options.host, impl->port, ec.message()));
    impl->port = acceptor->local_endpoint().port();  // the others join the first one's port
    impl->acceptors.push_back(std::move(acceptor));
  }
  for (int i = 0; i < threads; ++i) {
    impl->Accept(static_cast<std::size_t>(i));
    impl->threads.emplace_back([loop = impl->loops[static_cast<std::size_t>(i)].get()] { loop->run(); });
  }
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

void HttpServer::Shutdown(std::chrono::milliseconds grace) {
  if (impl_->stopped) return;
  impl_->stopped = true;
  impl_->draining = true;
  for (std::size_t i = 0; i < impl_->loops.size(); ++i) {
    asio::post(*impl_->loops[i], [acceptor = impl_->acceptors[i].get()] {
      beast::error_code ignored;
      acceptor->close(ignored);
    });
  }
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (impl_->in_flight.load() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  for (auto& loop : impl_->loops) loop->stop();
  for (auto& thread : impl_->threads) thread.join();
}

}  // namespace wharf::net
