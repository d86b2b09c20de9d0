// TcpProxySession on a bare worker: a hand-built snapshot (one tcp_proxy listener, static
// clusters) and a real Worker accepting on 127.0.0.1:0, with no config compiler or connection
// setup in between. It runs the scenarios of tcp_proxy_cases.h that the whole-proxy test
// (tcp_proxy_test) runs from an Envoy bootstrap, so the session is checked on its own.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <gtest/gtest.h>

#include "proxy/net/worker.h"
#include "proxy/snapshot/snapshot.h"
#include "proxy/stats/stats.h"
#include "proxy/tcp/tcp_proxy_session.h"
#include "tests/integration/tcp_proxy_cases.h"
#include "tests/support/socket_util.h"
#include "tests/support/tcp_echo_server.h"

namespace trellis::tests {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using proxy::Cluster;
using proxy::Duration;
using proxy::Endpoint;
using proxy::FilterChain;
using proxy::Listener;
using proxy::Snapshot;
using proxy::TcpProxy;
using proxy::WeightedTarget;
using proxy::Worker;

struct ClusterDef {
  std::string name;
  std::vector<uint16_t> ports;
  uint32_t weight = 1;
};

struct Options {
  std::vector<ClusterDef> clusters;
  Duration idle_timeout{0};
  uint32_t max_connect_attempts = 1;
  Duration connect_timeout{1000};
  bool only_unknown_target = false;  // the tcp_proxy names a cluster the snapshot lacks
  bool original_dst = false;         // the (single) cluster is ORIGINAL_DST
  uint32_t max_connections = 1024;
};

// What the connection setup would have found, for the next sessions (set before connecting;
// read on the worker thread, after the client's connect has been accepted).
struct SetupFacts {
  std::string initial;                     // bytes "the TLS inspector read"
  std::optional<tcp::endpoint> original;   // a restored original destination
};
SetupFacts g_setup;

// The session factory is a plain function pointer: every accepted socket goes to chain 0.
void createSession(Worker& worker, std::shared_ptr<const Listener> listener, tcp::socket socket) {
  proxy::ConnectionFacts facts;
  boost::system::error_code ec;
  facts.local = socket.local_endpoint(ec);
  facts.remote = socket.remote_endpoint(ec);
  if (g_setup.original) {
    facts.local = *g_setup.original;
    facts.original_dst_restored = true;
  }
  proxy::TcpProxySession::create(worker, std::move(listener), 0, std::move(socket), std::move(facts),
                                 g_setup.initial);
}

class SessionHarness {
 public:
  explicit SessionHarness(const Options& o, SetupFacts setup = {}) : stats_(2), worker_(0, &createSession) {
    g_setup = std::move(setup);
    auto snapshot = std::make_shared<Snapshot>();
    snapshot->version = "test";
    TcpProxy tp;
    tp.stat_prefix = "t";
    tp.idle_timeout = o.idle_timeout;
    tp.max_connect_attempts = o.max_connect_attempts;
    tp.stats = stats_.tcpProxy("t");
    for (const auto& def : o.clusters) {
      auto c = std::make_shared<Cluster>();
      c->name = def.name;
      c->index = static_cast<uint32_t>(snapshot->clusters.size());
      c->connect_timeout = o.connect_timeout;
      c->circuit_breakers.max_connections = o.max_connections;
      if (o.original_dst) c->type = proxy::DiscoveryType::OriginalDst;
      for (uint16_t p : def.ports) {
        Endpoint e;
        e.address = tcp::endpoint(asio::ip::address_v4::loopback(), p);
        e.counters = stats_.host(def.name, "127.0.0.1:" + std::to_string(p));
        c->schedule.push_back(static_cast<uint32_t>(c->endpoints.size()));
        c->endpoints.push_back(e);
      }
      c->stats = stats_.cluster(def.name);
      c->resources = stats_.resources(def.name);
      tp.targets.push_back(WeightedTarget{def.name, c->index, def.weight});
      tp.total_weight += def.weight;
      snapshot->clusters.push_back(std::move(c));
    }
    if (o.only_unknown_target) {
      tp.targets = {WeightedTarget{"missing", std::nullopt, 1}};
      tp.total_weight = 1;
    }
    auto listener = std::make_shared<Listener>();
    listener->name = "l";
    listener->address = tcp::endpoint(asio::ip::address_v4::loopback(), 0);
    FilterChain chain;
    chain.tcp = std::move(tp);
    listener->filter_chains.push_back(std::move(chain));
    listener->listener_stats = stats_.listener("l");
    snapshot->listeners.push_back(listener);

    tcp::acceptor acceptor(worker_.context(), listener->address);
    port_ = acceptor.local_endpoint().port();
    worker_.setSnapshot(snapshot, nullptr);
    worker_.addListener(listener, std::move(acceptor));
    worker_.start();
  }
  ~SessionHarness() {
    worker_.stopAndJoin();
    g_setup = {};
  }
  Worker& worker() { return worker_; }

  uint16_t port() const { return port_; }
  std::string listenerStat(const std::string& stat) const { return "listener.l." + stat; }
  int64_t stat(const std::string& name) const {
    for (const auto& v : stats_.collect()) {
      if (v.name == name) return v.value;
    }
    return -1;
  }

 private:
  proxy::StatsStore stats_;
  Worker worker_;
  uint16_t port_ = 0;
};

TEST(TcpProxySessionTest, BytesBothWays) {
  TcpEchoServer echo;
  SessionHarness h(Options{{{"c", {echo.port()}}}});
  tcp_cases::bytesBothWays(h, echo);
}

TEST(TcpProxySessionTest, ServerFirst) {
  TcpEchoServer::Options so;
  so.greeting = "220 hello\r\n";
  TcpEchoServer server(so);
  SessionHarness h(Options{{{"c", {server.port()}}}});
  tcp_cases::serverFirst(h);
}

TEST(TcpProxySessionTest, ClientHalfClose) {
  TcpEchoServer::Options so;
  so.mode = TcpEchoServer::Mode::Sink;
  so.reply_on_eof = "reply after eof";
  TcpEchoServer sink(so);
  SessionHarness h(Options{{{"c", {sink.port()}}}});
  tcp_cases::clientHalfClose(h, sink);
}

TEST(TcpProxySessionTest, UpstreamClose) {
  TcpEchoServer::Options so;
  so.greeting = "bye\n";
  so.close_after_greeting = true;
  TcpEchoServer server(so);
  SessionHarness h(Options{{{"c", {server.port()}}}});
  tcp_cases::upstreamClose(h);
}

TEST(TcpProxySessionTest, WeightedSplit) {
  TcpEchoServer heavy;
  TcpEchoServer light;
  SessionHarness h(Options{{{"a", {heavy.port()}, 80}, {"b", {light.port()}, 20}}});
  tcp_cases::weightedSplit(h, heavy, light);
}

TEST(TcpProxySessionTest, ConnectFailureRetriedOnAnotherHost) {
  TcpEchoServer alive;
  const ReservedPort dead_held;
  const uint16_t dead = dead_held.port();
  ASSERT_NE(dead, 0);
  Options o{{{"c", {dead, alive.port()}}}};
  o.max_connect_attempts = 2;
  SessionHarness h(o);
  tcp_cases::connectFailureRetried(h, alive);
}

TEST(TcpProxySessionTest, AllHostsDeadClosesTheClient) {
  const ReservedPort dead1_held;
  const uint16_t dead1 = dead1_held.port();
  const ReservedPort dead2_held;
  const uint16_t dead2 = dead2_held.port();
  Options o{{{"c", {dead1, dead2}}}};
  o.max_connect_attempts = 2;
  SessionHarness h(o);
  tcp_cases::allHostsDead(h);
}

TEST(TcpProxySessionTest, IdleTimeout) {
  TcpEchoServer echo;
  Options o{{{"c", {echo.port()}}}};
  o.idle_timeout = Duration(200);
  SessionHarness h(o);
  tcp_cases::idleTimeout(h);
}

TEST(TcpProxySessionTest, Backpressure) {
  TcpEchoServer::Options so;
  so.mode = TcpEchoServer::Mode::NoRead;
  so.receive_buffer = 64 * 1024;
  TcpEchoServer stuck(so);
  SessionHarness h(Options{{{"c", {stuck.port()}}}});
  tcp_cases::backpressure(h, stuck);
}

TEST(TcpProxySessionTest, UnknownClusterClosesAndCountsNoRoute) {
  TcpEchoServer echo;
  Options o{{{"c", {echo.port()}}}};
  o.only_unknown_target = true;
  SessionHarness h(o);
  Fd c = tcp_cases::connectClient(h.port());
  ASSERT_TRUE(c.valid());
  std::string got;
  EXPECT_NE(tcp_cases::readToEnd(c.get(), got), tcp_cases::End::Timeout);
  EXPECT_TRUE(got.empty());
  EXPECT_TRUE(tcp_cases::waitUntilTrue([&] { return h.stat("tcp.t.downstream_cx_no_route") == 1; }));
  EXPECT_EQ(echo.accepted(), 0u);
}

}  // namespace
}  // namespace trellis::tests

namespace trellis::tests {
namespace {

TEST(TcpProxySessionTest, InitialBytesGoUpstreamFirst) {
  TcpEchoServer echo;
  SessionHarness h(Options{{{"c", {echo.port()}}}}, SetupFacts{"\x16hello", std::nullopt});
  Fd c = tcp_cases::connectClient(h.port());
  ASSERT_TRUE(c.valid());
  ASSERT_TRUE(writeAll(c.get(), " world"));
  std::string got;
  ASSERT_TRUE(tcp_cases::readExactly(c.get(), 12, got));
  EXPECT_EQ(got, "\x16hello world");
  EXPECT_TRUE(tcp_cases::waitUntilTrue([&] { return h.stat("tcp.t.downstream_cx_rx_bytes_total") == 12; }));
  EXPECT_TRUE(tcp_cases::waitUntilTrue([&] { return h.stat("cluster.c.upstream_cx_tx_bytes_total") == 12; }));
}

TEST(TcpProxySessionTest, OriginalDstConnectsToTheRestoredDestination) {
  TcpEchoServer echo;
  Options o{{{"c", {}}}};
  o.original_dst = true;
  SessionHarness h(o, SetupFacts{"", tcp::endpoint(asio::ip::address_v4::loopback(), echo.port())});
  EXPECT_TRUE(tcp_cases::roundTrip(h.port(), "to where I meant"));
  EXPECT_EQ(echo.accepted(), 1u);
}

TEST(TcpProxySessionTest, OriginalDstWithoutADestinationCloses) {
  TcpEchoServer echo;
  Options o{{{"c", {}}}};
  o.original_dst = true;
  SessionHarness h(o);
  Fd c = tcp_cases::connectClient(h.port());
  ASSERT_TRUE(c.valid());
  std::string got;
  EXPECT_NE(tcp_cases::readToEnd(c.get(), got), tcp_cases::End::Timeout);
  EXPECT_TRUE(got.empty());
  EXPECT_TRUE(tcp_cases::waitUntilTrue([&] { return h.stat("cluster.c.upstream_cx_none_healthy") == 1; }));
}

TEST(TcpProxySessionTest, MaxConnectionsOverflowCloses) {
  TcpEchoServer echo;
  Options o{{{"c", {echo.port()}}}};
  o.max_connections = 1;
  SessionHarness h(o);
  Fd first = tcp_cases::connectClient(h.port());
  ASSERT_TRUE(first.valid());
  ASSERT_TRUE(writeAll(first.get(), "1"));
  std::string got;
  ASSERT_TRUE(tcp_cases::readExactly(first.get(), 1, got));
  Fd second = tcp_cases::connectClient(h.port());
  ASSERT_TRUE(second.valid());
  std::string rest;
  EXPECT_NE(tcp_cases::readToEnd(second.get(), rest), tcp_cases::End::Timeout);
  EXPECT_TRUE(rest.empty());
  EXPECT_EQ(h.stat("cluster.c.upstream_cx_overflow"), 1);
  EXPECT_EQ(echo.accepted(), 1u);
  // The first is untouched; once it ends, its connection is given back.
  ASSERT_TRUE(writeAll(first.get(), "2"));
  ASSERT_TRUE(tcp_cases::readExactly(first.get(), 1, got));
  first.reset();
  EXPECT_TRUE(tcp_cases::waitUntilTrue([&] { return h.stat("cluster.c.upstream_cx_active") == 0; }));
  EXPECT_TRUE(tcp_cases::roundTrip(h.port(), "3"));
}

TEST(TcpProxySessionTest, ConnectTimeoutIsCountedAndRetried) {
  // A listener that never accepts, its one-slot backlog filled: further SYNs are dropped, so a
  // connect to it hangs until the connect timeout.
  uint16_t black_hole = 0;
  Fd hole = listenLoopback(black_hole);
  ASSERT_TRUE(hole.valid());
  ASSERT_EQ(::listen(hole.get(), 0), 0);
  std::vector<Fd> fillers;
  for (int i = 0; i < 4; ++i) {
    Fd f(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(black_hole);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::connect(f.get(), reinterpret_cast<sockaddr*>(&a), sizeof(a));
    fillers.push_back(std::move(f));
  }
  TcpEchoServer alive;
  Options o{{{"c", {black_hole, alive.port()}}}};
  o.max_connect_attempts = 2;
  o.connect_timeout = Duration(200);
  SessionHarness h(o);
  // Round robin from host 0: the first attempt goes to the black hole.
  const auto started = std::chrono::steady_clock::now();
  EXPECT_TRUE(tcp_cases::roundTrip(h.port(), "late"));
  const auto waited =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  EXPECT_EQ(h.stat("cluster.c.upstream_cx_connect_timeout"), 1);
  EXPECT_EQ(h.stat("cluster.c.upstream_cx_connect_fail"), 1);
  EXPECT_GE(waited.count(), 150);
  EXPECT_LT(waited.count(), 3000);
}

TEST(TcpProxySessionTest, ForceCloseMidStreamEndsBothSides) {
  TcpEchoServer echo;
  auto h = std::make_unique<SessionHarness>(Options{{{"c", {echo.port()}}}});
  Fd c = tcp_cases::connectClient(h->port());
  ASSERT_TRUE(c.valid());
  ASSERT_TRUE(writeAll(c.get(), "hi"));
  std::string got;
  ASSERT_TRUE(tcp_cases::readExactly(c.get(), 2, got));
  EXPECT_EQ(h->worker().activeConnections(), 1);
  h.reset();  // closeAll: the session's reads are pending on both sockets
  std::string rest;
  EXPECT_NE(tcp_cases::readToEnd(c.get(), rest), tcp_cases::End::Timeout);
  EXPECT_TRUE(echo.waitEofs(1));
}

TEST(TcpProxySessionTest, DrainLeavesAStreamRunning) {
  TcpEchoServer echo;
  SessionHarness h(Options{{{"c", {echo.port()}}}});
  Fd c = tcp_cases::connectClient(h.port());
  ASSERT_TRUE(c.valid());
  ASSERT_TRUE(writeAll(c.get(), "a"));
  std::string got;
  ASSERT_TRUE(tcp_cases::readExactly(c.get(), 1, got));
  std::atomic<bool> drained{false};
  h.worker().drain(proxy::Worker::DrainScope::All, [&] { drained = true; });
  ASSERT_TRUE(writeAll(c.get(), "b"));
  ASSERT_TRUE(tcp_cases::readExactly(c.get(), 1, got));
  EXPECT_EQ(got, "b");
  EXPECT_FALSE(drained.load());
  c.reset();  // the client ends it: the worker is drained
  EXPECT_TRUE(tcp_cases::waitUntilTrue([&] { return drained.load(); }));
}

}  // namespace
}  // namespace trellis::tests
