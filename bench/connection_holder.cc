// ConnectionHolder: paced opening, one request per connection, then idle holding.
#include "bench/connection_holder.h"

namespace trellis::bench {

ConnectionHolder::ConnectionHolder(boost::asio::io_context& io,
                                   const boost::asio::ip::tcp::endpoint& target,
                                   std::string request, bool headRequest, int count,
                                   std::function<void()> settled)
    : io_(io),
      target_(target),
      request_(std::move(request)),
      headRequest_(headRequest),
      count_(count),
      settled_(std::move(settled)) {}

void ConnectionHolder::start() {
  connections_.reserve(count_);
  openMore();
}

void ConnectionHolder::openMore() {
  while (!stopped_ && pending_ < kMaxConnecting && opened_ < count_) {
    connections_.push_back(
        std::make_unique<Connection>(io_, *this, target_, kReadBufferSize, opened_));
    ++opened_;
    ++pending_;
    connections_.back()->connect();
  }
}

void ConnectionHolder::settledOne() {
  --pending_;
  openMore();
  if (held_ + failed_ + dropped_ >= count_ && settled_) {
    auto settled = std::move(settled_);
    settled_ = nullptr;
    settled();
  }
}

void ConnectionHolder::onConnected(Connection& conn) {
  conn.send(request_, headRequest_, Clock::now(), true);
}

void ConnectionHolder::onConnectFailed(Connection&) {
  ++failed_;
  settledOne();
}

void ConnectionHolder::onResponse(Connection& conn, int) {
  if (conn.state() == Connection::State::kClosed) {
    ++failed_;  // the server would not keep it open
  } else {
    ++held_;
  }
  settledOne();
}

void ConnectionHolder::onRequestFailed(Connection&, Failure) {
  ++failed_;
  settledOne();
}

void ConnectionHolder::onIdleClosed(Connection&) {
  --held_;
  ++dropped_;
}

void ConnectionHolder::stop() {
  stopped_ = true;
  for (auto& conn : connections_) conn->close();
}

}  // namespace trellis::bench
