// Blocking request/response over one keep-alive connection.
#include "bench/micro/keepalive_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>

namespace trellis::bench::micro {

namespace {

// The value of Content-Length in a response head, or -1.
long long contentLength(std::string_view head) {
  static constexpr std::string_view kName = "content-length:";
  for (size_t pos = head.find("\r\n"); pos != std::string_view::npos; pos = head.find("\r\n", pos + 2)) {
    std::string_view line = head.substr(pos + 2);
    if (line.size() < kName.size()) break;
    bool match = true;
    for (size_t i = 0; i < kName.size(); ++i) {
      char c = line[i];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
      if (c != kName[i]) {
        match = false;
        break;
      }
    }
    if (!match) continue;
    size_t i = kName.size();
    while (i < line.size() && line[i] == ' ') ++i;
    long long v = 0;
    bool digits = false;
    for (; i < line.size() && line[i] >= '0' && line[i] <= '9'; ++i) {
      v = v * 10 + (line[i] - '0');
      digits = true;
    }
    return digits ? v : -1;
  }
  return -1;
}

}  // namespace

KeepAliveClient::~KeepAliveClient() {
  if (fd_ >= 0) close(fd_);
}

bool KeepAliveClient::fail(const std::string& why) {
  error_ = why;
  return false;
}

bool KeepAliveClient::connect(uint16_t port) {
  if (fd_ >= 0) close(fd_);
  fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return fail(std::string("socket: ") + std::strerror(errno));
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    return fail(std::string("connect: ") + std::strerror(errno));
  }
  return true;
}

bool KeepAliveClient::exchange(const std::string& request, size_t expected_body) {
  size_t sent = 0;
  while (sent < request.size()) {
    ssize_t w = send(fd_, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (w <= 0) return fail(std::string("send: ") + std::strerror(errno));
    sent += static_cast<size_t>(w);
  }
  size_t have = 0;
  size_t head_end = std::string_view::npos;
  size_t total = 0;
  for (;;) {
    if (head_end == std::string_view::npos) {
      head_end = std::string_view(buf_.data(), have).find("\r\n\r\n");
      if (head_end != std::string_view::npos) {
        std::string_view head(buf_.data(), head_end + 2);
        if (head.substr(0, 13) != "HTTP/1.1 200 ") {
          return fail("unexpected response: " + std::string(head.substr(0, 40)));
        }
        long long cl = contentLength(head);
        if (cl < 0) return fail("response without Content-Length");
        if (static_cast<size_t>(cl) != expected_body) return fail("unexpected body size " + std::to_string(cl));
        total = head_end + 4 + static_cast<size_t>(cl);
        if (total > buf_.size()) return fail("response larger than the client buffer");
      }
    }
    if (head_end != std::string_view::npos && have >= total) break;
    if (have == buf_.size()) return fail("response head larger than the client buffer");
    ssize_t n = recv(fd_, buf_.data() + have, buf_.size() - have, 0);
    if (n == 0) return fail("connection closed by the proxy");
    if (n < 0) return fail(std::string("recv: ") + std::strerror(errno));
    have += static_cast<size_t>(n);
  }
  if (have != total) return fail("bytes after the response (nothing was pipelined)");
  return true;
}

}  // namespace trellis::bench::micro
