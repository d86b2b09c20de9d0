// What is known about an accepted connection before a filter chain is chosen: its addresses
// (the local one restored to the original destination when iptables redirected it) and what
// the TLS inspector read from a ClientHello. Filter-chain selection reads it, and the session
// keeps it: the ORIGINAL_DST cluster connects to `local`, egress refusals name it.
#pragma once

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

}  // namespace trellis::proxy
