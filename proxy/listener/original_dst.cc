// SO_ORIGINAL_DST / IP6T_SO_ORIGINAL_DST: the address the client connected to before the nat
// table's REDIRECT rewrote it to the proxy's port.
#include "proxy/listener/original_dst.h"

#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6/ip6_tables.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>

namespace trellis::proxy {

namespace ip = boost::asio::ip;

std::optional<ip::tcp::endpoint> originalDestination(ip::tcp::socket& socket) {
  boost::system::error_code ec;
  const auto local = socket.local_endpoint(ec);
  if (ec) return std::nullopt;
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  const int fd = socket.native_handle();
  // An IPv4 connection on a dual-stack IPv6 socket has a v4-mapped local address and its NAT
  // entry in the IPv4 table.
  const bool v6 = local.address().is_v6() && !local.address().to_v6().is_v4_mapped();
  const int rc = v6 ? ::getsockopt(fd, SOL_IPV6, IP6T_SO_ORIGINAL_DST, &ss, &len)
                    : ::getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, &ss, &len);
  if (rc != 0) return std::nullopt;
  if (ss.ss_family == AF_INET) {
    sockaddr_in sin;
    std::memcpy(&sin, &ss, sizeof(sin));
    ip::address_v4 a(ntohl(sin.sin_addr.s_addr));
    ip::tcp::endpoint ep(a, ntohs(sin.sin_port));
    // Without a NAT entry some kernels answer with the socket's own address: not a redirect.
    if (ep == local) return std::nullopt;
    return ep;
  }
  if (ss.ss_family == AF_INET6) {
    sockaddr_in6 sin6;
    std::memcpy(&sin6, &ss, sizeof(sin6));
    ip::address_v6::bytes_type bytes;
    std::memcpy(bytes.data(), sin6.sin6_addr.s6_addr, bytes.size());
    ip::tcp::endpoint ep(ip::address_v6(bytes, sin6.sin6_scope_id), ntohs(sin6.sin6_port));
    if (ep == local) return std::nullopt;
    return ep;
  }
  return std::nullopt;
}

}  // namespace trellis::proxy
