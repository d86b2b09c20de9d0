// Query strings of admin requests: `a=1&filter=cluster.x&usedonly`. Handlers ask for one
// parameter by name instead of slicing the raw string, and get it percent-decoded.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace trellis::xds::admin {

// The decoded value of the first `name` parameter in `query` (without the '?'); "" for a
// parameter given without '=' (`?usedonly`); nullopt when absent.
std::optional<std::string> queryParam(std::string_view query, std::string_view name);

// %XX sequences and '+' (a space) decoded; a malformed %-sequence is kept as it is.
std::string percentDecode(std::string_view text);

}  // namespace trellis::xds::admin
