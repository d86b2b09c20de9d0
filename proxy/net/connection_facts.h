// What is known about an accepted connection before a filter chain is chosen: its addresses
// (the local one restored to the original destination when iptables redirected it) and what
// the TLS inspector read from a ClientHello. Filter-chain selection reads it, and the session
// keeps it: the ORIGINAL_DST cluster connects to `local`, egress refusals name it.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <boost/asio/ip/tcp.hpp>

namespace trellis::proxy {

struct ConnectionFacts {
  boost::asio::ip::tcp::endpoint local;   // the original destination once restored
  boost::asio::ip::tcp::endpoint remote;
  bool original_dst_restored = false;     // SO_ORIGINAL_DST answered (the kernel redirected it)
  bool tls_inspected = false;             // the TLS inspector ran on this connection
  bool tls = false;                       // transport_protocol "tls": a ClientHello was seen
  std::string sni;                        // lower-case server_name, empty if none
  std::vector<std::string> alpn;          // the ClientHello's ALPN list, in its order
};

// "ip:port", IPv6 in brackets: how logs and local replies name an address.
inline std::string endpointText(const boost::asio::ip::tcp::endpoint& ep) {
  const auto a = ep.address();
  return (a.is_v6() ? "[" + a.to_string() + "]" : a.to_string()) + ":" + std::to_string(ep.port());
}

// At most a few refusal log lines per second per worker thread: an app retrying a refused
// destination in a loop must not flood the log (the counters count every refusal).
inline bool mayLogRefusal() {
  thread_local std::chrono::steady_clock::time_point window;
  thread_local int lines = 0;
  const auto now = std::chrono::steady_clock::now();
  if (now - window > std::chrono::seconds(1)) {
    window = now;
    lines = 0;
  }
  return ++lines <= 5;
}

}  // namespace trellis::proxy
