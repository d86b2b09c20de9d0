// The probes (a shared check cycle, HTTP and TCP exchanges) and the per-cluster set of them.
//
// A probe's cycle, in order: wait (timer) -> begin a check (arm the deadline on the same timer)
// -> connect or reuse -> exchange (the subclass) -> finish (observe, count, schedule, report).
// Every asynchronous handler holds the probe by shared_ptr and carries the generation of the
// check or timer wait it belongs to; a handler from a finished check, a superseded wait or a
// stopped probe returns without doing anything, so the checker may go away at any point.
#include "proxy/upstream/health_checker.h"

#include <set>
#include <string_view>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include "proxy/http/message_head.h"
#include "proxy/http/parser.h"

namespace trellis::proxy {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

namespace {
constexpr size_t kMaxResponseHead = 60 * 1024;  // larger is a malformed response
constexpr size_t kMaxTcpReceive = 64 * 1024;    // bytes searched for the receive blocks
}  // namespace

class ClusterHealthChecker::Probe : public std::enable_shared_from_this<Probe> {
 public:
  Probe(ClusterHealthChecker& parent, tcp::endpoint address)
      : parent_(&parent),
        address_(std::move(address)),
        socket_(parent.ctx_),
        timer_(parent.ctx_),
        buffer_(parent.buffers_),
        state_(parent.cfg_.healthy_threshold, parent.cfg_.unhealthy_threshold) {}
  virtual ~Probe() = default;

  void start(Duration delay) { arm(delay); }

  void stop() {
    parent_ = nullptr;
    ++check_gen_;
    ++timer_gen_;
    error_code ignored;
    timer_.cancel();
    socket_.close(ignored);
    buffer_.release();  // the pool belongs to the checker, which may go first
  }

  const HealthState& state() const { return state_; }

 protected:
  enum class Result {
    Success,
    Failure,           // counts toward unhealthy_threshold
    ImmediateFailure,  // an HTTP status outside expected_statuses: unhealthy at once
    NetworkFailure,    // connect failure, timeout, reset, malformed response
  };

  // Connected (or reusing the kept connection): send the check and read its answer, then
  // finish(). Called last in its handler, so finish() may run inside it.
  virtual void exchange() = 0;
  // Per-check state of the subclass, reset before each check.
  virtual void prepare() = 0;

  const HealthCheckConfig& cfg() const { return parent_->cfg_; }
  const std::string& httpRequest() const { return parent_->http_request_; }

  // Wraps a completion handler of the current check: it runs only while that check is still the
  // one in flight and the probe is not stopped.
  template <class Fn>
  auto guarded(Fn fn) {
    return [self = shared_from_this(), gen = check_gen_, fn = std::move(fn)](auto&&... args) mutable {
      if (self->parent_ == nullptr || gen != self->check_gen_ || !self->in_check_) return;
      fn(std::forward<decltype(args)>(args)...);
    };
  }

  // Ends the current check. `keep_connection`: the exchange left the connection clean for the
  // next check (only honoured with reuse_connection and a success).
  void finish(Result result, bool keep_connection = false) {
    in_check_ = false;
    ++check_gen_;  // pending I/O of this check is now stale
    if (result != Result::Success || !keep_connection || !parent_->cfg_.reuse_connection) {
      error_code ignored;
      socket_.close(ignored);
    }
    buffer_.release();

    ClusterHealthChecker& p = *parent_;
    HealthState::Change change = HealthState::Change::None;
    switch (result) {
      case Result::Success:
        change = state_.observe(true);
        break;
      case Result::ImmediateFailure:
        change = state_.observeImmediateFailure();
        break;
      case Result::Failure:
      case Result::NetworkFailure:
        change = state_.observe(false);
        break;
    }
    if (p.stats_) {
      auto& hc = p.stats_->shard(p.stats_shard_).health_check;
      if (result == Result::Success) {
        inc(hc.success);
      } else {
        inc(hc.failure);
        if (result == Result::NetworkFailure) inc(hc.network_failure);
      }
    }
    const uint8_t flags = state_.flags();
    const bool changed = flags != reported_flags_;
    reported_flags_ = flags;
    if (change == HealthState::Change::BecameHealthy) p.addHealthy(1);
    if (change == HealthState::Change::BecameUnhealthy) p.addHealthy(-1);

    arm(nextCheckDelay(p.cfg_, state_, change, p.hadTraffic(), p.draw()));
    // Last: the callbacks may call back into the checker (setHosts may stop this probe).
    auto on_check = p.on_check_;
    if (changed && p.on_change_) p.on_change_(address_, flags);
    if (on_check) on_check();
  }

  ClusterHealthChecker* parent_;  // null once stopped
  tcp::endpoint address_;
  tcp::socket socket_;
  asio::steady_timer timer_;  // the wait between checks, then the check's deadline
  Buffer buffer_;

 private:
  // One timer serves the wait before a check and the deadline of a check (never both at once).
  void arm(Duration delay) {
    const uint64_t gen = ++timer_gen_;
    timer_.expires_after(delay);
    timer_.async_wait([self = shared_from_this(), gen](const error_code& ec) {
      if (self->parent_ == nullptr || gen != self->timer_gen_ || ec) return;
      if (self->in_check_) {
        self->finish(Result::NetworkFailure);  // the deadline passed
      } else {
        self->beginCheck();
      }
    });
  }

  void beginCheck() {
    in_check_ = true;
    ++check_gen_;
    if (parent_->stats_) inc(parent_->stats_->shard(parent_->stats_shard_).health_check.attempt);
    prepare();
    arm(parent_->cfg_.timeout);
    if (parent_->cfg_.reuse_connection && connectionAlive()) {
      exchange();
      return;
    }
    error_code ignored;
    socket_.close(ignored);
    socket_.async_connect(address_, guarded([this](const error_code& ec) {
                            if (ec) {
                              finish(Result::NetworkFailure);
                              return;
                            }
                            error_code ignored;
                            socket_.set_option(tcp::no_delay(true), ignored);
                            exchange();
                          }));
  }

  // A kept connection is reused only if the upstream has neither closed it nor sent anything
  // while it was idle: a non-blocking peek must find nothing to read yet.
  bool connectionAlive() {
    if (!socket_.is_open()) return false;
    error_code ec;
    socket_.non_blocking(true, ec);
    if (ec) return false;
    char c;
    socket_.receive(asio::buffer(&c, 1), tcp::socket::message_peek, ec);
    return ec == asio::error::would_block;
  }

  HealthState state_;
  uint8_t reported_flags_ = kFailedActiveHc | kPendingActiveHc;
  uint64_t check_gen_ = 0;
  uint64_t timer_gen_ = 0;
  bool in_check_ = false;
};

// HTTP/1.1 GET; the response is read to its end so the connection can carry the next check.
class ClusterHealthChecker::HttpProbe final : public Probe {
 public:
  HttpProbe(ClusterHealthChecker& parent, tcp::endpoint address)
      : Probe(parent, std::move(address)),
        parser_(http::Parser::Type::Response,
                http::ParserLimits{static_cast<uint32_t>(kMaxResponseHead), 100}) {}

 private:
  void prepare() override {
    parser_.reset();
    parsed_ = 0;
    head_done_ = false;
    status_ = 0;
    keep_alive_ = false;
  }

  void exchange() override {
    asio::async_write(socket_, asio::buffer(httpRequest()), guarded([this](const error_code& ec, size_t) {
                        if (ec) {
                          finish(Result::NetworkFailure);
                          return;
                        }
                        read();
                      }));
  }

  void read() {
    if (!buffer_.reserveForRead(kMaxResponseHead)) {
      finish(Result::NetworkFailure);  // a head that does not fit the limit
      return;
    }
    socket_.async_read_some(asio::buffer(buffer_.writePtr(), buffer_.freeSpace()),
                            guarded([this](const error_code& ec, size_t n) { onRead(ec, n); }));
  }

  void onRead(const error_code& ec, size_t n) {
    if (ec == asio::error::eof) {
      // A body that ends with the connection completes here; anything else was cut short.
      if (head_done_ && parser_.finish() == http::Parser::Status::MessageComplete) {
        keep_alive_ = false;
        complete();
      } else {
        finish(Result::NetworkFailure);
      }
      return;
    }
    if (ec) {
      finish(Result::NetworkFailure);
      return;
    }
    buffer_.commit(n);
    while (parsed_ < buffer_.end()) {
      auto step = parser_.feed(buffer_.base(), parsed_, buffer_.end());
      if (step.status == http::Parser::Status::Error) {
        finish(Result::NetworkFailure);
        return;
      }
      parsed_ += step.consumed;
      if (step.status == http::Parser::Status::HeadComplete) {
        parser_.bindHead(buffer_.base(), head_);
        status_ = head_.status;
        keep_alive_ = head_.keep_alive;
        head_done_ = true;
        if (step.message_complete) {
          complete();
          return;
        }
      } else if (step.status == http::Parser::Status::MessageComplete) {
        complete();
        return;
      }
      // Past the head, parsed bytes are not needed any more (body bytes are dropped as they
      // come, so a long body never grows the buffer).
      if (head_done_) {
        buffer_.consume(parsed_ - buffer_.begin());
        parsed_ = buffer_.begin();
      }
    }
    read();
  }

  void complete() {
    const bool leftovers = parsed_ != buffer_.end();  // bytes past the response: not reusable
    finish(expectedStatus() ? Result::Success : Result::ImmediateFailure, keep_alive_ && !leftovers);
  }

  bool expectedStatus() const {
    const auto& ranges = cfg().expected_statuses;
    if (ranges.empty()) return status_ == 200;
    for (const auto& [start, end] : ranges) {
      if (status_ >= start && status_ < end) return true;
    }
    return false;
  }

  http::Parser parser_;
  http::MessageHead head_;  // its header list keeps its capacity from one check to the next
  size_t parsed_ = 0;
  bool head_done_ = false;
  uint16_t status_ = 0;
  bool keep_alive_ = false;
};

// Connect; send `send` if any; read until every `receive` block was seen, in order.
class ClusterHealthChecker::TcpProbe final : public Probe {
 public:
  using Probe::Probe;

 private:
  void prepare() override {
    next_block_ = 0;
    match_pos_ = 0;
  }

  void exchange() override {
    if (cfg().send.empty()) {
      afterSend();
      return;
    }
    asio::async_write(socket_, asio::buffer(cfg().send), guarded([this](const error_code& ec, size_t) {
                        if (ec) {
                          finish(Result::NetworkFailure);
                          return;
                        }
                        afterSend();
                      }));
  }

  void afterSend() {
    if (cfg().receive.empty()) {
      finish(Result::Success, true);
      return;
    }
    read();
  }

  void read() {
    if (!buffer_.reserveForRead(kMaxTcpReceive)) {
      finish(Result::Failure);  // that much data and the blocks are still not all there
      return;
    }
    socket_.async_read_some(asio::buffer(buffer_.writePtr(), buffer_.freeSpace()),
                            guarded([this](const error_code& ec, size_t n) {
                              if (ec) {
                                finish(Result::NetworkFailure);
                                return;
                              }
                              buffer_.commit(n);
                              if (matched()) {
                                finish(Result::Success, true);
                              } else {
                                read();
                              }
                            }));
  }

  // Finds the remaining blocks, each after the previous one's end.
  bool matched() {
    const auto& blocks = cfg().receive;
    while (next_block_ < blocks.size()) {
      std::string_view seen(buffer_.base() + match_pos_, buffer_.end() - match_pos_);
      const auto pos = seen.find(blocks[next_block_]);
      if (pos == std::string_view::npos) return false;
      match_pos_ += pos + blocks[next_block_].size();
      ++next_block_;
    }
    return true;
  }

  size_t next_block_ = 0;
  size_t match_pos_ = 0;
};

ClusterHealthChecker::ClusterHealthChecker(asio::io_context& ctx, std::string cluster_name, HealthCheckConfig cfg,
                                           ClusterStats* stats, size_t stats_shard, OnChange on_change,
                                           uint64_t seed, std::function<bool()> had_traffic)
    : ctx_(ctx),
      cluster_name_(std::move(cluster_name)),
      cfg_(std::move(cfg)),
      stats_(stats),
      stats_shard_(stats_shard),
      on_change_(std::move(on_change)),
      rng_(seed),
      had_traffic_(std::move(had_traffic)),
      buffers_(16) {
  if (cfg_.kind == HealthCheckConfig::Kind::Http) buildHttpRequest();
}

ClusterHealthChecker::~ClusterHealthChecker() { stop(); }

void ClusterHealthChecker::buildHttpRequest() {
  auto& r = http_request_;
  r = "GET ";
  r += cfg_.path.empty() ? std::string("/") : cfg_.path;
  r += " HTTP/1.1\r\nHost: ";
  r += cfg_.host.empty() ? cluster_name_ : cfg_.host;
  r += "\r\nUser-Agent: Envoy/HC\r\n";
  for (const auto& [name, value] : cfg_.request_headers) {
    r += name;
    r += ": ";
    r += value;
    r += "\r\n";
  }
  if (!cfg_.reuse_connection) r += "Connection: close\r\n";
  r += "\r\n";
}

double ClusterHealthChecker::draw() { return std::uniform_real_distribution<double>(0.0, 1.0)(rng_); }

void ClusterHealthChecker::addHealthy(int64_t delta) {
  healthy_ += delta;
  if (stats_) add(stats_->shard(stats_shard_).health_check.healthy, delta);
}

void ClusterHealthChecker::setHosts(const std::vector<Endpoint>& hosts) {
  if (stopped_) return;
  std::set<tcp::endpoint> wanted;
  for (const auto& h : hosts) wanted.insert(h.address);
  for (auto it = probes_.begin(); it != probes_.end();) {
    if (wanted.count(it->first)) {
      ++it;
      continue;
    }
    removeProbe(it->second);
    it = probes_.erase(it);
  }
  for (const auto& addr : wanted) {
    if (probes_.count(addr)) continue;
    std::shared_ptr<Probe> probe;
    if (cfg_.kind == HealthCheckConfig::Kind::Http) {
      probe = std::make_shared<HttpProbe>(*this, addr);
    } else {
      probe = std::make_shared<TcpProbe>(*this, addr);
    }
    probes_.emplace(addr, probe);
    probe->start(initialCheckDelay(cfg_, draw()));
  }
}

bool ClusterHealthChecker::allChecked() const {
  for (const auto& [addr, probe] : probes_) {
    if (!probe->state().checked()) return false;
  }
  return true;
}

void ClusterHealthChecker::removeProbe(const std::shared_ptr<Probe>& probe) {
  if (probe->state().healthy()) addHealthy(-1);
  probe->stop();
}

void ClusterHealthChecker::stop() {
  stopped_ = true;
  for (auto& [addr, probe] : probes_) removeProbe(probe);
  probes_.clear();
}

uint8_t ClusterHealthChecker::flags(const tcp::endpoint& host) const {
  auto it = probes_.find(host);
  if (it == probes_.end()) return kFailedActiveHc | kPendingActiveHc;
  return it->second->state().flags();
}

}  // namespace trellis::proxy
