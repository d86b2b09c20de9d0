// Listeners with several filter chains, through the whole proxy on loopback: chain choice by
// destination address, by SNI (the TLS inspector, pass-through untouched), by transport; the
// inspector skipped for chains that need no TLS facts; listener_filters_timeout both ways; the
// egress_policy HTTP filter; an ORIGINAL_DST cluster on a connection that was not redirected;
// the default chain and refusals; an unbound listener.
//
// No iptables: the "original destination" is the address the client connected to, so a
// listener on 0.0.0.0:0 reached at 127.0.0.1 and at 127.0.0.2 (all of 127/8 is lo) exercises
// prefix_ranges. Stats are read from the admin /stats, named by the listener's configured
// address as in Envoy ("listener.127.0.0.1_0.<stat>").
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "tests/support/proxy_under_test.h"
#include "tests/support/raw_client.h"
#include "tests/support/resilience.h"
#include "tests/support/socket_util.h"
#include "tests/support/tcp_echo_server.h"

namespace trellis::tests {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// ---- client side ---------------------------------------------------------------------------

// A blocking connection to `ip`:`port` with receive/send timeouts; invalid on failure (`error`
// gets errno).
Fd connectTo(const char* ip, uint16_t port, int* error = nullptr, milliseconds timeout = seconds(5)) {
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    if (error) *error = errno;
    return fd;
  }
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  ::inet_pton(AF_INET, ip, &a.sin_addr);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    if (error) *error = errno;
    return Fd();
  }
  setTimeouts(fd.get(), timeout);
  return fd;
}

// Reads exactly `n` bytes (false on EOF, error or the receive timeout).
bool readExactly(int fd, size_t n, std::string& out) {
  out.clear();
  char buf[4096];
  while (out.size() < n) {
    const ssize_t r = ::recv(fd, buf, std::min(sizeof(buf), n - out.size()), 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    out.append(buf, static_cast<size_t>(r));
  }
  return true;
}

// Whether the peer closes (EOF or reset) before the receive timeout, with no byte first.
bool closedWithoutBytes(int fd) {
  char c;
  for (;;) {
    const ssize_t r = ::recv(fd, &c, 1, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) return true;
    if (r < 0) return errno == ECONNRESET;
    return false;  // a byte arrived
  }
}

// ---- the TLS ClientHello captured from openssl (SNI Example.COM, ALPN h2,http/1.1) ----------

std::string capturedClientHello() {
  std::ifstream in("proxy/listener/testdata/client_hello_openssl.bin", std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The same ClientHello with another server name of the same length (no length field changes).
std::string clientHelloFor(const std::string& sni) {
  std::string hello = capturedClientHello();
  const std::string captured = "Example.COM";
  const size_t at = hello.find(captured);
  if (at == std::string::npos || sni.size() != captured.size()) return std::string();
  hello.replace(at, captured.size(), sni);
  return hello;
}

// ---- upstream side -------------------------------------------------------------------------

// An upstream that records every byte it receives, per connection, and echoes it back.
class RecordingUpstream {
 public:
  RecordingUpstream() {
    listen_ = listenLoopback(port_);
    acceptor_ = std::thread([this] { acceptLoop(); });
  }
  ~RecordingUpstream() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
      if (listen_.valid()) ::shutdown(listen_.get(), SHUT_RDWR);
      for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);
    }
    if (acceptor_.joinable()) acceptor_.join();
    std::vector<std::thread> threads;
    {
      std::lock_guard<std::mutex> lock(mu_);
      threads.swap(threads_);
    }
    for (auto& t : threads) t.join();
  }
  uint16_t port() const { return port_; }
  size_t accepted() {
    std::lock_guard<std::mutex> lock(mu_);
    return received_.size();
  }
  // Everything connection `i` sent so far.
  std::string received(size_t i) {
    std::lock_guard<std::mutex> lock(mu_);
    return i < received_.size() ? received_[i] : std::string();
  }
  size_t totalBytes() {
    std::lock_guard<std::mutex> lock(mu_);
    size_t n = 0;
    for (const auto& r : received_) n += r.size();
    return n;
  }
  // Bounded wait until connection `i` sent at least `n` bytes.
  bool waitBytes(size_t i, size_t n, milliseconds timeout = seconds(10)) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return i < received_.size() && received_[i].size() >= n; });
  }

 private:
  void acceptLoop() {
    for (;;) {
      const int fd = ::accept4(listen_.get(), nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        return;
      }
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) {
        ::close(fd);
        return;
      }
      const size_t index = received_.size();
      received_.emplace_back();
      fds_.push_back(fd);
      threads_.emplace_back([this, fd, index] { serve(fd, index); });
      cv_.notify_all();
    }
  }
  void serve(int fd, size_t index) {
    char buf[16384];
    for (;;) {
      const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      {
        std::lock_guard<std::mutex> lock(mu_);
        received_[index].append(buf, static_cast<size_t>(n));
      }
      cv_.notify_all();
      if (!writeAll(fd, std::string_view(buf, static_cast<size_t>(n)))) break;
    }
    std::lock_guard<std::mutex> lock(mu_);
    fds_.erase(std::remove(fds_.begin(), fds_.end(), fd), fds_.end());
    ::close(fd);
  }

  Fd listen_;
  uint16_t port_ = 0;
  std::thread acceptor_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::vector<std::string> received_;  // per accepted connection, in accept order
  std::vector<int> fds_;
  std::vector<std::thread> threads_;
};

// ---- config --------------------------------------------------------------------------------

// A whole bootstrap: admin on 127.0.0.1:0, `listeners` (block YAML entries, "  - name: ...") and
// `clusters` (block YAML entries).
std::string bootstrap(const std::string& listeners, const std::string& clusters) {
  return "node: {id: itest, cluster: itest}\n"
         "admin: {address: {socket_address: {address: 127.0.0.1, port_value: 0}}}\n"
         "static_resources:\n"
         "  listeners:\n" +
         listeners + "  clusters:\n" + clusters;
}

// A STATIC cluster with one endpoint on 127.0.0.1:`port`.
std::string cluster(const std::string& name, uint16_t port) {
  return "  - name: " + name + "\n    type: STATIC\n    connect_timeout: 1s\n    load_assignment:\n      cluster_name: " +
         name + "\n      endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, "
         "port_value: " + std::to_string(port) + "}}}}]}]\n";
}

const std::string kOriginalDstCluster =
    "  - name: passthrough\n    type: ORIGINAL_DST\n    lb_policy: CLUSTER_PROVIDED\n    connect_timeout: 1s\n";

// Listener head: name, address (ip, port) and more block-YAML fields (four spaces in).
std::string listener(const std::string& name, const std::string& ip, uint16_t port, const std::string& fields = "") {
  return "  - name: " + name + "\n    address: {socket_address: {address: " + ip +
         ", port_value: " + std::to_string(port) + "}}\n" + fields;
}

// A filter chain entry (flow style) with `match` (filter_chain_match fields, empty: none) and a
// tcp_proxy to `cluster_name` with stat_prefix `prefix`.
std::string tcpChain(const std::string& match, const std::string& cluster_name, const std::string& prefix) {
  return "{" + (match.empty() ? std::string() : "filter_chain_match: {" + match + "}, ") +
         "filters: [{name: envoy.filters.network.tcp_proxy, typed_config: {\"@type\": "
         "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy, stat_prefix: " +
         prefix + ", cluster: " + cluster_name + "}}]}";
}

const std::string kRouter = "{name: envoy.filters.http.router}";

std::string egressFilter(const std::string& reason) {
  return "{name: trellis.filters.http.egress_policy, typed_config: {\"@type\": "
         "type.googleapis.com/trellis.extensions.filters.http.egress_policy.v1.EgressPolicy, reason: \"" +
         reason + "\"}}";
}

// A filter chain entry with an HTTP connection manager (stat_prefix `prefix`), `virtual_hosts`
// (a flow-style list) and `http_filters` (flow-style entries).
std::string httpChain(const std::string& match, const std::string& prefix, const std::string& virtual_hosts,
                      const std::string& http_filters = kRouter) {
  return "{" + (match.empty() ? std::string() : "filter_chain_match: {" + match + "}, ") +
         "filters: [{name: envoy.filters.network.http_connection_manager, typed_config: {\"@type\": "
         "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager, "
         "stat_prefix: " +
         prefix + ", route_config: {virtual_hosts: " + virtual_hosts + "}, http_filters: [" + http_filters + "]}}]}";
}

std::string chains(const std::vector<std::string>& list) {
  std::string out = "    filter_chains:\n";
  for (const auto& c : list) out += "    - " + c + "\n";
  return out;
}

const std::string kTlsInspector = "    listener_filters: [{name: envoy.filters.listener.tls_inspector}]\n";

// ---- the proxy -----------------------------------------------------------------------------

class Proxy {
 public:
  explicit Proxy(const std::string& yaml) {
    auto p = ProxyUnderTest::start(yaml, 2);
    if (!p.ok()) {
      error_ = std::string(p.status().message());
      return;
    }
    proxy_ = std::move(*p);
  }
  bool ok() const { return proxy_ != nullptr; }
  const std::string& error() const { return error_; }
  // The bound port of listener `name` (0 if it has none).
  uint16_t port(const std::string& name) {
    uint16_t port = 0;
    proxy_->server().runOnMain([&] {
      for (const auto& l : proxy_->server().listeners()) {
        if (l.name == name) port = l.address.port();
      }
    });
    return port;
  }
  // A counter or gauge from the admin /stats; -1 if it is not there.
  int64_t stat(const std::string& name) {
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
  // Bounded polling of /stats until `name` equals `value`; false (with the last value) if not.
  bool waitStat(const std::string& name, int64_t value, milliseconds timeout = seconds(5)) {
    return waitUntil([&] { return stat(name) == value; }, timeout, milliseconds(10));
  }
  uint16_t adminPort() const { return proxy_->adminPort(); }

 private:
  std::unique_ptr<ProxyUnderTest> proxy_;
  std::string error_;
};

#define ASSERT_PROXY(p) ASSERT_TRUE((p).ok()) << (p).error()

// Sends `bytes` on a fresh connection to `ip`:`port` and returns the echo (empty on failure).
std::string echoThrough(const char* ip, uint16_t port, const std::string& bytes) {
  Fd fd = connectTo(ip, port);
  if (!fd.valid() || !writeAll(fd.get(), bytes)) return "";
  std::string back;
  if (!readExactly(fd.get(), bytes.size(), back)) return "";
  return back;
}

// ---- destination address -------------------------------------------------------------------

TEST(ListenerChainsTest, PrefixRangesChooseTheChainByDestinationAddress) {
  TcpEchoServer e1;
  TcpEchoServer e2;
  Proxy p(bootstrap(listener("any", "0.0.0.0", 0,
                             chains({tcpChain("prefix_ranges: [{address_prefix: 127.0.0.2, prefix_len: 32}]", "e1", "a"),
                                     tcpChain("", "e2", "b")})),
                    cluster("e1", e1.port()) + cluster("e2", e2.port())));
  ASSERT_PROXY(p);
  const uint16_t port = p.port("any");
  ASSERT_NE(port, 0);

  EXPECT_EQ(echoThrough("127.0.0.2", port, "to two"), "to two");
  ASSERT_TRUE(e1.waitBytes(6));
  EXPECT_EQ(e2.accepted(), 0u);

  EXPECT_EQ(echoThrough("127.0.0.1", port, "to one!"), "to one!");
  ASSERT_TRUE(e2.waitBytes(7));
  EXPECT_EQ(e1.accepted(), 1u);
  EXPECT_EQ(e1.bytesReceived(), 6u);

  EXPECT_TRUE(p.waitStat("tcp.a.downstream_cx_total", 1));
  EXPECT_TRUE(p.waitStat("tcp.b.downstream_cx_total", 1));
  EXPECT_EQ(p.stat("listener.0.0.0.0_0.no_filter_chain_match"), 0);
}

// ---- the TLS inspector -----------------------------------------------------------------------

// An outbound listener with the TLS inspector: example.com passes through as TCP, plain HTTP is
// served by the HTTP connection manager, anything else matches nothing.
std::string tlsListenerYaml(uint16_t tls_upstream) {
  return bootstrap(
      listener("out", "127.0.0.1", 0,
               "    traffic_direction: OUTBOUND\n" + kTlsInspector +
                   chains({tcpChain("server_names: [example.com]", "tls", "tls"),
                           httpChain("transport_protocol: raw_buffer", "plain",
                                     "[{name: any, domains: [\"*\"], routes: [{match: {prefix: /}, direct_response: "
                                     "{status: 200, body: {inline_string: served by the HCM}}}]}]")})),
      cluster("tls", tls_upstream));
}

const std::string kOutStats = "listener.127.0.0.1_0.";

TEST(ListenerChainsTest, ClientHelloBySniPassesThroughByteForByte) {
  const std::string hello = capturedClientHello();
  ASSERT_EQ(hello.size(), 335u) << "testdata missing";
  RecordingUpstream up;
  Proxy p(tlsListenerYaml(up.port()));
  ASSERT_PROXY(p);
  Fd fd = connectTo("127.0.0.1", p.port("out"));
  ASSERT_TRUE(fd.valid());
  ASSERT_TRUE(writeAll(fd.get(), hello));
  ASSERT_TRUE(up.waitBytes(0, hello.size()));
  EXPECT_EQ(up.received(0), hello);  // untouched: the inspector only looked
  std::string back;
  ASSERT_TRUE(readExactly(fd.get(), hello.size(), back));
  EXPECT_EQ(back, hello);

  // After the ClientHello the connection is an ordinary pipe, both ways.
  const std::string more = "\x17\x03\x03\x00\x05hello";
  ASSERT_TRUE(writeAll(fd.get(), more));
  ASSERT_TRUE(readExactly(fd.get(), more.size(), back));
  EXPECT_EQ(back, more);
  EXPECT_EQ(up.received(0), hello + more);
  EXPECT_EQ(up.accepted(), 1u);
  EXPECT_EQ(p.stat(kOutStats + "no_filter_chain_match"), 0);
  EXPECT_EQ(p.stat(kOutStats + "egress_denied_tls"), 0);
}

TEST(ListenerChainsTest, ClientHelloInTwoPiecesIsStillInspected) {
  const std::string hello = capturedClientHello();
  ASSERT_EQ(hello.size(), 335u) << "testdata missing";
  RecordingUpstream up;
  Proxy p(tlsListenerYaml(up.port()));
  ASSERT_PROXY(p);
  Fd fd = connectTo("127.0.0.1", p.port("out"));
  ASSERT_TRUE(fd.valid());
  // The record header and part of the handshake: not enough to decide.
  ASSERT_TRUE(writeAll(fd.get(), hello.substr(0, 100)));
  ASSERT_TRUE(p.waitStat(kOutStats + "downstream_pre_cx_active", 1));
  EXPECT_EQ(up.accepted(), 0u);
  ASSERT_TRUE(writeAll(fd.get(), hello.substr(100)));
  ASSERT_TRUE(up.waitBytes(0, hello.size()));
  EXPECT_EQ(up.received(0), hello);
  EXPECT_TRUE(p.waitStat(kOutStats + "downstream_pre_cx_active", 0));
}

TEST(ListenerChainsTest, ClientHelloForAnotherServerIsRefusedAsEgress) {
  const std::string other = clientHelloFor("example.org");
  ASSERT_FALSE(other.empty()) << "testdata missing or changed";
  RecordingUpstream up;
  Proxy p(tlsListenerYaml(up.port()));
  ASSERT_PROXY(p);
  Fd fd = connectTo("127.0.0.1", p.port("out"));
  ASSERT_TRUE(fd.valid());
  ASSERT_TRUE(writeAll(fd.get(), other));
  EXPECT_TRUE(closedWithoutBytes(fd.get()));
  EXPECT_TRUE(p.waitStat(kOutStats + "no_filter_chain_match", 1));
  EXPECT_TRUE(p.waitStat(kOutStats + "egress_denied_tls", 1));
  EXPECT_EQ(p.stat(kOutStats + "egress_denied_tcp"), 0);
  EXPECT_EQ(up.accepted(), 0u);
  EXPECT_EQ(up.totalBytes(), 0u);
}

TEST(ListenerChainsTest, PlainHttpBytesTheInspectorReadAreReplayedToTheHcm) {
  RecordingUpstream up;
  Proxy p(tlsListenerYaml(up.port()));
  ASSERT_PROXY(p);
  auto c = RawClient::connect(p.port("out"));
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->send(makeRequest("GET", "/x", "anything.example")));
  auto r = c->readResponse();
  ASSERT_TRUE(r) << c->error();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "served by the HCM\n");  // local replies end with a newline
  // And the connection goes on as HTTP (keep-alive), past the inspected bytes.
  ASSERT_TRUE(c->send(makeRequest("GET", "/y", "anything.example")));
  auto r2 = c->readResponse();
  ASSERT_TRUE(r2) << c->error();
  EXPECT_EQ(r2->status, 200);
  EXPECT_TRUE(p.waitStat("http.plain.rq_direct_response", 2));
  EXPECT_EQ(up.accepted(), 0u);
  EXPECT_EQ(p.stat(kOutStats + "no_filter_chain_match"), 0);
}

// A server-first protocol: its chain needs no TLS facts, so the inspector does not wait for a
// ClientHello that will never come.
TEST(ListenerChainsTest, ServerFirstChainSkipsTheInspector) {
  TcpEchoServer::Options so;
  so.greeting = "220 smtp ready\r\n";
  TcpEchoServer smtp(so);
  TcpEchoServer tls;
  // destination_port must name the listener's own port: pick a free one (again if taken).
  std::optional<Proxy> p;
  uint16_t port = 0;
  for (int attempt = 0; attempt < 3; ++attempt) {
    port = unusedPort();
    ASSERT_NE(port, 0);
    p.emplace(bootstrap(listener("l", "127.0.0.1", port,
                                 kTlsInspector + chains({tcpChain("destination_port: " + std::to_string(port), "smtp",
                                                                  "smtp"),
                                                         tcpChain("server_names: [example.com]", "tls", "tls")})),
                        cluster("smtp", smtp.port()) + cluster("tls", tls.port())));
    if (p->ok()) break;
  }
  ASSERT_PROXY(*p);
  Fd fd = connectTo("127.0.0.1", port);
  ASSERT_TRUE(fd.valid());
  std::string greeting;
  ASSERT_TRUE(readExactly(fd.get(), so.greeting.size(), greeting)) << "the inspector waited for a ClientHello";
  EXPECT_EQ(greeting, so.greeting);
  const std::string l = "listener.127.0.0.1_" + std::to_string(port) + ".";
  EXPECT_EQ(p->stat(l + "downstream_pre_cx_timeout"), 0);
  EXPECT_EQ(p->stat(l + "downstream_pre_cx_active"), 0);
  EXPECT_EQ(tls.accepted(), 0u);
}

// listener_filters_timeout: a client that says nothing on a listener that waits for a
// ClientHello.
std::string silentClientYaml(bool continue_on_timeout, uint16_t greeter, uint16_t tls) {
  return bootstrap(listener("l", "127.0.0.1", 0,
                            kTlsInspector + "    listener_filters_timeout: 0.2s\n" +
                                "    continue_on_listener_filters_timeout: " +
                                (continue_on_timeout ? "true" : "false") + "\n" +
                                chains({tcpChain("server_names: [example.com]", "tls", "tls")}) +
                                "    default_filter_chain: " + tcpChain("", "greeter", "greeter") + "\n"),
                   cluster("greeter", greeter) + cluster("tls", tls));
}

TEST(ListenerChainsTest, ListenerFiltersTimeoutContinuesToTheDefaultChain) {
  TcpEchoServer::Options so;
  so.greeting = "hello, silent client\n";
  TcpEchoServer greeter(so);
  TcpEchoServer tls;
  Proxy p(silentClientYaml(true, greeter.port(), tls.port()));
  ASSERT_PROXY(p);
  Fd fd = connectTo("127.0.0.1", p.port("l"));
  ASSERT_TRUE(fd.valid());
  std::string greeting;
  ASSERT_TRUE(readExactly(fd.get(), so.greeting.size(), greeting));
  EXPECT_EQ(greeting, so.greeting);
  EXPECT_EQ(greeter.accepted(), 1u);
  EXPECT_EQ(tls.accepted(), 0u);
  EXPECT_TRUE(p.waitStat(kOutStats + "downstream_pre_cx_timeout", 1));
  EXPECT_EQ(p.stat(kOutStats + "no_filter_chain_match"), 0);
  // Still a working pipe.
  ASSERT_TRUE(writeAll(fd.get(), "late bytes"));
  std::string back;
  ASSERT_TRUE(readExactly(fd.get(), 10, back));
  EXPECT_EQ(back, "late bytes");
}

TEST(ListenerChainsTest, ListenerFiltersTimeoutClosesWithoutContinue) {
  TcpEchoServer::Options so;
  so.greeting = "hello, silent client\n";
  TcpEchoServer greeter(so);
  TcpEchoServer tls;
  Proxy p(silentClientYaml(false, greeter.port(), tls.port()));
  ASSERT_PROXY(p);
  Fd fd = connectTo("127.0.0.1", p.port("l"));
  ASSERT_TRUE(fd.valid());
  EXPECT_TRUE(closedWithoutBytes(fd.get()));
  EXPECT_TRUE(p.waitStat(kOutStats + "downstream_pre_cx_timeout", 1));
  EXPECT_TRUE(p.waitStat(kOutStats + "downstream_pre_cx_active", 0));
  EXPECT_EQ(greeter.accepted(), 0u);
  EXPECT_EQ(tls.accepted(), 0u);
}

// ---- egress_policy -------------------------------------------------------------------------

std::string egressYaml(bool with_filter) {
  return bootstrap(
      listener("out", "127.0.0.1", 0,
               "    traffic_direction: OUTBOUND\n" +
                   chains({httpChain("", "egress",
                                     "[{name: known, domains: [known], routes: [{match: {prefix: /}, direct_response: "
                                     "{status: 200, body: {inline_string: known ok}}}]}]",
                                     with_filter ? egressFilter("test reason") + ", " + kRouter : kRouter)})),
      cluster("unused", 1));
}

TEST(ListenerChainsTest, EgressPolicyRefusesAnUnknownHostWith403) {
  Proxy p(egressYaml(true));
  ASSERT_PROXY(p);
  auto c = RawClient::connect(p.port("out"));
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->send(makeRequest("GET", "/", "unknown.example")));
  auto r = c->readResponse();
  ASSERT_TRUE(r) << c->error();
  EXPECT_EQ(r->status, 403);
  EXPECT_NE(r->body.find("unknown.example"), std::string::npos) << r->body;
  EXPECT_NE(r->body.find("test reason"), std::string::npos) << r->body;
  // Not redirected: no original destination in the text.
  EXPECT_EQ(r->body, "egress to unknown.example is not allowed: test reason\n");
  EXPECT_TRUE(p.waitStat(kOutStats + "egress_denied_http", 1));
  EXPECT_TRUE(p.waitStat("http.egress.rq_response_flag_NR", 1));

  // A known host on the same connection (a 403 of the policy keeps it open).
  ASSERT_TRUE(c->send(makeRequest("GET", "/", "known")));
  auto ok = c->readResponse();
  ASSERT_TRUE(ok) << c->error();
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(ok->body, "known ok\n");
  EXPECT_EQ(p.stat(kOutStats + "egress_denied_http"), 1);
  EXPECT_EQ(p.stat("http.egress.rq_response_flag_NR"), 1);
}

TEST(ListenerChainsTest, WithoutEgressPolicyAnUnknownHostIs404) {
  Proxy p(egressYaml(false));
  ASSERT_PROXY(p);
  auto c = RawClient::connect(p.port("out"));
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->send(makeRequest("GET", "/", "unknown.example")));
  auto r = c->readResponse();
  ASSERT_TRUE(r) << c->error();
  EXPECT_EQ(r->status, 404);
  EXPECT_TRUE(p.waitStat("http.egress.rq_response_flag_NR", 1));
  EXPECT_EQ(p.stat(kOutStats + "egress_denied_http"), 0);
}

// ---- ORIGINAL_DST ----------------------------------------------------------------------------

// A connection that was not redirected has no original destination: connecting to "where it
// was going" would be the proxy itself, so the request is refused instead of looping.
TEST(ListenerChainsTest, OriginalDstClusterWithoutRedirectIs503) {
  Proxy p(bootstrap(listener("out", "127.0.0.1", 0,
                             "    listener_filters: [{name: envoy.filters.listener.original_dst}]\n" +
                                 chains({httpChain("", "od",
                                                   "[{name: any, domains: [\"*\"], routes: [{match: {prefix: /}, "
                                                   "route: {cluster: passthrough}}]}]")})),
                    kOriginalDstCluster));
  ASSERT_PROXY(p);
  auto c = RawClient::connect(p.port("out"));
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->send(makeRequest("GET", "/", "somewhere.example")));
  auto r = c->readResponse();
  ASSERT_TRUE(r) << c->error();
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(r->body.rfind("no original destination", 0), 0u) << r->body;
  EXPECT_TRUE(p.waitStat("http.od.rq_response_flag_UH", 1));
  EXPECT_EQ(p.stat("cluster.passthrough.upstream_cx_total"), 0);
  EXPECT_EQ(p.stat(kOutStats + "downstream_cx_total"), 1);  // no second connection to itself
}

// ---- the default chain and refusals ----------------------------------------------------------

TEST(ListenerChainsTest, DefaultChainTakesAnUnmatchedConnection) {
  TcpEchoServer e1;
  TcpEchoServer dflt;
  Proxy p(bootstrap(listener("l", "127.0.0.1", 0,
                             chains({tcpChain("prefix_ranges: [{address_prefix: 10.0.0.0, prefix_len: 8}]", "e1", "a")}) +
                                 "    default_filter_chain: " + tcpChain("", "dflt", "d") + "\n"),
                    cluster("e1", e1.port()) + cluster("dflt", dflt.port())));
  ASSERT_PROXY(p);
  EXPECT_EQ(echoThrough("127.0.0.1", p.port("l"), "by default"), "by default");
  EXPECT_EQ(e1.accepted(), 0u);
  EXPECT_EQ(dflt.accepted(), 1u);
  EXPECT_TRUE(p.waitStat("tcp.d.downstream_cx_total", 1));
  EXPECT_EQ(p.stat(kOutStats + "no_filter_chain_match"), 0);
}

std::string unmatchedYaml(const std::string& direction, uint16_t e1) {
  return bootstrap(listener("l", "127.0.0.1", 0,
                            (direction.empty() ? std::string() : "    traffic_direction: " + direction + "\n") +
                                chains({tcpChain("prefix_ranges: [{address_prefix: 10.0.0.0, prefix_len: 8}]", "e1",
                                                 "a")})),
                   cluster("e1", e1));
}

TEST(ListenerChainsTest, NoDefaultChainOnAnInboundListenerClosesWithoutEgressCounters) {
  for (const std::string direction : {"INBOUND", ""}) {
    SCOPED_TRACE("traffic_direction " + (direction.empty() ? std::string("unset") : direction));
    TcpEchoServer e1;
    Proxy p(unmatchedYaml(direction, e1.port()));
    ASSERT_PROXY(p);
    Fd fd = connectTo("127.0.0.1", p.port("l"));
    ASSERT_TRUE(fd.valid());
    writeAll(fd.get(), "anyone?");
    EXPECT_TRUE(closedWithoutBytes(fd.get()));
    EXPECT_TRUE(p.waitStat(kOutStats + "no_filter_chain_match", 1));
    EXPECT_EQ(p.stat(kOutStats + "egress_denied_tcp"), 0);
    EXPECT_EQ(p.stat(kOutStats + "egress_denied_tls"), 0);
    EXPECT_EQ(p.stat(kOutStats + "egress_denied_http"), 0);
    EXPECT_EQ(e1.accepted(), 0u);
  }
}

TEST(ListenerChainsTest, NoDefaultChainOnAnOutboundListenerCountsTcpEgressDenied) {
  TcpEchoServer e1;
  Proxy p(unmatchedYaml("OUTBOUND", e1.port()));
  ASSERT_PROXY(p);
  Fd fd = connectTo("127.0.0.1", p.port("l"));
  ASSERT_TRUE(fd.valid());
  EXPECT_TRUE(closedWithoutBytes(fd.get()));
  EXPECT_TRUE(p.waitStat(kOutStats + "no_filter_chain_match", 1));
  EXPECT_TRUE(p.waitStat(kOutStats + "egress_denied_tcp", 1));
  EXPECT_EQ(p.stat(kOutStats + "egress_denied_tls"), 0);
  EXPECT_EQ(e1.accepted(), 0u);
}

// ---- use_original_dst and bind_to_port: false ------------------------------------------------

// The hand-off itself needs iptables (the netns e2e test); here: the config is accepted, the
// unbound listener opens no port, the binding one serves its own chain.
TEST(ListenerChainsTest, UnboundListenerOpensNoPort) {
  TcpEchoServer app;
  const ReservedPort unbound_held;
  const uint16_t unbound = unbound_held.port();
  ASSERT_NE(unbound, 0);
  Proxy p(bootstrap(listener("outbound", "127.0.0.1", 0,
                             "    use_original_dst: true\n    listener_filters: [{name: "
                             "envoy.filters.listener.original_dst}]\n" +
                                 chains({tcpChain("", "app", "out")})) +
                        listener("virtual", "127.0.0.1", unbound,
                                 "    bind_to_port: false\n" + chains({tcpChain("", "app", "virtual")})),
                    cluster("app", app.port())));
  ASSERT_PROXY(p);
  EXPECT_EQ(p.port("virtual"), unbound);  // listed, with its configured address
  int error = 0;
  Fd fd = connectTo("127.0.0.1", unbound, &error);
  EXPECT_FALSE(fd.valid()) << "something listens on the unbound listener's port";
  EXPECT_EQ(error, ECONNREFUSED);

  // A connection to the bound listener that was not redirected stays with its own chain.
  EXPECT_EQ(echoThrough("127.0.0.1", p.port("outbound"), "direct"), "direct");
  EXPECT_TRUE(p.waitStat("tcp.out.downstream_cx_total", 1));
  EXPECT_EQ(p.stat("tcp.virtual.downstream_cx_total"), 0);
  EXPECT_EQ(p.stat("listener.127.0.0.1_0.original_dst_handoff"), 0);
}

}  // namespace
}  // namespace trellis::tests
