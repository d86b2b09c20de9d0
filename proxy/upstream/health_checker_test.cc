// ClusterHealthChecker against in-process fake upstreams on loopback (port 0), on one
// io_context. Every wait is for an observable event and bounded; none is a sleep.
#include "proxy/upstream/health_checker.h"

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

namespace trellis::proxy {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;
using namespace std::chrono_literals;

constexpr uint8_t kPending = kFailedActiveHc | kPendingActiveHc;
constexpr auto kUse = asio::as_tuple(asio::use_awaitable);

tcp::endpoint loopbackAny() { return {asio::ip::make_address("127.0.0.1"), 0}; }

// Shared by a fake server and its coroutines, which may outlive the server object itself.
struct ServerState {
  explicit ServerState(asio::io_context& ctx, tcp::endpoint bind_to) : acceptor(ctx, bind_to) {}
  tcp::acceptor acceptor;
  std::vector<std::weak_ptr<tcp::socket>> conns;
  int accepts = 0;
  int peer_closed = 0;  // connections that ended by the client's close
};

class FakeServerBase {
 public:
  tcp::endpoint endpoint() const { return state_->acceptor.local_endpoint(); }
  int accepts() const { return state_->accepts; }
  int peerClosed() const { return state_->peer_closed; }
  ~FakeServerBase() {
    error_code ec;
    state_->acceptor.close(ec);
    for (auto& w : state_->conns) {
      if (auto s = w.lock()) s->close(ec);
    }
  }

 protected:
  // Accepts for as long as the acceptor is open; each connection is served by `serve`.
  template <class Behaviour, class Serve>
  static asio::awaitable<void> acceptLoop(std::shared_ptr<ServerState> s, std::shared_ptr<Behaviour> b, Serve serve) {
    for (;;) {
      auto sock = std::make_shared<tcp::socket>(s->acceptor.get_executor());
      auto [ec] = co_await s->acceptor.async_accept(*sock, kUse);
      if (ec) co_return;
      ++s->accepts;
      sock->set_option(tcp::no_delay(true), ec);
      s->conns.push_back(sock);
      asio::co_spawn(s->acceptor.get_executor(), serve(s, b, sock), asio::detached);
    }
  }

  std::shared_ptr<ServerState> state_;
};

// HTTP/1.1: answers every request head with `status` (or `raw_response`), keeps the connection
// unless the request said Connection: close or `close_after_response`.
class FakeHttpServer : public FakeServerBase {
 public:
  struct Behaviour {
    int status = 200;
    bool silent = false;  // read requests, never answer
    bool close_after_response = false;
    std::string raw_response;  // sent instead of a generated response when set
    int requests = 0;
    std::string last_request;
  };

  explicit FakeHttpServer(asio::io_context& ctx, tcp::endpoint bind_to = loopbackAny())
      : b_(std::make_shared<Behaviour>()) {
    state_ = std::make_shared<ServerState>(ctx, bind_to);
    asio::co_spawn(ctx, acceptLoop(state_, b_, &serve), asio::detached);
  }
  Behaviour& b() { return *b_; }

 private:
  static asio::awaitable<void> serve(std::shared_ptr<ServerState> s, std::shared_ptr<Behaviour> b,
                                     std::shared_ptr<tcp::socket> sock) {
    std::string pending;
    char tmp[4096];
    for (;;) {
      auto [ec, n] = co_await sock->async_read_some(asio::buffer(tmp), kUse);
      if (ec) {
        if (ec == asio::error::eof || ec == asio::error::connection_reset) ++s->peer_closed;
        co_return;
      }
      pending.append(tmp, n);
      for (auto end = pending.find("\r\n\r\n"); end != std::string::npos; end = pending.find("\r\n\r\n")) {
        std::string req = pending.substr(0, end + 4);
        pending.erase(0, end + 4);
        ++b->requests;
        b->last_request = req;
        if (b->silent) continue;
        std::string resp = b->raw_response;
        if (resp.empty()) {
          const bool no_body = b->status == 204 || b->status == 304 || b->status < 200;
          resp = "HTTP/1.1 " + std::to_string(b->status) + " Fake\r\n" +
                 (no_body ? std::string("\r\n") : std::string("Content-Length: 2\r\n\r\nok"));
        }
        auto [wec, wn] = co_await asio::async_write(*sock, asio::buffer(resp), kUse);
        if (wec) co_return;
        if (b->close_after_response || req.find("Connection: close") != std::string::npos) {
          error_code ignored;
          sock->shutdown(tcp::socket::shutdown_send, ignored);
          sock->close(ignored);
          co_return;
        }
      }
    }
  }

  std::shared_ptr<Behaviour> b_;
};

// TCP: each time `expect` has arrived it is consumed and `reply` is written, one write per
// chunk. With an empty `expect` it only holds connections open.
class FakeTcpServer : public FakeServerBase {
 public:
  struct Behaviour {
    std::string expect;
    std::vector<std::string> reply;
    std::string received;
  };

  explicit FakeTcpServer(asio::io_context& ctx, tcp::endpoint bind_to = loopbackAny())
      : b_(std::make_shared<Behaviour>()) {
    state_ = std::make_shared<ServerState>(ctx, bind_to);
    asio::co_spawn(ctx, acceptLoop(state_, b_, &serve), asio::detached);
  }
  Behaviour& b() { return *b_; }

 private:
  static asio::awaitable<void> serve(std::shared_ptr<ServerState> s, std::shared_ptr<Behaviour> b,
                                     std::shared_ptr<tcp::socket> sock) {
    std::string pending;
    char tmp[4096];
    for (;;) {
      auto [ec, n] = co_await sock->async_read_some(asio::buffer(tmp), kUse);
      if (ec) {
        if (ec == asio::error::eof || ec == asio::error::connection_reset) ++s->peer_closed;
        co_return;
      }
      pending.append(tmp, n);
      b->received.append(tmp, n);
      while (!b->expect.empty() && pending.size() >= b->expect.size() &&
             pending.compare(0, b->expect.size(), b->expect) == 0) {
        pending.erase(0, b->expect.size());
        for (const auto& chunk : b->reply) {
          auto [wec, wn] = co_await asio::async_write(*sock, asio::buffer(chunk), kUse);
          if (wec) co_return;
        }
      }
    }
  }

  std::shared_ptr<Behaviour> b_;
};

Endpoint host(const tcp::endpoint& address) {
  Endpoint e;
  e.address = address;
  return e;
}

HealthCheckConfig httpConfig() {
  HealthCheckConfig c;
  c.kind = HealthCheckConfig::Kind::Http;
  c.timeout = 200ms;
  c.interval = 20ms;
  c.path = "/healthz";
  return c;
}

HealthCheckConfig tcpConfig() {
  auto c = httpConfig();
  c.kind = HealthCheckConfig::Kind::Tcp;
  c.path.clear();
  return c;
}

class HealthCheckerTest : public ::testing::Test {
 protected:
  using Change = std::pair<tcp::endpoint, uint8_t>;

  void makeChecker(HealthCheckConfig cfg) {
    checker_ = std::make_unique<ClusterHealthChecker>(
        ctx_, "backend", std::move(cfg), &stats_, 1,
        [this](const tcp::endpoint& ep, uint8_t flags) {
          changes_.push_back({ep, flags});
          if (hook_) hook_(ep, flags);
        },
        42, [this] { return had_traffic_; });
  }

  // Runs the io_context until `pred` holds; false if it did not within `limit`.
  bool runUntil(const std::function<bool()>& pred, std::chrono::milliseconds limit = 5000ms) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!pred()) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      ctx_.run_one_for(10ms);
    }
    return true;
  }
  // For assertions that something does NOT happen: runs the loop for a bounded time.
  void runFor(std::chrono::milliseconds d) { ctx_.run_for(d); }

  HealthCheckStats& hc() { return stats_.shard(1).health_check; }
  uint64_t attempts() { return hc().attempt.load(); }
  uint64_t successes() { return hc().success.load(); }
  uint64_t failures() { return hc().failure.load(); }
  uint64_t networkFailures() { return hc().network_failure.load(); }
  int64_t healthyGauge() { return hc().healthy.load(); }

  asio::io_context ctx_;
  asio::executor_work_guard<asio::io_context::executor_type> work_{ctx_.get_executor()};
  ClusterStats stats_{"backend", 2};
  bool had_traffic_ = true;
  std::vector<Change> changes_;
  std::function<void(const tcp::endpoint&, uint8_t)> hook_;
  std::unique_ptr<ClusterHealthChecker> checker_;
};

TEST_F(HealthCheckerTest, HttpHostBecomesHealthyAfterTheFirstPass) {
  FakeHttpServer server(ctx_);
  auto cfg = httpConfig();
  cfg.healthy_threshold = 3;  // ignored for a new host: one pass is enough
  makeChecker(cfg);
  checker_->setHosts({host(server.endpoint())});
  EXPECT_EQ(checker_->flags(server.endpoint()), kPending);
  EXPECT_EQ(checker_->hostCount(), 1u);

  ASSERT_TRUE(runUntil([&] { return !changes_.empty(); }));
  EXPECT_EQ(changes_[0], Change(server.endpoint(), 0));
  EXPECT_EQ(checker_->flags(server.endpoint()), 0);
  EXPECT_EQ(attempts(), 1u);
  EXPECT_EQ(successes(), 1u);
  EXPECT_EQ(failures(), 0u);
  EXPECT_EQ(healthyGauge(), 1);
  EXPECT_EQ(stats_.shard(0).health_check.attempt.load(), 0u);  // only the given shard
}

TEST_F(HealthCheckerTest, Http503LeavesANewHostFailedNoLongerPending) {
  FakeHttpServer server(ctx_);
  server.b().status = 503;
  makeChecker(httpConfig());
  checker_->setHosts({host(server.endpoint())});
  ASSERT_TRUE(runUntil([&] { return failures() >= 3; }));
  ASSERT_EQ(changes_.size(), 1u);  // pending -> failed, once
  EXPECT_EQ(changes_[0], Change(server.endpoint(), kFailedActiveHc));
  EXPECT_EQ(checker_->flags(server.endpoint()), kFailedActiveHc);
  EXPECT_EQ(networkFailures(), 0u);  // a status failure is not a network failure
  EXPECT_EQ(successes(), 0u);
  EXPECT_EQ(healthyGauge(), 0);
}

TEST_F(HealthCheckerTest, Http503MakesAHealthyHostUnhealthyAtOnce) {
  // Envoy: a status outside expected_statuses ignores unhealthy_threshold.
  FakeHttpServer server(ctx_);
  auto cfg = httpConfig();
  cfg.unhealthy_threshold = 3;
  makeChecker(cfg);
  uint64_t failures_at_change = 0;
  hook_ = [&](const tcp::endpoint&, uint8_t flags) {
    if (flags == 0) server.b().status = 503;
    if (flags == kFailedActiveHc) failures_at_change = failures();
  };
  checker_->setHosts({host(server.endpoint())});
  ASSERT_TRUE(runUntil([&] { return changes_.size() >= 2; }));
  EXPECT_EQ(changes_[1].second, kFailedActiveHc);
  EXPECT_EQ(failures_at_change, 1u);
  EXPECT_EQ(networkFailures(), 0u);
  EXPECT_EQ(healthyGauge(), 0);
}

TEST_F(HealthCheckerTest, TimeoutsCountTowardUnhealthyThreshold) {
  FakeHttpServer server(ctx_);
  auto cfg = httpConfig();
  cfg.timeout = 50ms;
  cfg.unhealthy_threshold = 2;
  makeChecker(cfg);
  uint64_t network_failures_at_change = 0;
  hook_ = [&](const tcp::endpoint&, uint8_t flags) {
    if (flags == 0) server.b().silent = true;
    if (flags == kFailedActiveHc) network_failures_at_change = networkFailures();
  };
  checker_->setHosts({host(server.endpoint())});
  ASSERT_TRUE(runUntil([&] { return changes_.size() >= 2; }));
  EXPECT_EQ(changes_[1].second, kFailedActiveHc);
  EXPECT_EQ(network_failures_at_change, 2u);
  EXPECT_EQ(failures(), 2u);  // every failure counts in `failure`, network ones also apart
}

TEST_F(HealthCheckerTest, ServerThatNeverAnswersFailsByTimeout) {
  FakeHttpServer server(ctx_);
  server.b().silent = true;
  auto cfg = httpConfig();
  cfg.timeout = 50ms;
  makeChecker(cfg);
  checker_->setHosts({host(server.endpoint())});
  ASSERT_TRUE(runUntil([&] { return networkFailures() >= 2; }));
  EXPECT_GE(server.b().requests, 1);
  EXPECT_EQ(checker_->flags(server.endpoint()), kFailedActiveHc);
  ASSERT_EQ(changes_.size(), 1u);  // pending -> failed after the first check
  EXPECT_EQ(changes_[0].second, kFailedActiveHc);
  // The timed-out connection was closed, not kept: each check connected again.
  EXPECT_GE(server.accepts(), 2);
}

TEST_F(HealthCheckerTest, RefusedPortFails) {
  tcp::endpoint closed;
  {
    tcp::acceptor a(ctx_, loopbackAny());
    closed = a.local_endpoint();
  }
  makeChecker(httpConfig());
  checker_->setHosts({host(closed)});
  ASSERT_TRUE(runUntil([&] { return networkFailures() >= 2; }));
  EXPECT_EQ(failures(), networkFailures());
  EXPECT_EQ(successes(), 0u);
  EXPECT_EQ(checker_->flags(closed), kFailedActiveHc);
}

TEST_F(HealthCheckerTest, MalformedResponseIsANetworkFailure) {
  FakeHttpServer server(ctx_);
  server.b().raw_response = "this is not http\r\n\r\n";
  makeChecker(httpConfig());
  checker_->setHosts({host(server.endpoint())});
  ASSERT_TRUE(runUntil([&] { return networkFailures() >= 1; }));
  EXPECT_EQ(successes(), 0u);
  EXPECT_EQ(checker_->flags(server.endpoint()), kFailedActiveHc);
}

TEST_F(HealthCheckerTest, RecoversAfterHealthyThresholdPasses) {
  FakeHttpServer server(ctx_);
  auto cfg = httpConfig();
  cfg.healthy_threshold = 3;
  makeChecker(cfg);
  uint64_t successes_when_failed = 0;
  uint64_t successes_when_recovered = 0;
  hook_ = [&](const tcp::endpoint&, uint8_t flags) {
    if (flags == 0 && changes_.size() == 1) server.b().status = 503;
    if (flags == kFailedActiveHc) {
      successes_when_failed = successes();
      server.b().status = 200;
    }
    if (flags == 0 && changes_.size() == 3) successes_when_recovered = successes();
  };
  checker_->setHosts({host(server.endpoint())});
  ASSERT_TRUE(runUntil([&] { return changes_.size() >= 3; }));
  EXPECT_EQ(changes_[0].second, 0);
  EXPECT_EQ(changes_[1].second, kFailedActiveHc);
  EXPECT_EQ(changes_[2].second, 0);
  EXPECT_EQ(successes_when_recovered - successes_when_failed, 3u);
  EXPECT_EQ(healthyGauge(), 1);
}

TEST_F(HealthCheckerTest, ExpectedStatusRangesAreHalfOpen) {
  FakeHttpServer server(ctx_);
  server.b().status = 205;
  auto cfg = httpConfig();
  cfg.expected_statuses = {{200, 201}, {202, 210}};
  makeChecker(cfg);
  hook_ = [&](const tcp::endpoint&, uint8_t flags) {
    if (changes_.size() == 1) server.b().status = 210;  // just past the range
    if (changes_.size() == 2) server.b().status = 202;  // its start
  };
  checker_->setHosts({host(server.endpoint())});
  ASSERT_TRUE(runUntil([&] { return changes_.size() >= 3; }));
  EXPECT_EQ(changes_[0].second, 0);
  EXPECT_EQ(changes_[1].second, kFailedActiveHc);
  EXPECT_EQ(changes_[2].second, 0);
}

TEST_F(HealthCheckerTest, DefaultExpectsOnly200) {
  FakeHttpServer server(ctx_);
  server.b().status = 204;
  makeChecker(httpConfig());
  checker_->setHosts({host(server.endpoint())});
  ASSERT_TRUE(runUntil([&] { return failures() >= 2; }));
  EXPECT_EQ(successes(), 0u);
  ASSERT_EQ(changes_.size(), 1u);
  EXPECT_EQ(changes_[0].second, kFailedActiveHc);
}

TEST_F(HealthCheckerTest, RequestCarriesPathHostAndUserAgent) {
  FakeHttpServer server(ctx_);
  auto cfg = httpConfig();
  cfg.request_headers = {{"x-probe", "1"}};
  makeChecker(cfg);
  checker_->setHosts({host(server.endpoint())});
  ASSERT_TRUE(runUntil([&] { return server.b().requests >= 1; }));
  const std::string& req = server.b().last_request;
  EXPECT_EQ(req.rfind("GET /healthz HTTP/1.1\r\n", 0), 0u) << req;
  EXPECT_NE(req.find("\r\nHost: backend\r\n"), std::string::npos) << req;  // the cluster's name
  EXPECT_NE(req.find("\r\nUser-Agent: Envoy/HC\r\n"), std::string::npos) << req;
  EXPECT_NE(req.find("\r\nx-probe: 1\r\n"), std::string::npos) << req;
  EXPECT_EQ(req.find("Connection: close"), std::string::npos) << req;
}

TEST_F(HealthCheckerTest, ConfiguredHostAndConnectionCloseWithoutReuse) {
  FakeHttpServer server(ctx_);
  auto cfg = httpConfig();
  cfg.host = "svc.internal";
  cfg.reuse_connection = false;
  makeChecker(cfg);
  checker_->setHosts({host(server.endpoint())});
  ASSERT_TRUE(runUntil([&] { return server.b().requests >= 1; }));
  const std::string& req = server.b().last_request;
  EXPECT_NE(req.find("\r\nHost: svc.internal\r\n"), std::string::npos) << req;
  EXPECT_NE(req.find("\r\nConnection: close\r\n"), std::string::npos) << req;
}

TEST_F(HealthCheckerTest, ReuseConnectionKeepsOneConnection) {
  FakeHttpServer server(ctx_);
  makeChecker(httpConfig());
  checker_->setHosts({host(server.endpoint())});
  ASSERT_TRUE(runUntil([&] { return server.b().requests >= 4; }));
  EXPECT_EQ(server.accepts(), 1);
  EXPECT_EQ(failures(), 0u);
}

TEST_F(HealthCheckerTest, WithoutReuseEachCheckConnects) {
  FakeHttpServer server(ctx_);
  auto cfg = httpConfig();
  cfg.reuse_connection = false;
  makeChecker(cfg);
  checker_->setHosts({host(server.endpoint())});
  ASSERT_TRUE(runUntil([&] { return server.b().requests >= 3; }));
  EXPECT_GE(server.accepts(), server.b().requests);
  EXPECT_EQ(failures(), 0u);
}

TEST_F(HealthCheckerTest, KeptConnectionClosedByTheServerIsReplacedWithoutAFailure) {
  FakeHttpServer server(ctx_);
  server.b().close_after_response = true;  // closes after answering, without saying so
  makeChecker(httpConfig());
  checker_->setHosts({host(server.endpoint())});
  ASSERT_TRUE(runUntil([&] { return server.b().requests >= 4; }));
  EXPECT_GE(server.accepts(), 4);
  EXPECT_EQ(failures(), 0u);
}

TEST_F(HealthCheckerTest, FailureDropsTheKeptConnection) {
  FakeHttpServer server(ctx_);
  server.b().status = 500;
  makeChecker(httpConfig());
  checker_->setHosts({host(server.endpoint())});
  ASSERT_TRUE(runUntil([&] { return server.b().requests >= 3; }));
  EXPECT_GE(server.accepts(), 3);  // reconnect after any failure
}

TEST_F(HealthCheckerTest, TcpConnectOnly) {
  FakeTcpServer server(ctx_);
  makeChecker(tcpConfig());
  checker_->setHosts({host(server.endpoint())});
  ASSERT_TRUE(runUntil([&] { return !changes_.empty(); }));
  EXPECT_EQ(changes_[0].second, 0);
  ASSERT_TRUE(runUntil([&] { return successes() >= 4; }));
  EXPECT_EQ(server.accepts(), 1);  // reused
  EXPECT_TRUE(server.b().received.empty());
}

TEST_F(HealthCheckerTest, TcpConnectOnlyRefused) {
  tcp::endpoint closed;
  {
    tcp::acceptor a(ctx_, loopbackAny());
    closed = a.local_endpoint();
  }
  makeChecker(tcpConfig());
  checker_->setHosts({host(closed)});
  ASSERT_TRUE(runUntil([&] { return networkFailures() >= 2; }));
  EXPECT_EQ(checker_->flags(closed), kFailedActiveHc);
}

TEST_F(HealthCheckerTest, TcpSendAndReceiveBlocksInOrder) {
  FakeTcpServer server(ctx_);
  const std::string send("\x00\x01PING", 6);  // raw bytes, as the compiler decodes Payload.text
  server.b().expect = send;
  server.b().reply = {"xxPO", "yy", "NGzz"};
  auto cfg = tcpConfig();
  cfg.send = send;
  cfg.receive = {"PO", "NG"};
  makeChecker(cfg);
  checker_->setHosts({host(server.endpoint())});
  ASSERT_TRUE(runUntil([&] { return !changes_.empty(); }));
  EXPECT_EQ(changes_[0].second, 0);
  EXPECT_EQ(server.b().received.substr(0, 6), send);
  ASSERT_TRUE(runUntil([&] { return successes() >= 3; }));
  EXPECT_EQ(failures(), 0u);
  EXPECT_EQ(server.accepts(), 1);
}

TEST_F(HealthCheckerTest, TcpReceiveBlocksOutOfOrderFailByTimeout) {
  FakeTcpServer server(ctx_);
  server.b().expect = "PING";
  server.b().reply = {"xxPOyyNGzz"};
  auto cfg = tcpConfig();
  cfg.timeout = 50ms;
  cfg.send = "PING";
  cfg.receive = {"NG", "PO"};  // PO comes before NG: no match
  makeChecker(cfg);
  checker_->setHosts({host(server.endpoint())});
  ASSERT_TRUE(runUntil([&] { return networkFailures() >= 2; }));
  EXPECT_EQ(successes(), 0u);
  EXPECT_EQ(checker_->flags(server.endpoint()), kFailedActiveHc);
}

TEST_F(HealthCheckerTest, SetHostsAddsAndRemoves) {
  FakeHttpServer a(ctx_);
  FakeHttpServer b(ctx_);
  makeChecker(httpConfig());
  checker_->setHosts({host(a.endpoint())});
  ASSERT_TRUE(runUntil([&] { return checker_->flags(a.endpoint()) == 0; }));

  checker_->setHosts({host(a.endpoint()), host(b.endpoint())});
  EXPECT_EQ(checker_->flags(a.endpoint()), 0);  // kept its state
  EXPECT_EQ(checker_->flags(b.endpoint()), kPending);
  ASSERT_TRUE(runUntil([&] { return checker_->flags(b.endpoint()) == 0; }));
  EXPECT_EQ(healthyGauge(), 2);
  EXPECT_EQ(a.accepts(), 1);  // and its connection

  checker_->setHosts({host(b.endpoint())});
  EXPECT_EQ(checker_->hostCount(), 1u);
  EXPECT_EQ(checker_->flags(a.endpoint()), kPending);  // not probed any more
  EXPECT_EQ(healthyGauge(), 1);
  ASSERT_TRUE(runUntil([&] { return a.peerClosed() >= 1; }));  // its connection was closed
  const int a_requests = a.b().requests;
  const int b_requests = b.b().requests;
  ASSERT_TRUE(runUntil([&] { return b.b().requests >= b_requests + 3; }));
  EXPECT_EQ(a.b().requests, a_requests);
  for (const auto& c : changes_) EXPECT_EQ(c.second, 0);  // removal reports nothing
}

TEST_F(HealthCheckerTest, DestroyMidConnect) {
  FakeHttpServer server(ctx_);
  makeChecker(httpConfig());
  checker_->setHosts({host(server.endpoint())});
  // The first handler to run is the probe's timer: it counts the attempt and starts connecting.
  ASSERT_TRUE(runUntil([&] { return attempts() == 1; }));
  EXPECT_EQ(server.b().requests, 0);
  checker_.reset();
  runFor(100ms);
  EXPECT_TRUE(changes_.empty());
  EXPECT_EQ(successes() + failures(), 0u);
  EXPECT_EQ(server.b().requests, 0);
}

TEST_F(HealthCheckerTest, DestroyMidResponse) {
  FakeHttpServer server(ctx_);
  server.b().silent = true;
  makeChecker(httpConfig());
  checker_->setHosts({host(server.endpoint())});
  ASSERT_TRUE(runUntil([&] { return server.b().requests == 1; }));
  checker_.reset();
  ASSERT_TRUE(runUntil([&] { return server.peerClosed() == 1; }));  // the probe closed its socket
  runFor(100ms);
  EXPECT_TRUE(changes_.empty());
  EXPECT_EQ(attempts(), 1u);
  EXPECT_EQ(successes() + failures(), 0u);
}

TEST_F(HealthCheckerTest, StopFromTheCallbackEndsEverything) {
  FakeHttpServer server(ctx_);
  makeChecker(httpConfig());
  hook_ = [&](const tcp::endpoint&, uint8_t) { checker_->stop(); };
  checker_->setHosts({host(server.endpoint())});
  ASSERT_TRUE(runUntil([&] { return !changes_.empty(); }));
  EXPECT_EQ(healthyGauge(), 0);  // a stopped checker counts no healthy host
  const uint64_t attempts_at_stop = attempts();
  runFor(100ms);
  EXPECT_EQ(changes_.size(), 1u);
  EXPECT_EQ(attempts(), attempts_at_stop);
  EXPECT_EQ(checker_->hostCount(), 0u);
  checker_->setHosts({host(server.endpoint())});  // ignored once stopped
  EXPECT_EQ(checker_->hostCount(), 0u);
}

TEST_F(HealthCheckerTest, NoTrafficIntervalAfterTheFirstCheck) {
  FakeHttpServer server(ctx_);
  had_traffic_ = false;
  auto cfg = httpConfig();
  cfg.no_traffic_interval = 60000ms;
  makeChecker(cfg);
  checker_->setHosts({host(server.endpoint())});
  // The first check happens at once whatever the traffic...
  ASSERT_TRUE(runUntil([&] { return !changes_.empty(); }));
  // ...the next waits no_traffic_interval, far beyond this bounded look.
  runFor(150ms);
  EXPECT_EQ(attempts(), 1u);
}

TEST_F(HealthCheckerTest, AThousandHostsOnOneThread) {
  // One listener on every local address; the hosts are 127.0.x.y, all routed to it.
  FakeTcpServer server(ctx_, tcp::endpoint(asio::ip::make_address("0.0.0.0"), 0));
  const uint16_t port = server.endpoint().port();
  auto cfg = tcpConfig();
  cfg.timeout = 2000ms;
  cfg.interval = 1000ms;
  cfg.initial_jitter = 500ms;  // spreads the first connects
  makeChecker(cfg);
  std::vector<Endpoint> hosts;
  for (uint32_t i = 0; i < 1000; ++i) {
    asio::ip::address_v4 a(0x7f000000u | ((i / 250) << 8) | (i % 250 + 1));
    hosts.push_back(host(tcp::endpoint(a, port)));
  }
  checker_->setHosts(hosts);
  ASSERT_TRUE(runUntil([&] { return healthyGauge() == 1000; }, 10000ms))
      << "healthy " << healthyGauge() << " failures " << failures();
  EXPECT_EQ(changes_.size(), 1000u);
  checker_.reset();
  EXPECT_EQ(healthyGauge(), 0);
}

}  // namespace
}  // namespace trellis::proxy
