// Lookups on a compiled snapshot.
#include "proxy/snapshot/snapshot.h"

namespace trellis::proxy {

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
