// How trellis-cp resolves serviceDiscovery.dns hostnames: the system resolver (getaddrinfo),
// every distinct address in its order. Shared by the mesh builder and `trellis-cp explain`.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace trellis::cp {

// The IP literals `host` resolves to; NotFound (naming the host) when it does not resolve.
absl::StatusOr<std::vector<std::string>> resolveHost(const std::string& host);

}  // namespace trellis::cp
