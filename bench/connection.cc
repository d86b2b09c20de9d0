// Connection's state machine: connect, write, read-and-parse, close (see connection.h).
#include "bench/connection.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/write.hpp>

namespace trellis::bench {

namespace asio = boost::asio;
using boost::system::error_code;

Connection::Connection(asio::io_context& io, ConnectionOwner& owner,
                       const asio::ip::tcp::endpoint& target, size_t readBufferSize, int index)
    : owner_(owner),
      target_(target),
      socket_(io),
      connectTimer_(io),
      readBuffer_(new char[readBufferSize]),
      readBufferSize_(readBufferSize),
      index_(index) {}

void Connection::connect(Clock::duration delay) {
  state_ = State::kConnecting;
  const uint32_t gen = ++generation_;
  auto start = [this, gen] {
    if (gen != generation_) return;
    error_code ec;
    socket_.open(target_.protocol(), ec);
    if (ec) {
      onConnect(ec);
      return;
    }
    socket_.async_connect(target_, [this, gen](const error_code& ec) {
      if (gen != generation_ || ec == asio::error::operation_aborted) return;
      onConnect(ec);
    });
  };
  if (delay <= Clock::duration::zero()) {
    start();
    return;
  }
  connectTimer_.expires_after(delay);
  connectTimer_.async_wait([start](const error_code& ec) {
    if (!ec) start();
  });
}

void Connection::onConnect(const error_code& ec) {
  if (ec) {
    closeSocket();
    owner_.onConnectFailed(*this);
    return;
  }
  error_code ignored;
  socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
  parser_.reset();
  state_ = State::kIdle;
  startRead();
  owner_.onConnected(*this);
}

void Connection::send(std::string_view request, bool headRequest, Clock::time_point start,
                      bool measured) {
  state_ = State::kBusy;
  start_ = start;
  sentAt_ = Clock::now();
  measured_ = measured;
  parser_.expectResponse(headRequest);
  const uint32_t gen = generation_;
  asio::async_write(socket_, asio::buffer(request.data(), request.size()),
                    [this, gen](const error_code& ec, size_t) {
                      if (gen != generation_ || !ec) return;
                      if (ec == asio::error::operation_aborted) return;
                      if (state_ == State::kBusy) fail(Failure::kReset);
                    });
}

bool Connection::expireIfSentBefore(Clock::time_point deadline) {
  if (state_ != State::kBusy || sentAt_ >= deadline) return false;
  fail(Failure::kTimeout);
  return true;
}

void Connection::startRead() {
  const uint32_t gen = generation_;
  socket_.async_read_some(asio::buffer(readBuffer_.get(), readBufferSize_),
                          [this, gen](const error_code& ec, size_t bytes) {
                            if (gen != generation_ || ec == asio::error::operation_aborted) return;
                            onRead(ec, bytes);
                          });
}

void Connection::onRead(const error_code& ec, size_t bytes) {
  if (ec) {
    if (ec == asio::error::eof && state_ == State::kBusy) {
      onEof();
      return;
    }
    const State was = state_;
    closeSocket();
    if (was == State::kBusy) {
      owner_.onRequestFailed(*this, Failure::kReset);
    } else {
      owner_.onIdleClosed(*this);
    }
    return;
  }
  if (state_ != State::kBusy) {
    fail(Failure::kProtocol);  // the server spoke without being asked
    return;
  }
  size_t consumed = 0;
  switch (parser_.feed(readBuffer_.get(), bytes, consumed)) {
    case ResponseParser::Result::kNeedMore:
      startRead();
      return;
    case ResponseParser::Result::kError:
      fail(Failure::kProtocol);
      return;
    case ResponseParser::Result::kComplete:
      if (consumed != bytes) {
        fail(Failure::kProtocol);  // more than one response to one request
        return;
      }
      completeResponse();
      return;
  }
}

void Connection::onEof() {
  if (parser_.finish() == ResponseParser::Result::kComplete) {
    completeResponse();
  } else {
    fail(Failure::kReset);
  }
}

void Connection::completeResponse() {
  const int status = parser_.status();
  if (parser_.keepAlive()) {
    state_ = State::kIdle;
    startRead();
  } else {
    closeSocket();
  }
  owner_.onResponse(*this, status);
}

void Connection::fail(Failure failure) {
  const bool wasBusy = state_ == State::kBusy;
  closeSocket();
  if (wasBusy) {
    owner_.onRequestFailed(*this, failure);
  } else {
    owner_.onIdleClosed(*this);
  }
}

void Connection::close() { closeSocket(); }

void Connection::closeSocket() {
  ++generation_;
  state_ = State::kClosed;
  error_code ignored;
  connectTimer_.cancel();
  socket_.close(ignored);
}

}  // namespace trellis::bench
