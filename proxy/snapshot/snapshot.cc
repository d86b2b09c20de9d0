// Lookups on a compiled snapshot.
#include "proxy/snapshot/snapshot.h"

namespace trellis::proxy {

const Listener* Snapshot::findListener(const std::string& name) const {
  for (const auto& l : listeners) {
    if (l->name == name) return l.get();
  }
  return nullptr;
}

}  // namespace trellis::proxy
