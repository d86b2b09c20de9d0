// Blocking loopback sockets for tests: an owning descriptor, listen/connect on 127.0.0.1, and
// receive/send timeouts so that a proxy bug shows up as a failed read, never as a hung test.
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

namespace trellis::tests {

// Owns one file descriptor; closes it on destruction.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(other.release()) {}
  Fd& operator=(Fd&& other) noexcept;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

// A listening socket on 127.0.0.1 with a kernel-chosen port, written to `port`.
Fd listenLoopback(uint16_t& port);

// Connects to 127.0.0.1:`port`. On failure returns an invalid Fd and sets `error` (errno).
Fd connectLoopback(uint16_t port, int* error = nullptr);

// SO_RCVTIMEO and SO_SNDTIMEO.
void setTimeouts(int fd, std::chrono::milliseconds timeout);

// Writes every byte (no SIGPIPE); false on error or send timeout.
bool writeAll(int fd, std::string_view data);

// A port that was free a moment ago and has no listener: connecting to it is refused. Another
// bind to port 0 may take it next; where a port must stay without a listener, use ReservedPort.
uint16_t unusedPort();

// A loopback port held bound, never listening, for as long as this object lives: connecting to
// it is refused, and no bind to port 0 (the proxy's admin, a fake upstream) can be given it.
class ReservedPort {
 public:
  ReservedPort();
  uint16_t port() const { return port_; }

 private:
  Fd fd_;
  uint16_t port_ = 0;
};

}  // namespace trellis::tests
