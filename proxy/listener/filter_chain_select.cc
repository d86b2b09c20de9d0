// Envoy's filter_chain_match order as a sequence of narrowing steps over the listener's chains:
// each step keeps the most specific matches, or else the chains that leave the criterion unset.
#include "proxy/listener/filter_chain_select.h"

#include <algorithm>
#include <string_view>
#include <vector>

namespace trellis::proxy {
namespace {

using Candidates = std::vector<uint32_t>;

const FilterChainMatch& matchOf(const Listener& listener, uint32_t index) {
  return listener.filter_chains[index].match;
}

// Every chain but the default one, in config order.
Candidates allCandidates(const Listener& listener) {
  Candidates out;
  out.reserve(listener.filter_chains.size());
  for (uint32_t i = 0; i < listener.filter_chains.size(); ++i) {
    if (listener.default_filter_chain && *listener.default_filter_chain == i) continue;
    out.push_back(i);
  }
  return out;
}

// Keeps the candidates `pred` accepts; the order is unchanged.
template <typename Pred>
Candidates keep(const Candidates& in, Pred pred) {
  Candidates out;
  for (uint32_t i : in) {
    if (pred(i)) out.push_back(i);
  }
  return out;
}

// Keeps the candidates with the highest score; a negative score means no match. Returns the
// empty set when nothing scored.
template <typename Score>
Candidates keepBest(const Candidates& in, Score score) {
  int best = -1;
  for (uint32_t i : in) best = std::max(best, score(i));
  if (best < 0) return {};
  return keep(in, [&](uint32_t i) { return score(i) == best; });
}

Candidates byDestinationPort(const Listener& listener, const Candidates& in, uint16_t port) {
  Candidates out = keep(in, [&](uint32_t i) { return matchOf(listener, i).destination_port == port; });
  if (!out.empty()) return out;
  return keep(in, [&](uint32_t i) { return !matchOf(listener, i).destination_port.has_value(); });
}

Candidates byDestinationIp(const Listener& listener, const Candidates& in, const boost::asio::ip::address& address) {
  Candidates out = keepBest(in, [&](uint32_t i) {
    int longest = -1;
    for (const CidrRange& range : matchOf(listener, i).prefix_ranges) {
      if (range.contains(address)) longest = std::max(longest, int{range.prefix_len});
    }
    return longest;
  });
  if (!out.empty()) return out;
  return keep(in, [&](uint32_t i) { return matchOf(listener, i).prefix_ranges.empty(); });
}

bool isWildcard(std::string_view pattern) { return pattern.starts_with("*."); }

Candidates byServerName(const Listener& listener, const Candidates& in, std::string_view sni) {
  if (!sni.empty()) {
    Candidates out = keep(in, [&](uint32_t i) {
      const auto& names = matchOf(listener, i).server_names;
      return std::any_of(names.begin(), names.end(),
                         [&](const std::string& n) { return !isWildcard(n) && n == sni; });
    });
    if (!out.empty()) return out;
    out = keepBest(in, [&](uint32_t i) {
      int longest = -1;
      for (const std::string& n : matchOf(listener, i).server_names) {
        if (isWildcard(n) && serverNameMatches(n, sni)) longest = std::max(longest, static_cast<int>(n.size()));
      }
      return longest;
    });
    if (!out.empty()) return out;
  }
  return keep(in, [&](uint32_t i) { return matchOf(listener, i).server_names.empty(); });
}

Candidates byTransportProtocol(const Listener& listener, const Candidates& in, bool tls) {
  const std::string_view transport = tls ? "tls" : "raw_buffer";
  Candidates out = keep(in, [&](uint32_t i) { return matchOf(listener, i).transport_protocol == transport; });
  if (!out.empty()) return out;
  return keep(in, [&](uint32_t i) { return matchOf(listener, i).transport_protocol.empty(); });
}

Candidates byApplicationProtocols(const Listener& listener, const Candidates& in, const std::vector<std::string>& alpn) {
  // The connection's first protocol that any chain lists decides.
  for (const std::string& proto : alpn) {
    Candidates out = keep(in, [&](uint32_t i) {
      const auto& protos = matchOf(listener, i).application_protocols;
      return std::find(protos.begin(), protos.end(), proto) != protos.end();
    });
    if (!out.empty()) return out;
  }
  return keep(in, [&](uint32_t i) { return matchOf(listener, i).application_protocols.empty(); });
}

// Steps 1 and 2, which need only the addresses.
Candidates byAddresses(const Listener& listener, const ConnectionFacts& facts) {
  Candidates c = byDestinationPort(listener, allCandidates(listener), facts.local.port());
  if (c.empty()) return c;
  return byDestinationIp(listener, c, facts.local.address());
}

}  // namespace

std::optional<uint32_t> selectFilterChain(const Listener& listener, const ConnectionFacts& facts) {
  Candidates c = byAddresses(listener, facts);
  if (!c.empty()) c = byServerName(listener, c, facts.sni);
  if (!c.empty()) c = byTransportProtocol(listener, c, facts.tls);
  if (!c.empty()) c = byApplicationProtocols(listener, c, facts.alpn);
  if (c.empty()) return listener.default_filter_chain;
  return c.front();
}

bool selectionNeedsTls(const Listener& listener, const ConnectionFacts& facts) {
  const Candidates c = byAddresses(listener, facts);
  return std::any_of(c.begin(), c.end(), [&](uint32_t i) {
    const FilterChainMatch& m = matchOf(listener, i);
    return !m.server_names.empty() || !m.transport_protocol.empty() || !m.application_protocols.empty();
  });
}

bool serverNameMatches(std::string_view pattern, std::string_view name) {
  if (pattern == "*") return false;
  if (!isWildcard(pattern)) return pattern == name;
  const std::string_view suffix = pattern.substr(1);  // ".example.com"
  return name.size() > suffix.size() && name.ends_with(suffix);
}

}  // namespace trellis::proxy
