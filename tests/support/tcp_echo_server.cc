// The raw TCP upstream of the tcp_proxy tests: a thread that accepts and one per connection.
#include "tests/support/tcp_echo_server.h"

#include <algorithm>
#include <cerrno>
#include <sys/socket.h>
#include <unistd.h>

namespace trellis::tests {

TcpEchoServer::TcpEchoServer(Options options) : options_(std::move(options)) {
  listen_ = listenLoopback(port_);
  if (listen_.valid() && options_.receive_buffer > 0) {
    // Accepted sockets inherit it: a small window makes a non-reading peer push back early.
    ::setsockopt(listen_.get(), SOL_SOCKET, SO_RCVBUF, &options_.receive_buffer, sizeof(options_.receive_buffer));
  }
  acceptor_ = std::thread([this] { acceptLoop(); });
}

TcpEchoServer::~TcpEchoServer() { stop(); }

void TcpEchoServer::stop() {
  std::vector<std::thread> workers;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ && !acceptor_.joinable()) return;
    stopping_ = true;
    // Wakes the blocked accept() and recv()s; each thread closes its own descriptor.
    if (listen_.valid()) ::shutdown(listen_.get(), SHUT_RDWR);
    for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
  }
  cv_.notify_all();
  if (acceptor_.joinable()) acceptor_.join();
  {
    std::lock_guard<std::mutex> lock(mu_);
    workers.swap(workers_);
  }
  for (auto& t : workers) t.join();
  listen_.reset();
}

void TcpEchoServer::acceptLoop() {
  for (;;) {
    int fd = ::accept4(listen_.get(), nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return;  // shut down by stop()
    }
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) {
      ::close(fd);
      return;
    }
    open_fds_.push_back(fd);
    accepted_.fetch_add(1);
    workers_.emplace_back([this, fd] { serve(fd); });
    cv_.notify_all();
  }
}

void TcpEchoServer::serve(int fd) {
  auto finish = [&] {
    {
      std::lock_guard<std::mutex> lock(mu_);
      open_fds_.erase(std::remove(open_fds_.begin(), open_fds_.end(), fd), open_fds_.end());
    }
    ::close(fd);
    notify();
  };
  if (!options_.greeting.empty() && !writeAll(fd, options_.greeting)) return finish();
  if (options_.close_after_greeting) return finish();
  if (options_.mode == Mode::NoRead) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return stopping_; });
    lock.unlock();
    return finish();
  }
  std::vector<char> buf(64 * 1024);
  for (;;) {
    ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    if (n == 0) {
      if (!options_.reply_on_eof.empty()) writeAll(fd, options_.reply_on_eof);
      eofs_.fetch_add(1);
      break;
    }
    bytes_.fetch_add(static_cast<uint64_t>(n));
    notify();
    if (options_.mode == Mode::Echo && !writeAll(fd, std::string_view(buf.data(), static_cast<size_t>(n)))) break;
  }
  finish();
}

void TcpEchoServer::notify() {
  // Taking the lock orders the update before a waiter's predicate check.
  { std::lock_guard<std::mutex> lock(mu_); }
  cv_.notify_all();
}

bool TcpEchoServer::waitFor(const std::atomic<uint64_t>& value, uint64_t n, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return value.load() >= n; });
}

bool TcpEchoServer::waitAccepted(uint64_t n, std::chrono::milliseconds timeout) {
  return waitFor(accepted_, n, timeout);
}
bool TcpEchoServer::waitEofs(uint64_t n, std::chrono::milliseconds timeout) { return waitFor(eofs_, n, timeout); }
bool TcpEchoServer::waitBytes(uint64_t n, std::chrono::milliseconds timeout) { return waitFor(bytes_, n, timeout); }

}  // namespace trellis::tests
