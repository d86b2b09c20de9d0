// The per-connection deadline (see deadline.h).
#include "proxy/io/deadline.h"

namespace trellis::proxy {

namespace asio = boost::asio;

Deadline::Deadline(asio::any_io_executor ex, asio::ip::tcp::socket& downstream)
    : timer_(std::move(ex)), downstream_(downstream), alive_(std::make_shared<bool>(true)) {}

Deadline::~Deadline() {
  *alive_ = false;
  timer_.cancel();
}

void Deadline::arm(std::chrono::milliseconds d, Wait w) {
  if (d.count() == 0 || closed_) {
    wait_ = Wait::None;
    expired_ = Wait::None;
    return;
  }
  armAt(Clock::now() + d, w);
}

void Deadline::armAt(Clock::time_point at, Wait w) {
  expired_ = Wait::None;
  if (closed_) {
    wait_ = Wait::None;
    return;
  }
  wait_ = w;
  at_ = at;
  // A pending wait that ends later is moved earlier; one that ends sooner re-arms itself.
  if (!pending_ || timer_.expiry() > at_) startTimer();
}

void Deadline::startTimer() {
  timer_.expires_at(at_);
  pending_ = true;
  timer_.async_wait([this, alive = alive_](const boost::system::error_code& ec) {
    if (!*alive || ec == asio::error::operation_aborted) return;  // replaced, or closing
    onTimer();
  });
}

void Deadline::onTimer() {
  pending_ = false;
  if (closed_ || wait_ == Wait::None) return;
  if (Clock::now() < at_) {
    startTimer();
    return;
  }
  expired_ = wait_;
  wait_ = Wait::None;
  boost::system::error_code ignored;
  downstream_.cancel(ignored);
  if (upstream_) upstream_->cancel(ignored);
}

void Deadline::close() {
  closed_ = true;
  wait_ = Wait::None;
  timer_.cancel();
}

}  // namespace trellis::proxy
