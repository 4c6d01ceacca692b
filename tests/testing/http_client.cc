#include "testing/http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>

namespace wharf::testing {

HttpClient::HttpClient(std::uint16_t port) : port_(port) {}

HttpClient::~HttpClient() {
  if (fd_ >= 0) close(fd_);
}

bool HttpClient::Connect() {
  if (fd_ >= 0) close(fd_);
  buffer_.clear();
  fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port_);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd_);
    fd_ = -1;
    return false;
  }
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return true;
}

bool HttpClient::SendRaw(const std::string& bytes) {
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n = send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<std::size_t>(n);
  }
  return true;
}

HttpResult HttpClient::ReadResponse(int timeout_ms) {
  HttpResult result;
  auto fill = [&]() {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) <= 0) return false;
    char chunk[65536];
    const ssize_t n = recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    buffer_.append(chunk, static_cast<std::size_t>(n));
    return true;
  };
  std::size_t header_end;
  while ((header_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
    if (!fill()) return result;
  }
  const std::string head = buffer_.substr(0, header_end);
  result.status = std::stoi(head.substr(head.find(' ') + 1, 3));
  std::size_t pos = head.find("\r\n");
  while (pos != std::string::npos && pos < head.size()) {
    const std::size_t next = head.find("\r\n", pos + 2);
    const std::string line = head.substr(pos + 2, next == std::string::npos ? std::string::npos : next - pos - 2);
    const auto colon = line.find(':');
    if (colon != std::string::npos) {
      std::string name = line.substr(0, colon);
      std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
      const std::size_t value = line.find_first_not_of(' ', colon + 1);  // an empty value is allowed
      result.headers[name] = value == std::string::npos ? "" : line.substr(value);
    }
    pos = next;
  }
  const std::size_t length = result.headers.count("content-length") ? std::stoul(result.headers["content-length"]) : 0;
  while (buffer_.size() < header_end + 4 + length) {
    if (!fill()) {
      result.status = 0;
      return result;
    }
  }
  result.body = buffer_.substr(header_end + 4, length);
  buffer_.erase(0, header_end + 4 + length);
  return result;
}

bool HttpClient::WaitForClose(int timeout_ms) {
  pollfd p{fd_, POLLIN, 0};
  if (poll(&p, 1, timeout_ms) <= 0) return false;
  char chunk[1024];
  return recv(fd_, chunk, sizeof chunk, MSG_PEEK) <= 0;  // FIN, or RST when our last bytes arrived after the close
}

HttpResult HttpClient::Request(const std::string& method, const std::string& path, const std::string& body,
                               const std::map<std::string, std::string>& headers) {
  std::string request = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  for (const auto& [name, value] : headers) request += name + ": " + value + "\r\n";
  if (!body.empty() || method == "POST") {
    request += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  }
  request += "\r\n" + body;
  for (int attempt = 0; attempt < 2; ++attempt) {  // one reconnect if the kept-alive connection went away
    if ((fd_ < 0 && !Connect()) || !SendRaw(request)) {
      Connect();
      continue;
    }
    HttpResult result = ReadResponse();
    if (result.status != 0) {
      if (result.headers["connection"] == "close") {
        close(fd_);
        fd_ = -1;
      }
      return result;
    }
    close(fd_);
    fd_ = -1;
  }
  return {};
}

}  // namespace wharf::testing
