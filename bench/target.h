// Target: the --url of trellis-load, parsed. Only plain http to a literal IPv4 or IPv6 address
// or "localhost": a benchmark should not measure a resolver or a TLS handshake.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace trellis::bench {

struct Target {
  std::string address;     // literal address to connect to ("127.0.0.1", "::1")
  uint16_t port = 80;
  std::string hostHeader;  // value of the Host header: authority as written in the URL
  std::string path = "/";  // path and query, starting with '/'
};

// Accepts http://HOST[:PORT][/PATH] with HOST an IPv4 literal, [IPv6 literal] or localhost
// (which means 127.0.0.1).
absl::StatusOr<Target> parseTarget(absl::string_view url);

}  // namespace trellis::bench
