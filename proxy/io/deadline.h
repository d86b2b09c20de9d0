// One deadline per downstream connection: whichever wait is current (idle, request headers, a
// body read, a connect, a response, a retry's back-off) is bounded by it, and its expiry
// cancels the pending socket operations so the coroutine that waits sees an error and asks
// expired() what ran out.
//
// A single steady_timer serves every wait: arming a later deadline while the timer is pending
// does not touch the timer (the handler re-arms itself when it wakes early), so the common
// case of re-arming per request costs no timer syscall. The deadline cancels the downstream
// socket and, while one is attached, the upstream socket of the current attempt.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

namespace trellis::proxy {

class Deadline {
 public:
  using Clock = std::chrono::steady_clock;
  enum class Wait : uint8_t { None, IdleHot, Idle, RequestHeaders, BodyIdle, Connect, Response, BackOff };

  Deadline(boost::asio::any_io_executor ex, boost::asio::ip::tcp::socket& downstream);
  ~Deadline();
  Deadline(const Deadline&) = delete;
  Deadline& operator=(const Deadline&) = delete;

  // `d` from now; a zero duration means no deadline for this wait.
  void arm(std::chrono::milliseconds d, Wait w);
  void armAt(Clock::time_point at, Wait w);
  void disarm() { wait_ = Wait::None; }
  // The wait that ran out last (None after a new arm()).
  Wait expired() const { return expired_; }
  bool expired(Wait w) const { return expired_ == w; }

  void attachUpstream(boost::asio::ip::tcp::socket* s) { upstream_ = s; }
  // Stops the timer for good: later arms do nothing (a closed session unwinds without waiting).
  void close();
  bool closed() const { return closed_; }

 private:
  void startTimer();
  void onTimer();

  boost::asio::steady_timer timer_;
  boost::asio::ip::tcp::socket& downstream_;
  boost::asio::ip::tcp::socket* upstream_ = nullptr;
  Clock::time_point at_{};
  Wait wait_ = Wait::None;
  Wait expired_ = Wait::None;
  bool pending_ = false;
  bool closed_ = false;
  // Outlives this object while a timer handler is queued, so the handler can tell.
  std::shared_ptr<bool> alive_;
};

}  // namespace trellis::proxy
