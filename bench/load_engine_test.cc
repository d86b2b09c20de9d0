// Integration tests: LoadEngine against bench-upstream's UpstreamServer in-process, on
// 127.0.0.1 port 0, for bounded runs of about a second. They check request accounting, the
// open-loop schedule, reconnects, failures by kind, and that a stall is charged to every
// request scheduled during it (no coordinated omission).
#include "bench/load_engine.h"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <thread>

#include "bench/request.h"
#include "bench/upstream_server.h"
#include "gtest/gtest.h"

namespace trellis::bench {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;

const asio::ip::address kLoopback = asio::ip::make_address("127.0.0.1");

// Runs an UpstreamServer on its own thread for the lifetime of the fixture.
class UpstreamFixture {
 public:
  explicit UpstreamFixture(size_t bodySize = 0) {
    UpstreamServer::Options options;
    options.listen = tcp::endpoint(kLoopback, 0);
    options.bodySize = bodySize;
    auto server = UpstreamServer::create(options);
    EXPECT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    thread_ = std::thread([this] { server_->run(); });
  }
  ~UpstreamFixture() {
    server_->stop();
    thread_.join();
  }
  tcp::endpoint endpoint() const { return server_->localEndpoint(); }
  uint64_t served() const { return server_->requestsServed(); }

 private:
  std::unique_ptr<UpstreamServer> server_;
  std::thread thread_;
};

LoadPlan basePlan(const tcp::endpoint& target, RequestSpec spec = {}) {
  Target t;
  t.address = "127.0.0.1";
  t.port = target.port();
  t.hostHeader = "127.0.0.1";
  LoadPlan plan;
  plan.target = target;
  plan.request = buildRequest(t, spec);
  plan.start = Clock::now();
  plan.warmup = 0s;
  plan.duration = 1s;
  plan.timeout = 2s;
  plan.hardStopGrace = 5s;
  return plan;
}

RunStats runEngine(LoadPlan plan) {
  asio::io_context io(1);
  LoadEngine engine(io, std::move(plan));
  engine.start();
  io.run();
  EXPECT_TRUE(engine.progress().finished.load());
  return engine.stats();
}

TEST(LoadEngineTest, OpenLoopSendsExactlyTheScheduleAndGetsEveryAnswer) {
  UpstreamFixture upstream(1024);
  LoadPlan plan = basePlan(upstream.endpoint());
  plan.rate = 1000;
  plan.connections = 4;
  const auto begin = Clock::now();
  const RunStats stats = runEngine(plan);
  const double elapsed = std::chrono::duration<double>(Clock::now() - begin).count();
  EXPECT_EQ(stats.sent, 1000u);
  EXPECT_EQ(stats.completed, 1000u);
  EXPECT_EQ(stats.statusClass[2], 1000u);
  EXPECT_EQ(stats.latency.count(), 1000u);
  EXPECT_EQ(stats.totalFailures(), 0u);
  EXPECT_EQ(stats.errors(), 0u);
  EXPECT_EQ(upstream.served(), 1000u);
  // The schedule spans one second; the run does not end before it, nor long after.
  EXPECT_GE(elapsed, 0.99);
  EXPECT_LT(elapsed, 3.0);
  EXPECT_NEAR(stats.achievedRate(), 1000, 100);
}

TEST(LoadEngineTest, WarmupRequestsAreSentButNotMeasured) {
  UpstreamFixture upstream;
  LoadPlan plan = basePlan(upstream.endpoint());
  plan.rate = 400;
  plan.connections = 2;
  plan.warmup = 500ms;
  plan.duration = 500ms;
  const RunStats stats = runEngine(plan);
  EXPECT_EQ(stats.completed, 200u);
  EXPECT_EQ(upstream.served(), 400u);
  EXPECT_EQ(stats.errors(), 0u);
}

TEST(LoadEngineTest, ClosedLoopStopsAtTheRequestLimit) {
  UpstreamFixture upstream;
  LoadPlan plan = basePlan(upstream.endpoint());
  plan.connections = 8;
  plan.requestLimit = 5000;
  const RunStats stats = runEngine(plan);
  EXPECT_EQ(stats.sent, 5000u);
  EXPECT_EQ(stats.completed, 5000u);
  EXPECT_EQ(stats.errors(), 0u);
  EXPECT_EQ(upstream.served(), 5000u);
}

TEST(LoadEngineTest, ClosedLoopRunsForTheDuration) {
  UpstreamFixture upstream;
  LoadPlan plan = basePlan(upstream.endpoint());
  plan.connections = 4;
  const auto begin = Clock::now();
  const RunStats stats = runEngine(plan);
  const double elapsed = std::chrono::duration<double>(Clock::now() - begin).count();
  EXPECT_GT(stats.completed, 1000u);  // loopback does far more than 1000 requests per second
  EXPECT_EQ(stats.completed, stats.sent);
  EXPECT_EQ(stats.errors(), 0u);
  EXPECT_GE(elapsed, 0.99);
  EXPECT_LT(elapsed, 3.0);
}

TEST(LoadEngineTest, ServerClosingEachConnectionIsFollowedByReconnects) {
  UpstreamFixture upstream;
  RequestSpec spec;
  spec.headers.push_back({"Connection", "close"});
  LoadPlan plan = basePlan(upstream.endpoint(), spec);
  plan.connections = 2;
  plan.requestLimit = 200;
  const RunStats stats = runEngine(plan);
  EXPECT_EQ(stats.completed, 200u);
  EXPECT_EQ(stats.errors(), 0u);
  EXPECT_GE(stats.serverCloses, 200u);
}

TEST(LoadEngineTest, RequestBodiesAreAccepted) {
  UpstreamFixture upstream;
  RequestSpec spec;
  spec.method = "POST";
  spec.bodySize = 70000;  // larger than one read buffer on either side
  LoadPlan plan = basePlan(upstream.endpoint(), spec);
  plan.connections = 2;
  plan.requestLimit = 300;
  const RunStats stats = runEngine(plan);
  EXPECT_EQ(stats.completed, 300u);
  EXPECT_EQ(stats.errors(), 0u);
}

TEST(LoadEngineTest, RefusedConnectsAreCountedAndUnsentRequestsTimeOut) {
  // A port that was free a moment ago: bind, read the port, close.
  asio::io_context scratch;
  tcp::acceptor probe(scratch, tcp::endpoint(kLoopback, 0));
  const tcp::endpoint closed = probe.local_endpoint();
  probe.close();

  LoadPlan plan = basePlan(closed);
  plan.rate = 100;
  plan.connections = 2;
  plan.duration = 300ms;
  plan.timeout = 200ms;
  const RunStats stats = runEngine(plan);
  EXPECT_EQ(stats.completed, 0u);
  EXPECT_GT(stats.failureCount(Failure::kConnect), 0u);
  EXPECT_EQ(stats.failureCount(Failure::kTimeout), 30u);  // every scheduled request
}

// A server that answers in order but holds back its first response for `stall`.
class StallingServer {
 public:
  explicit StallingServer(std::chrono::milliseconds stall)
      : acceptor_(io_, tcp::endpoint(kLoopback, 0)), stall_(stall) {
    thread_ = std::thread([this] { serve(); });
  }
  // The server thread ends when the client closes its connection (the engine does when it
  // finishes); if no client ever came, a throwaway connection releases the accept.
  ~StallingServer() {
    if (!accepted_) {
      boost::system::error_code ignored;
      tcp::socket wake(io_);
      wake.connect(acceptor_.local_endpoint(), ignored);
      wake.close(ignored);
    }
    thread_.join();
  }
  tcp::endpoint endpoint() const { return acceptor_.local_endpoint(); }

 private:
  void serve() {
    boost::system::error_code ec;
    tcp::socket socket(io_);
    acceptor_.accept(socket, ec);
    accepted_ = true;
    if (ec) return;
    std::string buffer;
    bool first = true;
    const std::string response = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    while (true) {
      const size_t n = asio::read_until(socket, asio::dynamic_buffer(buffer), "\r\n\r\n", ec);
      if (ec) break;
      buffer.erase(0, n);
      if (first) {
        std::this_thread::sleep_for(stall_);  // the stall under test, not synchronisation
        first = false;
      }
      asio::write(socket, asio::buffer(response), ec);
      if (ec) break;
    }
  }

  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::chrono::milliseconds stall_;
  std::atomic<bool> accepted_{false};
  std::thread thread_;
};

TEST(LoadEngineTest, StallIsChargedToEveryRequestScheduledDuringIt) {
  StallingServer server(300ms);
  LoadPlan plan = basePlan(server.endpoint());
  plan.rate = 1000;
  plan.connections = 1;
  plan.warmup = 0s;
  plan.duration = 1s;
  const RunStats stats = runEngine(plan);
  ASSERT_EQ(stats.completed, 1000u);
  // Request i (scheduled at i ms) waited for the stall to end at ~300 ms: about 300 requests
  // have latencies spread from 300 ms down to 0. A generator that measured from the actual
  // send would report one slow request and 999 fast ones.
  EXPECT_GE(stats.latency.max(), 290'000'000u);
  EXPECT_GE(stats.latency.valueAtPercentile(90), 50'000'000u);
  EXPECT_GE(stats.latency.valueAtPercentile(80), 5'000'000u);
  EXPECT_LT(stats.latency.valueAtPercentile(50), 50'000'000u);
}

}  // namespace
}  // namespace trellis::bench
