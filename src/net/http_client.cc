#include "net/http_client.h"

#include <poll.h>
#include <sys/socket.h>

#include <cctype>
#include <charconv>
#include <limits>
#include <optional>

#include <fmt/format.h>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace wharf::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

bool IsHostChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_'; }

bool IsIpv6Char(char c) { return std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.'; }

// "HOST:PORT", with IPv6 literals in brackets: the Host header and the URL's authority.
std::string Authority(const HttpEndpoint& endpoint) {
  if (endpoint.host.find(':') != std::string::npos) return fmt::format("[{}]:{}", endpoint.host, endpoint.port);
  return fmt::format("{}:{}", endpoint.host, endpoint.port);
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// True when the peer has closed `socket` (or reset it) while it sat idle:
// readable with nothing to read. A kept-alive connection in that state
// would swallow the next request.
bool PeerClosed(tcp::socket& socket) {
  pollfd fd{socket.native_handle(), POLLIN, 0};
  if (::poll(&fd, 1, 0) <= 0) return false;
  if (fd.revents & (POLLERR | POLLHUP)) return true;
  char byte;
  return ::recv(fd.fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) <= 0;
}

}  // namespace

std::string HttpEndpoint::ToString() const { return "http://" + Authority(*this); }

Result<HttpEndpoint> ParseHttpUrl(std::string_view url) {
  const auto bad = [url](std::string_view why) {
    return InvalidArgument(fmt::format("invalid server URL '{}': {}; expected http://HOST[:PORT]", url, why));
  };
  constexpr std::string_view kScheme = "http://";
  if (url.size() < kScheme.size() || Lower(url.substr(0, kScheme.size())) != kScheme) {
    if (Lower(url.substr(0, 8)) == "https://") return bad("only plain http is supported");
    return bad("it does not start with http://");
  }
  std::string_view rest = url.substr(kScheme.size());
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);

  HttpEndpoint endpoint;
  std::string_view port;
  if (!rest.empty() && rest.front() == '[') {
    const auto close = rest.find(']');
    if (close == std::string_view::npos) return bad("an unclosed '[' in the host");
    const std::string_view host = rest.substr(1, close - 1);
    if (host.empty()) return bad("an empty host");
    for (char c : host) {
      if (!IsIpv6Char(c)) return bad("an invalid IPv6 address");
    }
    endpoint.host = host;
    rest.remove_prefix(close + 1);
    if (!rest.empty() && rest.front() != ':') return bad("unexpected text after the host");
    if (!rest.empty()) port = rest.substr(1);
  } else {
    const auto colon = rest.find(':');
    const std::string_view host = rest.substr(0, colon);
    if (host.empty()) return bad("an empty host");
    for (char c : host) {
      if (!IsHostChar(c)) return bad(c == '/' ? "a path is not allowed" : "an invalid character in the host");
    }
    endpoint.host = host;
    if (colon != std::string_view::npos) port = rest.substr(colon + 1);
    if (colon != std::string_view::npos && port.empty()) return bad("an empty port");
  }
  if (!port.empty()) {
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
      return bad("the port must be a number from 1 to 65535");
    }
    endpoint.port = static_cast<std::uint16_t>(value);
  }
  return endpoint;
}

struct HttpClient::Impl {
  HttpEndpoint endpoint;
  std::string url;
  std::chrono::milliseconds timeout;
  asio::io_context loop{1};
  std::optional<beast::tcp_stream> stream;
  beast::flat_buffer buffer;

  // Runs the asynchronous operation `start` begins to completion: the
  // stream's timeouts only apply to asynchronous operations.
  template <typename Start>
  beast::error_code Run(Start start) {
    beast::error_code result;
    start([&result](beast::error_code ec, auto&&...) { result = ec; });
    loop.restart();
    loop.run();
    return result;
  }

  void Close() {
    if (!stream) return;
    beast::error_code ignored;
    stream->socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream->socket().close(ignored);
    stream.reset();
    buffer.clear();
  }

  Status Connect() {
    Close();
    tcp::resolver resolver(loop);
    tcp::resolver::results_type endpoints;
    beast::error_code ec = Run([&](auto handler) {
      resolver.async_resolve(endpoint.host, std::to_string(endpoint.port),
                             [&endpoints, handler](beast::error_code e, tcp::resolver::results_type r) {
                               endpoints = std::move(r);
                               handler(e);
                             });
    });
    if (ec) return Unavailable(fmt::format("cannot reach {}: {}", url, ec.message()));
    stream.emplace(loop);
    stream->expires_after(timeout);
    ec = Run([&](auto handler) { stream->async_connect(endpoints, handler); });
    if (ec) {
      stream.reset();
      return Unavailable(fmt::format("cannot reach {}: {}", url, ec.message()));
    }
    stream->socket().set_option(tcp::no_delay(true), ec);
    return Status::Ok();
  }

  // One exchange on the current connection. `nothing_received` tells the
  // caller whether the server closed without a byte of answer, the sign of
  // a kept-alive connection it had already given up on.
  Result<HttpReply> Exchange(http::request<http::string_body>& request, bool& nothing_received) {
    nothing_received = false;
    stream->expires_after(timeout);
    beast::error_code ec = Run([&](auto handler) { http::async_write(*stream, request, handler); });
    if (ec) {
      nothing_received = true;
      return Broken("sending the request", ec);
    }
    http::response_parser<http::string_body> parser;
    parser.header_limit(64 * 1024);
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());
    if (request.method() == http::verb::head) parser.skip(true);
    stream->expires_after(timeout);
    ec = Run([&](auto handler) { http::async_read(*stream, buffer, parser, handler); });
    if (ec) {
      nothing_received = !parser.got_some() && buffer.size() == 0 &&
                         (ec == http::error::end_of_stream || ec == asio::error::connection_reset ||
                          ec == asio::error::eof || ec == asio::error::broken_pipe);
      return Broken("reading the answer", ec);
    }
    auto response = parser.release();
    HttpReply reply;
    reply.status = response.result_int();
    for (const auto& field : response) {
      auto name = Lower(std::string_view(field.name_string().data(), field.name_string().size()));
      const std::string_view value(field.value().data(), field.value().size());
      auto [it, inserted] = reply.headers.try_emplace(std::move(name), value);
      if (!inserted) it->second.append(", ").append(value);
    }
    reply.body = std::move(response.body());
    if (!response.keep_alive()) Close();
    return reply;
  }

  Status Broken(std::string_view doing, beast::error_code ec) {
    Close();
    if (ec == beast::error::timeout) {
      return Unavailable(fmt::format("{} did not answer within {} ms ({})", url, timeout.count(), doing));
    }
    return IoError(fmt::format("the connection to {} broke while {}: {}", url, doing, ec.message()));
  }
};

HttpClient::HttpClient(HttpEndpoint endpoint, std::chrono::milliseconds timeout) : impl_(std::make_unique<Impl>()) {
  impl_->url = endpoint.ToString();
  impl_->endpoint = std::move(endpoint);
  impl_->timeout = timeout;
}

HttpClient::~HttpClient() { impl_->Close(); }

Result<HttpReply> HttpClient::Request(std::string_view method, std::string_view target, std::string_view body,
                                      const std::map<std::string, std::string>& headers) {
  http::request<http::string_body> request;
  const auto verb = http::string_to_verb(beast::string_view(method.data(), method.size()));
  if (verb == http::verb::unknown) {
    request.method_string(beast::string_view(method.data(), method.size()));
  } else {
    request.method(verb);
  }
  request.target(beast::string_view(target.data(), target.size()));
  request.version(11);
  request.set(http::field::host, Authority(impl_->endpoint));
  request.set(http::field::user_agent, "wharf");
  for (const auto& [name, value] : headers) request.set(name, value);
  request.body() = std::string(body);
  request.keep_alive(true);
  request.prepare_payload();

  // A kept connection the server has closed is replaced before use; if the
  // server closes it while the request is on its way, it is sent once more
  // on a fresh connection.
  bool reused = impl_->stream.has_value() && !PeerClosed(impl_->stream->socket());
  if (!reused) WHARF_RETURN_IF_ERROR(impl_->Connect());
  bool nothing_received = false;
  auto reply = impl_->Exchange(request, nothing_received);
  if (reply.ok() || !reused || !nothing_received) return reply;
  WHARF_RETURN_IF_ERROR(impl_->Connect());
  return impl_->Exchange(request, nothing_received);
}

}  // namespace wharf::net
