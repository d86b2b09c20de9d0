// Chooses a listener's filter chain for a connection, in Envoy's order: destination port, then
// destination IP (longest prefix), then server name (exact, then the longest wildcard suffix),
// then transport protocol, then application protocols. At each step the chains with the most
// specific match go on; if none matches specifically, the chains without that criterion do. If
// no chain is left, the default_filter_chain, else none (the connection is closed).
#pragma once

#include <cstdint>
#include <optional>

#include "proxy/net/connection_facts.h"
#include "proxy/snapshot/snapshot.h"

namespace trellis::proxy {

// An index into listener.filter_chains, or nullopt when no chain matches and there is no
// default chain.
std::optional<uint32_t> selectFilterChain(const Listener& listener, const ConnectionFacts& facts);

// Whether the choice for a connection with these addresses could still depend on what the TLS
// inspector finds: false when every chain left after the port and IP steps ignores server
// names, transport and application protocols. The inspector is then skipped, which also keeps
// server-first protocols (SMTP, MySQL) from waiting for a ClientHello that never comes.
bool selectionNeedsTls(const Listener& listener, const ConnectionFacts& facts);

// Server-name matching as Envoy does it: exact, or "*.suffix" matching any name that ends in
// ".suffix" (at least one label before it). Both lower-case.
bool serverNameMatches(std::string_view pattern, std::string_view name);

}  // namespace trellis::proxy
