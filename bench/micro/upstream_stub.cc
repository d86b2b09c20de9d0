// Thread-per-connection fixed-response HTTP/1.1 server.
#include "bench/micro/upstream_stub.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string_view>

#include "bench/micro/alloc_counter.h"

namespace trellis::bench::micro {

UpstreamStub::UpstreamStub(size_t body_size) {
  response_ = "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: " +
              std::to_string(body_size) + "\r\n\r\n";
  response_.append(body_size, 'b');
}

UpstreamStub::~UpstreamStub() { stop(); }

bool UpstreamStub::start() {
  listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) {
    std::perror("upstream socket");
    return false;
  }
  int one = 1;
  setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || listen(listen_fd_, 128) != 0) {
    std::perror("upstream bind/listen");
    return false;
  }
  socklen_t len = sizeof(addr);
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] {
    alloc::setThreadRole(alloc::Role::Upstream);
    acceptLoop();
  });
  return true;
}

void UpstreamStub::acceptLoop() {
  for (;;) {
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return;  // closed by stop()
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) {
      close(fd);
      return;
    }
    fds_.push_back(fd);
    connections_.emplace_back([this, fd] {
      alloc::setThreadRole(alloc::Role::Upstream);
      serve(fd);
    });
  }
}

void UpstreamStub::serve(int fd) {
  std::vector<char> buf(64 * 1024);
  size_t have = 0;
  for (;;) {
    ssize_t n = recv(fd, buf.data() + have, buf.size() - have, 0);
    if (n <= 0) return;  // the proxy closed the connection, or stop() shut it down
    have += static_cast<size_t>(n);
    // Answer every complete request head in the buffer, in order.
    size_t start = 0;
    for (;;) {
      std::string_view pending(buf.data() + start, have - start);
      size_t end = pending.find("\r\n\r\n");
      if (end == std::string_view::npos) break;
      start += end + 4;
      size_t sent = 0;
      while (sent < response_.size()) {
        ssize_t w = send(fd, response_.data() + sent, response_.size() - sent, MSG_NOSIGNAL);
        if (w <= 0) return;
        sent += static_cast<size_t>(w);
      }
    }
    std::memmove(buf.data(), buf.data() + start, have - start);
    have -= start;
    if (have == buf.size()) return;  // a head larger than the buffer: not what the benchmark sends
  }
}

void UpstreamStub::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    if (listen_fd_ >= 0) shutdown(listen_fd_, SHUT_RDWR);
    for (int fd : fds_) shutdown(fd, SHUT_RDWR);
  }
  if (acceptor_.joinable()) acceptor_.join();
  for (auto& t : connections_) t.join();
  for (int fd : fds_) close(fd);
  if (listen_fd_ >= 0) close(listen_fd_);
  listen_fd_ = -1;
}

}  // namespace trellis::bench::micro
