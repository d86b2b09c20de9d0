// envoy.filters.network.tcp_proxy through the whole proxy: an Envoy bootstrap with a tcp_proxy
// listener on 127.0.0.1:0 and STATIC clusters on TcpEchoServer upstreams, the real server
// (config compiler, listener, connection setup, session), stats read from the admin /stats.
// The scenarios are tcp_proxy_cases.h's, shared with tcp_proxy_session_test.
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/integration/tcp_proxy_cases.h"
#include "tests/support/proxy_under_test.h"
#include "tests/support/resilience.h"
#include "tests/support/socket_util.h"
#include "tests/support/tcp_echo_server.h"

namespace trellis::tests {
namespace {

struct ClusterDef {
  std::string name;
  std::vector<uint16_t> ports;
  uint32_t weight = 1;
};

// The tcp_proxy fields beyond stat_prefix and the cluster specifier, flow style.
std::string tcpProxyYaml(const std::vector<ClusterDef>& clusters, const std::string& extra) {
  std::string spec;
  if (clusters.size() == 1) {
    spec = "cluster: " + clusters[0].name;
  } else {
    spec = "weighted_clusters: {clusters: [";
    for (size_t i = 0; i < clusters.size(); ++i) {
      if (i) spec += ", ";
      spec += "{name: " + clusters[i].name + ", weight: " + std::to_string(clusters[i].weight) + "}";
    }
    spec += "]}";
  }
  std::string y;
  y += "node: {id: itest, cluster: itest}\n";
  y += "admin: {address: {socket_address: {address: 127.0.0.1, port_value: 0}}}\n";
  y += "static_resources:\n";
  y += "  listeners:\n";
  y += "  - name: l\n";
  y += "    address: {socket_address: {address: 127.0.0.1, port_value: 0}}\n";
  y += "    filter_chains: [{filters: [{name: envoy.filters.network.tcp_proxy, typed_config: {\"@type\": "
       "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy, stat_prefix: t, " +
       spec + (extra.empty() ? "" : ", " + extra) + "}}]}]\n";
  y += "  clusters:\n";
  for (const auto& c : clusters) {
    y += "  - name: " + c.name + "\n";
    y += "    type: STATIC\n";
    y += "    connect_timeout: 1s\n";
    y += "    lb_policy: ROUND_ROBIN\n";
    y += "    load_assignment:\n";
    y += "      cluster_name: " + c.name + "\n";
    y += "      endpoints:\n";
    y += "      - lb_endpoints:\n";
    for (uint16_t p : c.ports) {
      y += "        - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: " + std::to_string(p) +
           "}}}\n";
    }
  }
  return y;
}

// The proxy under test, its stats read from the admin /stats as an operator would.
class WholeProxy {
 public:
  WholeProxy(const std::vector<ClusterDef>& clusters, const std::string& extra = "", uint32_t concurrency = 2) {
    auto p = ProxyUnderTest::start(tcpProxyYaml(clusters, extra), concurrency);
    if (!p.ok()) {
      ADD_FAILURE() << p.status();
      return;
    }
    proxy_ = std::move(*p);
  }
  bool ok() const { return proxy_ != nullptr; }
  uint16_t port() const { return proxy_->port(); }
  // Listener stats are named by the listener's address ("listener.127.0.0.1_<port>."); the one
  // listener's name is read off /stats rather than assumed (configured port 0 or bound port).
  std::string listenerStat(const std::string& stat) const {
    auto reply = adminRequest(proxy_->adminPort(), "/stats?filter=listener.127.0.0.1_");
    const std::string suffix = "." + stat + ": ";
    if (reply) {
      const size_t at = reply->body.find(suffix);
      if (at != std::string::npos) {
        const size_t begin = reply->body.rfind('\n', at);
        return reply->body.substr(begin == std::string::npos ? 0 : begin + 1,
                                  at + 1 + stat.size() - (begin == std::string::npos ? 0 : begin + 1));
      }
    }
    return "listener.127.0.0.1_" + std::to_string(port()) + "." + stat;
  }
  int64_t stat(const std::string& name) const {
    auto reply = adminRequest(proxy_->adminPort(), "/stats?filter=" + name);
    if (!reply || reply->status != 200) return -1;
    const std::string want = name + ": ";
    size_t at = 0;
    while (at < reply->body.size()) {
      size_t end = reply->body.find('\n', at);
      if (end == std::string::npos) end = reply->body.size();
      if (reply->body.compare(at, want.size(), want) == 0) {
        return std::stoll(reply->body.substr(at + want.size(), end - at - want.size()));
      }
      at = end + 1;
    }
    return -1;
  }

 private:
  std::unique_ptr<ProxyUnderTest> proxy_;
};

TEST(TcpProxyTest, BytesBothWaysAndTheirStats) {
  TcpEchoServer echo;
  WholeProxy p({{"c", {echo.port()}}});
  ASSERT_TRUE(p.ok());
  tcp_cases::bytesBothWays(p, echo);
}

TEST(TcpProxyTest, ServerFirstProtocol) {
  TcpEchoServer::Options so;
  so.greeting = "220 hello\r\n";
  TcpEchoServer server(so);
  WholeProxy p({{"c", {server.port()}}});
  ASSERT_TRUE(p.ok());
  tcp_cases::serverFirst(p);
}

TEST(TcpProxyTest, ClientHalfCloseStillGetsTheReply) {
  TcpEchoServer::Options so;
  so.mode = TcpEchoServer::Mode::Sink;
  so.reply_on_eof = "reply after eof";
  TcpEchoServer sink(so);
  WholeProxy p({{"c", {sink.port()}}});
  ASSERT_TRUE(p.ok());
  tcp_cases::clientHalfClose(p, sink);
}

TEST(TcpProxyTest, UpstreamCloseReachesTheClient) {
  TcpEchoServer::Options so;
  so.greeting = "bye\n";
  so.close_after_greeting = true;
  TcpEchoServer server(so);
  WholeProxy p({{"c", {server.port()}}});
  ASSERT_TRUE(p.ok());
  tcp_cases::upstreamClose(p);
}

TEST(TcpProxyTest, WeightedClustersSplit80To20) {
  TcpEchoServer heavy;
  TcpEchoServer light;
  WholeProxy p({{"a", {heavy.port()}, 80}, {"b", {light.port()}, 20}});
  ASSERT_TRUE(p.ok());
  tcp_cases::weightedSplit(p, heavy, light);
}

TEST(TcpProxyTest, ConnectFailureIsRetriedOnAnotherHost) {
  TcpEchoServer alive;
  const ReservedPort dead_held;
  const uint16_t dead = dead_held.port();
  ASSERT_NE(dead, 0);
  // One worker: its round-robin cursor sends some first attempts to the dead host.
  WholeProxy p({{"c", {dead, alive.port()}}}, "max_connect_attempts: 2", 1);
  ASSERT_TRUE(p.ok());
  tcp_cases::connectFailureRetried(p, alive);
}

TEST(TcpProxyTest, AllHostsDeadClosesTheClientWithoutBytes) {
  const ReservedPort dead1_held;
  const uint16_t dead1 = dead1_held.port();
  const ReservedPort dead2_held;
  const uint16_t dead2 = dead2_held.port();
  WholeProxy p({{"c", {dead1, dead2}}}, "max_connect_attempts: 2");
  ASSERT_TRUE(p.ok());
  tcp_cases::allHostsDead(p);
}

TEST(TcpProxyTest, IdleTimeoutClosesAnIdleConnection) {
  TcpEchoServer echo;
  WholeProxy p({{"c", {echo.port()}}}, "idle_timeout: 0.2s");
  ASSERT_TRUE(p.ok());
  tcp_cases::idleTimeout(p);
}

TEST(TcpProxyTest, UpstreamThatDoesNotReadPushesBackOnTheClient) {
  TcpEchoServer::Options so;
  so.mode = TcpEchoServer::Mode::NoRead;
  so.receive_buffer = 64 * 1024;
  TcpEchoServer stuck(so);
  WholeProxy p({{"c", {stuck.port()}}}, "idle_timeout: 0s");
  ASSERT_TRUE(p.ok());
  tcp_cases::backpressure(p, stuck);
}

}  // namespace
}  // namespace trellis::tests
