// An HTTP/1.1 upstream whose behaviour a test changes while the proxy runs: the resilience
// tests' host that answers, fails, hangs, slows down, dies and comes back.
//
// It listens on 127.0.0.1 (port 0 the first time, the same port after revive()) and serves each
// accepted connection on its own thread. Each request is either a health check (its User-Agent
// is "Envoy/HC", as the proxy's HTTP checker sends) or a data request, and each kind has its own
// behaviour, so a host can pass its checks while failing its traffic, or the reverse:
//
//   Ok            200, body = the upstream's name, header x-upstream: name
//   Status        that status, body = name (e.g. 503)
//   Hang          read the request, never answer; the connection stays open until the proxy
//                 closes it (or die()/the destructor)
//   Slow          wait `delay`, then 200 like Ok
//   CloseMidHead  send half a response head, then close (a reset before a complete head)
//   Close         read the request and close without a byte
//
// queueData() puts behaviours in front of the default for the next data requests (in arrival
// order), e.g. "the next five get 503".
//
// die() stops listening and resets every open connection (SO_LINGER 0): connects are refused
// and the proxy's pooled connections break. revive() listens on the same port again.
//
// Every wait is bounded; the destructor (and die()) wake every blocked thread and join it.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/http_head.h"
#include "tests/support/socket_util.h"

namespace trellis::tests {

class ControllableUpstream {
 public:
  enum class Kind { Ok, Status, Hang, Slow, CloseMidHead, Close };
  struct Behavior {
    Kind kind = Kind::Ok;
    int status = 200;
    std::chrono::milliseconds delay{0};

    static Behavior ok() { return {}; }
    static Behavior answer(int s) { return {Kind::Status, s, {}}; }
    static Behavior hang() { return {Kind::Hang, 0, {}}; }
    static Behavior slow(std::chrono::milliseconds d) { return {Kind::Slow, 200, d}; }
    static Behavior closeMidHead() { return {Kind::CloseMidHead, 0, {}}; }
    static Behavior close() { return {Kind::Close, 0, {}}; }
  };

  struct Request {
    bool health_check = false;
    std::string method;
    std::string target;
    HttpHead head;
    std::string body;  // decoded (Content-Length or chunked), complete
    size_t connection = 0;  // which accepted connection (1-based, counted across revivals)
  };

  explicit ControllableUpstream(std::string name);
  ~ControllableUpstream();
  ControllableUpstream(const ControllableUpstream&) = delete;
  ControllableUpstream& operator=(const ControllableUpstream&) = delete;

  const std::string& name() const { return name_; }
  uint16_t port() const { return port_; }  // 0 if the first listen failed

  void setData(Behavior b);
  void setHealth(Behavior b);
  void setBoth(Behavior b) {
    setData(b);
    setHealth(b);
  }
  // The next `n` data requests get `b`, before the default applies again.
  void queueData(Behavior b, size_t n = 1);

  // Stops listening and resets every connection; returns once every connection thread ended.
  void die();
  // Listens again on the same port. False if the port could not be bound within `timeout`.
  bool revive(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  bool alive() const;

  size_t dataRequests() const;
  size_t healthChecks() const;
  size_t connectionsAccepted() const;
  // Data requests whose handling has started and not ended (e.g. hanging ones).
  size_t dataInFlight() const;
  std::vector<Request> requests() const;  // both kinds, in arrival order
  std::vector<Request> dataRequestList() const;
  std::vector<Request> healthCheckList() const;

  // Bounded waits on the counters above; false on timeout.
  bool waitForDataRequests(size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;
  bool waitForHealthChecks(size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;
  bool waitForConnections(size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;
  bool waitForDataInFlight(size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;

 private:
  bool listenOn(uint16_t port);
  void acceptLoop(int listen_fd);
  void serve(int fd, size_t index);
  Behavior next(bool health_check);
  // Waits up to `d`; returns early (false) when the connection is being reset or torn down.
  bool pause(int fd, std::chrono::milliseconds d);
  bool doomed(int fd) const;
  void stopAll(bool final);

  const std::string name_;
  uint16_t port_ = 0;

  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  Fd listener_;
  std::thread accept_thread_;
  bool listening_ = false;
  bool destroying_ = false;
  std::map<int, bool> open_fds_;  // fd -> being reset
  std::vector<std::thread> threads_;
  Behavior data_;
  Behavior health_;
  std::deque<Behavior> queued_;
  std::vector<Request> requests_;
  size_t data_count_ = 0;
  size_t hc_count_ = 0;
  size_t accepted_ = 0;
  size_t in_flight_ = 0;
};

}  // namespace trellis::tests
