// The floor for bench/serve: an HTTP/1.1 keep-alive server on Boost.Beast that
// reads each request in full and answers it with a small fixed JSON body. No
// model, no routing, no capture: what any server built on Beast pays for HTTP
// alone. Each thread runs its own io_context with its own acceptor bound to the
// same port with SO_REUSEPORT, so the kernel spreads connections across threads
// and no state is shared between them (the layout `wharf serve` uses).
//
//   echo_server [--host 127.0.0.1] [--port 8080] [--threads N]

#include <sys/socket.h>

#include <utility>  // before asio: Boost 1.74's awaitable.hpp uses std::exchange without it

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr std::string_view kBody = R"({"output":"setosa"})";

struct Options {
  std::string host = "127.0.0.1";
  unsigned short port = 8080;
  int threads = 1;
};

// Serves one connection until the peer closes it or asks to close.
asio::awaitable<void> Session(tcp::socket socket) {
  beast::flat_buffer buffer;
  http::response<http::string_body> response;
  response.set(http::field::content_type, "application/json");
  try {
    for (;;) {
      http::request<http::string_body> request;
      co_await http::async_read(socket, buffer, request, asio::use_awaitable);
      response.version(request.version());
      response.keep_alive(request.keep_alive());
      response.result(request.method() == http::verb::get || request.method() == http::verb::post
                          ? http::status::ok
                          : http::status::method_not_allowed);
      response.body() = kBody;
      response.prepare_payload();
      co_await http::async_write(socket, response, asio::use_awaitable);
      if (!request.keep_alive()) break;
    }
  } catch (const boost::system::system_error&) {
    // The peer went away (end of stream, reset): nothing to answer.
  }
  boost::system::error_code ignored;
  socket.shutdown(tcp::socket::shutdown_send, ignored);
}

asio::awaitable<void> Listen(tcp::acceptor& acceptor) {
  for (;;) {
    tcp::socket socket = co_await acceptor.async_accept(asio::use_awaitable);
    socket.set_option(tcp::no_delay(true));
    asio::co_spawn(acceptor.get_executor(), Session(std::move(socket)), asio::detached);
  }
}

// Binds a listening socket to `endpoint` that shares its port with the other
// threads' sockets (SO_REUSEPORT).
tcp::acceptor OpenAcceptor(asio::io_context& context, const tcp::endpoint& endpoint) {
  tcp::acceptor acceptor(context);
  acceptor.open(endpoint.protocol());
  acceptor.set_option(asio::socket_base::reuse_address(true));
  acceptor.set_option(asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>(true));
  acceptor.bind(endpoint);
  acceptor.listen(asio::socket_base::max_listen_connections);
  return acceptor;
}

[[noreturn]] void Usage(const char* error) {
  std::fprintf(stderr, "echo_server: %s\nusage: echo_server [--host ADDR] [--port P] [--threads N]\n", error);
  std::exit(2);
}

Options ParseOptions(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (flag == "--help" || flag == "-h") Usage("HTTP/1.1 server answering every request with a fixed JSON body");
    if (i + 1 >= argc) Usage(("missing value for " + std::string(flag)).c_str());
    const char* value = argv[++i];
    if (flag == "--host") {
      options.host = value;
    } else if (flag == "--port") {
      options.port = static_cast<unsigned short>(std::atoi(value));
    } else if (flag == "--threads") {
      options.threads = std::atoi(value);
      if (options.threads < 1) Usage("--threads must be at least 1");
    } else {
      Usage(("unknown option '" + std::string(flag) + "'; known: --host, --port, --threads").c_str());
    }
  }
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = ParseOptions(argc, argv);
  try {
    const tcp::endpoint endpoint(asio::ip::make_address(options.host), options.port);
    // Every acceptor is bound before any thread starts, so a client that sees
    // the "listening" line can connect to any of them.
    std::vector<asio::io_context> contexts(options.threads);
    std::vector<tcp::acceptor> acceptors;
    for (auto& context : contexts) acceptors.push_back(OpenAcceptor(context, endpoint));
    for (auto& acceptor : acceptors) asio::co_spawn(acceptor.get_executor(), Listen(acceptor), asio::detached);
    std::printf("echo_server listening on http://%s:%u with %d threads\n", options.host.c_str(),
                static_cast<unsigned>(options.port), options.threads);
    std::fflush(stdout);

    std::vector<std::thread> threads;
    for (int i = 1; i < options.threads; ++i) threads.emplace_back([&context = contexts[i]] { context.run(); });
    contexts[0].run();
    for (auto& thread : threads) thread.join();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "echo_server: %s\n", e.what());
    return 1;
  }
  return 0;
}
