// A raw TCP upstream for the tcp_proxy tests: it accepts on 127.0.0.1 (kernel-chosen port) and,
// per connection, optionally sends a greeting first (a server-first protocol), then echoes,
// swallows or ignores what it reads, and on the client's EOF may still send a reply before it
// closes (the half-close case). It counts connections, bytes and EOFs so tests can wait for
// them instead of sleeping.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/socket_util.h"

namespace trellis::tests {

class TcpEchoServer {
 public:
  enum class Mode {
    Echo,    // writes back every byte it reads
    Sink,    // reads and drops
    NoRead,  // never reads (its receive window fills: backpressure)
  };
  struct Options {
    Mode mode = Mode::Echo;
    std::string greeting;         // sent right after accept, before reading
    bool close_after_greeting = false;  // then closes at once (an upstream that ends first)
    std::string reply_on_eof;     // sent after the client's EOF, then the connection closes
    int receive_buffer = 0;       // SO_RCVBUF of accepted sockets (0: the kernel's autotuning)
  };

  TcpEchoServer() : TcpEchoServer(Options{}) {}
  explicit TcpEchoServer(Options options);
  ~TcpEchoServer();
  TcpEchoServer(const TcpEchoServer&) = delete;
  TcpEchoServer& operator=(const TcpEchoServer&) = delete;

  uint16_t port() const { return port_; }
  uint64_t accepted() const { return accepted_.load(); }
  uint64_t bytesReceived() const { return bytes_.load(); }
  uint64_t eofs() const { return eofs_.load(); }

  // Bounded waits for a count to reach `n`.
  bool waitAccepted(uint64_t n, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  bool waitEofs(uint64_t n, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  bool waitBytes(uint64_t n, std::chrono::milliseconds timeout = std::chrono::seconds(10));

  // Stops accepting and ends every connection (the destructor does it too).
  void stop();

 private:
  void acceptLoop();
  void serve(int fd);
  bool waitFor(const std::atomic<uint64_t>& value, uint64_t n, std::chrono::milliseconds timeout);
  void notify();

  Options options_;
  Fd listen_;
  uint16_t port_ = 0;
  std::thread acceptor_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::vector<int> open_fds_;        // under mu_: shut down by stop()
  std::vector<std::thread> workers_;  // under mu_
  std::atomic<uint64_t> accepted_{0};
  std::atomic<uint64_t> bytes_{0};
  std::atomic<uint64_t> eofs_{0};
};

}  // namespace trellis::tests
