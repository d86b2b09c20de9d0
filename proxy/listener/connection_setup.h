// What happens to an accepted connection before a session owns it: the listener filters, then
// the choice of a filter chain, then the session of that chain's network filter.
//
//   original_dst   the original destination (SO_ORIGINAL_DST) becomes the local address;
//                  with use_original_dst, a connection meant for another listener's address is
//                  handed to that listener
//   tls_inspector  the SNI and ALPN of a ClientHello, when some chain's choice depends on them
//                  (read bytes are handed to the session, which replays them)
//   select         filter_chain_match in Envoy's order, else the default chain, else the
//                  connection is closed (counted no_filter_chain_match; on an OUTBOUND
//                  listener, egress_denied_tcp or egress_denied_tls, and logged with the
//                  original destination)
//   session        RequestFlow for the HTTP connection manager, TcpProxySession for tcp_proxy
//
// startConnection is the workers' SessionFactory (set by proxy/server).
#pragma once

#include <memory>

#include <boost/asio/ip/tcp.hpp>

#include "proxy/snapshot/snapshot.h"

namespace trellis::proxy {

class Worker;

void startConnection(Worker& worker, std::shared_ptr<const Listener> listener, boost::asio::ip::tcp::socket socket);

}  // namespace trellis::proxy
