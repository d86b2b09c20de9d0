// A minimal keep-alive HTTP/1.1 upstream for the allocation benchmark, on blocking sockets.
//
// Listens on 127.0.0.1 (port 0), one thread per accepted connection (the proxy keeps a handful
// of pooled connections), and answers every request head with the same prebuilt 200 response
// carrying `body_size` bytes. Requests are expected without bodies (the benchmark sends GETs).
// Every thread it starts tags itself as alloc::Role::Upstream, so its own allocations are
// counted apart from the proxy's. stop() (or the destructor) closes everything and joins.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace trellis::bench::micro {

class UpstreamStub {
 public:
  explicit UpstreamStub(size_t body_size);
  ~UpstreamStub();
  UpstreamStub(const UpstreamStub&) = delete;
  UpstreamStub& operator=(const UpstreamStub&) = delete;

  // Binds and starts accepting; returns false (with errno's reason on stderr) on failure.
  bool start();
  uint16_t port() const { return port_; }
  void stop();

 private:
  void acceptLoop();
  void serve(int fd);

  std::string response_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::thread acceptor_;
  std::mutex mu_;
  bool stopping_ = false;
  std::vector<int> fds_;
  std::vector<std::thread> connections_;
};

}  // namespace trellis::bench::micro
