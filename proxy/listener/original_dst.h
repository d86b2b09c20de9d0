// The original destination of a connection iptables redirected (nat REDIRECT or DNAT):
// SO_ORIGINAL_DST for IPv4, IP6T_SO_ORIGINAL_DST for IPv6. What
// envoy.filters.listener.original_dst restores as the connection's local address.
#pragma once

#include <optional>

#include <boost/asio/ip/tcp.hpp>

namespace trellis::proxy {

// nullopt when the connection was not redirected (the kernel has no NAT entry for it) or the
// socket is not TCP over IP.
std::optional<boost::asio::ip::tcp::endpoint> originalDestination(boost::asio::ip::tcp::socket& socket);

}  // namespace trellis::proxy
