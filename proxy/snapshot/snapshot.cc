// Lookups on a compiled snapshot and on its value types (CIDR ranges).
#include "proxy/snapshot/snapshot.h"

#include <algorithm>
#include <array>

namespace trellis::proxy {
namespace {

// An IPv4-mapped IPv6 address (::ffff:a.b.c.d, what a dual-stack socket reports for an IPv4
// peer) as the IPv4 address it stands for.
boost::asio::ip::address unmapped(const boost::asio::ip::address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped()) {
    return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, a.to_v6());
  }
  return a;
}

// Whether the first `bits` bits of two equally long big-endian byte arrays agree.
template <size_t N>
bool samePrefix(const std::array<unsigned char, N>& x, const std::array<unsigned char, N>& y, unsigned bits) {
  bits = std::min<unsigned>(bits, N * 8);
  const unsigned whole = bits / 8;
  if (!std::equal(x.begin(), x.begin() + whole, y.begin())) return false;
  const unsigned rest = bits % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<unsigned char>(0xff << (8 - rest));
  return (x[whole] & mask) == (y[whole] & mask);
}

}  // namespace

bool CidrRange::contains(const boost::asio::ip::address& a) const {
  // A range written as ::ffff:a.b.c.d/N (N >= 96) is the IPv4 range a.b.c.d/(N - 96).
  boost::asio::ip::address range = address;
  unsigned bits = prefix_len;
  if (range.is_v6() && range.to_v6().is_v4_mapped() && bits >= 96) {
    range = unmapped(range);
    bits -= 96;
  }
  const boost::asio::ip::address candidate = unmapped(a);
  if (range.is_v4() != candidate.is_v4()) return false;
  if (range.is_v4()) return samePrefix(range.to_v4().to_bytes(), candidate.to_v4().to_bytes(), bits);
  return samePrefix(range.to_v6().to_bytes(), candidate.to_v6().to_bytes(), bits);
}

const Listener* Snapshot::findListener(const std::string& name) const {
  for (const auto& l : listeners) {
    if (l->name == name) return l.get();
  }
  return nullptr;
}

const Listener* Snapshot::findHandoffListener(const boost::asio::ip::tcp::endpoint& destination,
                                              const Listener* self) const {
  const Listener* wildcard = nullptr;
  for (const auto& l : listeners) {
    if (l.get() == self || l->address.port() != destination.port()) continue;
    if (l->address.address() == destination.address()) return l.get();
    if (l->address.address().is_unspecified() && l->address.address().is_v4() == destination.address().is_v4()) {
      wildcard = l.get();
    }
  }
  return wildcard;
}

}  // namespace trellis::proxy
