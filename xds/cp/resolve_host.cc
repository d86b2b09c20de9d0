// getaddrinfo for serviceDiscovery.dns hostnames (see resolve_host.h).
#include "xds/cp/resolve_host.h"

#include <netdb.h>
#include <sys/socket.h>

#include <set>

namespace trellis::cp {

absl::StatusOr<std::vector<std::string>> resolveHost(const std::string& host) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  int rc = getaddrinfo(host.c_str(), nullptr, &hints, &res);
  if (rc != 0) return absl::NotFoundError("cannot resolve '" + host + "': " + gai_strerror(rc));
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (addrinfo* a = res; a; a = a->ai_next) {
    char buf[NI_MAXHOST];
    if (getnameinfo(a->ai_addr, a->ai_addrlen, buf, sizeof(buf), nullptr, 0, NI_NUMERICHOST) == 0 &&
        seen.insert(buf).second) {
      out.emplace_back(buf);
    }
  }
  freeaddrinfo(res);
  if (out.empty()) return absl::NotFoundError("'" + host + "' has no addresses");
  return out;
}

}  // namespace trellis::cp
