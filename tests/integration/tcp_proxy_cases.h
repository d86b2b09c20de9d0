// The tcp_proxy scenarios, written once over any proxy harness `H` with `uint16_t port()` (the
// tcp_proxy listener), `int64_t stat(name)` (summed, -1 when absent) and
// `std::string listenerStat(stat)` (the full name of one of that listener's stats): tcp_proxy_test runs
// them against the whole proxy from an Envoy bootstrap, tcp_proxy_session_test against a bare
// worker running TcpProxySession on a hand-built snapshot. Client sockets are blocking with
// timeouts, so a proxy bug fails a read instead of hanging a test; nothing sleeps to
// synchronise (waits are on events, or bounded polling of stats).
#pragma once

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "tests/support/byte_pattern.h"
#include "tests/support/socket_util.h"
#include "tests/support/tcp_echo_server.h"

namespace trellis::tests::tcp_cases {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

// This process's VmRSS in bytes, -1 if unreadable (the proxy under test runs in-process).
inline int64_t residentBytes() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6)) * 1024;
  }
  return -1;
}

inline Fd connectClient(uint16_t port, milliseconds timeout = milliseconds(10000)) {
  Fd fd = connectLoopback(port);
  if (fd.valid()) setTimeouts(fd.get(), timeout);
  return fd;
}

// Reads exactly `n` bytes (false on EOF, error or timeout first).
inline bool readExactly(int fd, size_t n, std::string& out) {
  out.clear();
  char buf[16384];
  while (out.size() < n) {
    ssize_t got = ::recv(fd, buf, std::min(sizeof(buf), n - out.size()), 0);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    out.append(buf, static_cast<size_t>(got));
  }
  return true;
}

enum class End { Eof, Reset, Timeout };
// Reads until the peer ends the stream; what arrived before goes to `got`.
inline End readToEnd(int fd, std::string& got) {
  char buf[16384];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) return End::Eof;
    if (n < 0) return (errno == EAGAIN || errno == EWOULDBLOCK) ? End::Timeout : End::Reset;
    got.append(buf, static_cast<size_t>(n));
  }
}

template <class Fn>
bool waitUntilTrue(Fn fn, milliseconds timeout = milliseconds(10000)) {
  const auto until = Clock::now() + timeout;
  while (!fn()) {
    if (Clock::now() >= until) return false;
    std::this_thread::sleep_for(milliseconds(2));  // bounded polling, not synchronisation
  }
  return true;
}

// One echoed round trip on a fresh connection, then a close.
inline bool roundTrip(uint16_t port, const std::string& msg) {
  Fd c = connectClient(port);
  if (!c.valid() || !writeAll(c.get(), msg)) return false;
  std::string back;
  return readExactly(c.get(), msg.size(), back) && back == msg;
}

// 1 MiB each way through an echo upstream, checked byte by byte, and every byte counted.
template <class H>
void bytesBothWays(H& proxy, TcpEchoServer& echo) {
  constexpr size_t kBytes = 1 << 20;
  Fd c = connectClient(proxy.port());
  ASSERT_TRUE(c.valid());
  bool wrote = false;
  std::thread writer([&] {
    std::vector<char> block(16384);
    bool ok = true;
    for (size_t off = 0; off < kBytes && ok; off += block.size()) {
      fillPattern(block.data(), block.size(), off);
      ok = writeAll(c.get(), std::string_view(block.data(), block.size()));
    }
    wrote = ok;
  });
  PatternCheck check;
  char buf[16384];
  while (check.bytes() < kBytes) {
    ssize_t n = ::recv(c.get(), buf, sizeof(buf), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    check.feed(std::string_view(buf, static_cast<size_t>(n)));
  }
  writer.join();
  ASSERT_TRUE(wrote);
  EXPECT_EQ(check.bytes(), kBytes);
  EXPECT_EQ(check.mismatches(), 0u);
  // The client's FIN reaches the echo server, which closes: the client sees EOF.
  ::shutdown(c.get(), SHUT_WR);
  std::string rest;
  EXPECT_EQ(readToEnd(c.get(), rest), End::Eof);
  EXPECT_TRUE(rest.empty());
  EXPECT_TRUE(echo.waitEofs(1));
  EXPECT_EQ(echo.bytesReceived(), kBytes);

  const int64_t n = static_cast<int64_t>(kBytes);
  EXPECT_TRUE(waitUntilTrue([&] { return proxy.stat("tcp.t.downstream_cx_tx_bytes_total") == n; }))
      << proxy.stat("tcp.t.downstream_cx_tx_bytes_total");
  EXPECT_EQ(proxy.stat("tcp.t.downstream_cx_total"), 1);
  EXPECT_EQ(proxy.stat("tcp.t.downstream_cx_rx_bytes_total"), n);
  EXPECT_EQ(proxy.stat("cluster.c.upstream_cx_tx_bytes_total"), n);
  EXPECT_EQ(proxy.stat("cluster.c.upstream_cx_rx_bytes_total"), n);
  EXPECT_EQ(proxy.stat("cluster.c.upstream_cx_total"), 1);
  // The session ends once both directions are done; the gauges come back to zero.
  EXPECT_TRUE(waitUntilTrue([&] { return proxy.stat("cluster.c.upstream_cx_active") == 0; }));
  EXPECT_TRUE(waitUntilTrue([&] { return proxy.stat(proxy.listenerStat("downstream_cx_active")) == 0; }))
      << proxy.stat(proxy.listenerStat("downstream_cx_active"));
  EXPECT_EQ(proxy.stat(proxy.listenerStat("downstream_cx_destroy")), 1);
}

// A server-first protocol: the greeting arrives though the client sends nothing.
template <class H>
void serverFirst(H& proxy) {
  Fd c = connectClient(proxy.port());
  ASSERT_TRUE(c.valid());
  std::string got;
  ASSERT_TRUE(readExactly(c.get(), 11, got));
  EXPECT_EQ(got, "220 hello\r\n");
}

// Client half-close: the upstream sees EOF, still answers, and then the client sees EOF.
template <class H>
void clientHalfClose(H& proxy, TcpEchoServer& sink) {
  Fd c = connectClient(proxy.port());
  ASSERT_TRUE(c.valid());
  ASSERT_TRUE(writeAll(c.get(), "request"));
  ASSERT_EQ(::shutdown(c.get(), SHUT_WR), 0);
  ASSERT_TRUE(sink.waitEofs(1));
  EXPECT_EQ(sink.bytesReceived(), 7u);
  std::string got;
  EXPECT_EQ(readToEnd(c.get(), got), End::Eof);
  EXPECT_EQ(got, "reply after eof");
}

// The upstream closes first: the client gets its bytes, then EOF.
template <class H>
void upstreamClose(H& proxy) {
  Fd c = connectClient(proxy.port());
  ASSERT_TRUE(c.valid());
  std::string got;
  EXPECT_EQ(readToEnd(c.get(), got), End::Eof);
  EXPECT_EQ(got, "bye\n");
}

// weighted_clusters 80/20 over `connections` connections: each side's share within 5
// binomial standard deviations.
template <class H>
void weightedSplit(H& proxy, TcpEchoServer& heavy, TcpEchoServer& light, int connections = 500) {
  for (int i = 0; i < connections; ++i) ASSERT_TRUE(roundTrip(proxy.port(), "x")) << "connection " << i;
  ASSERT_TRUE(heavy.waitEofs(heavy.accepted()));
  ASSERT_TRUE(light.waitEofs(light.accepted()));
  const double sd = std::sqrt(connections * 0.8 * 0.2);
  const double tolerance = 5 * sd;
  EXPECT_EQ(heavy.accepted() + light.accepted(), static_cast<uint64_t>(connections));
  EXPECT_NEAR(static_cast<double>(heavy.accepted()), 0.8 * connections, tolerance);
  EXPECT_NEAR(static_cast<double>(light.accepted()), 0.2 * connections, tolerance);
  EXPECT_EQ(proxy.stat("tcp.t.downstream_cx_total"), connections);
}

// Hosts [dead, alive], round robin, max_connect_attempts 2: every connection works, some
// after a failed first attempt on the dead host.
template <class H>
void connectFailureRetried(H& proxy, TcpEchoServer& alive, int connections = 4) {
  for (int i = 0; i < connections; ++i) ASSERT_TRUE(roundTrip(proxy.port(), "hello")) << "connection " << i;
  EXPECT_EQ(alive.accepted(), static_cast<uint64_t>(connections));
  const int64_t fails = proxy.stat("cluster.c.upstream_cx_connect_fail");
  EXPECT_GE(fails, 1);
  EXPECT_LE(fails, connections);
  EXPECT_EQ(proxy.stat("cluster.c.upstream_cx_total"), connections + fails);
}

// Every host dead: the client's connection closes and no byte reaches it.
template <class H>
void allHostsDead(H& proxy) {
  Fd c = connectClient(proxy.port());
  ASSERT_TRUE(c.valid());
  writeAll(c.get(), "anyone?");  // may fail once the proxy closed
  std::string got;
  const End end = readToEnd(c.get(), got);
  EXPECT_NE(end, End::Timeout);
  EXPECT_TRUE(got.empty());
  EXPECT_TRUE(waitUntilTrue([&] { return proxy.stat("cluster.c.upstream_cx_connect_fail") == 2; }))
      << proxy.stat("cluster.c.upstream_cx_connect_fail");
  EXPECT_EQ(proxy.stat("cluster.c.upstream_cx_active"), 0);
}

// idle_timeout 200ms: an idle connection is closed (bounded), and counted.
template <class H>
void idleTimeout(H& proxy) {
  Fd c = connectClient(proxy.port(), milliseconds(5000));
  ASSERT_TRUE(c.valid());
  ASSERT_TRUE(writeAll(c.get(), "ping"));
  std::string got;
  ASSERT_TRUE(readExactly(c.get(), 4, got));
  const auto idle_from = Clock::now();
  std::string rest;
  EXPECT_EQ(readToEnd(c.get(), rest), End::Eof);
  const auto waited = std::chrono::duration_cast<milliseconds>(Clock::now() - idle_from);
  EXPECT_GE(waited.count(), 150);
  EXPECT_LT(waited.count(), 3000);
  EXPECT_TRUE(waitUntilTrue([&] { return proxy.stat("tcp.t.idle_timeout") == 1; }));
}

// An upstream that never reads: the client's writes block long before 64 MiB, and the
// process (proxy included) does not grow by what was written.
template <class H>
void backpressure(H& proxy, TcpEchoServer& stuck) {
  constexpr size_t kTotal = 64u << 20;
  Fd c = connectClient(proxy.port());
  ASSERT_TRUE(c.valid());
  int sndbuf = 64 * 1024;
  ::setsockopt(c.get(), SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
  ASSERT_TRUE(stuck.waitAccepted(1));
  const int64_t rss_before = residentBytes();
  std::vector<char> block(64 * 1024);
  fillPattern(block.data(), block.size(), 0);
  size_t written = 0;
  bool blocked = false;
  while (written < kTotal) {
    ssize_t n = ::send(c.get(), block.data(), block.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) {
      written += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    ASSERT_TRUE(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) << "send failed, errno " << errno;
    // Full. Blocked for good when it stays unwritable for a while (every buffer on the way is
    // full and the proxy reads no more).
    pollfd p{c.get(), POLLOUT, 0};
    if (::poll(&p, 1, 500) == 0) {
      blocked = true;
      break;
    }
  }
  EXPECT_TRUE(blocked) << "the client wrote all " << written << " bytes: the proxy buffered them";
  EXPECT_LT(written, kTotal / 2);
  const int64_t rss_after = residentBytes();
  if (rss_before > 0 && rss_after > 0) {
    EXPECT_LT(rss_after - rss_before, int64_t{16} << 20);
  }
  EXPECT_LT(proxy.stat("tcp.t.downstream_cx_rx_bytes_total"), static_cast<int64_t>(written) + 1);
}

}  // namespace trellis::tests::tcp_cases
