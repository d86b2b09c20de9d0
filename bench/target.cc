// URL parsing for trellis-load's --url.
#include "bench/target.h"

#include <arpa/inet.h>

#include <charconv>

#include "absl/strings/str_cat.h"

namespace trellis::bench {

namespace {

bool isIpv4(const std::string& s) {
  in_addr a;
  return inet_pton(AF_INET, s.c_str(), &a) == 1;
}

bool isIpv6(const std::string& s) {
  in6_addr a;
  return inet_pton(AF_INET6, s.c_str(), &a) == 1;
}

}  // namespace

absl::StatusOr<Target> parseTarget(absl::string_view url) {
  constexpr absl::string_view kScheme = "http://";
  if (url.substr(0, kScheme.size()) != kScheme) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--url '", url, "': only http:// URLs are supported (e.g. http://127.0.0.1:8080/)"));
  }
  absl::string_view rest = url.substr(kScheme.size());
  const size_t slash = rest.find_first_of("/?");
  absl::string_view authority = rest.substr(0, slash);
  Target target;
  if (slash != absl::string_view::npos) {
    target.path = std::string(rest.substr(slash));
    if (target.path[0] == '?') target.path = "/" + target.path;
  }
  target.hostHeader = std::string(authority);
  absl::string_view host = authority;
  absl::string_view port;
  if (!authority.empty() && authority[0] == '[') {
    const size_t close = authority.find(']');
    if (close == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("--url '", url, "': unterminated '[' in an IPv6 address"));
    }
    host = authority.substr(1, close - 1);
    absl::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') {
        return absl::InvalidArgumentError(
            absl::StrCat("--url '", url, "': expected ':PORT' after ']'"));
      }
      port = after.substr(1);
    }
  } else {
    const size_t colon = authority.rfind(':');
    if (colon != absl::string_view::npos) {
      host = authority.substr(0, colon);
      port = authority.substr(colon + 1);
    }
  }
  if (!port.empty()) {
    unsigned value = 0;
    auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || ptr != port.data() + port.size() || value == 0 || value > 65535) {
      return absl::InvalidArgumentError(
          absl::StrCat("--url '", url, "': port '", port, "' is not in 1..65535"));
    }
    target.port = static_cast<uint16_t>(value);
  }
  const std::string hostStr(host);
  if (hostStr == "localhost") {
    target.address = "127.0.0.1";
  } else if (isIpv4(hostStr) || (authority[0] == '[' && isIpv6(hostStr))) {
    target.address = hostStr;
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "--url '", url, "': host '", host,
        "' must be an IPv4 literal, a bracketed IPv6 literal or localhost (no name lookups)"));
  }
  return target;
}

}  // namespace trellis::bench
