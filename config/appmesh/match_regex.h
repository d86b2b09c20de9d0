// RE2 expressions for the App Mesh matches trellis-proxy has no matcher of its own for: a header
// integer range (App Mesh's `range`, Envoy's range_match) and a query parameter (App Mesh's
// queryParameters, matched on the request target). Both are used as safe_regex matchers, which
// Envoy and trellis-proxy apply to the whole value. Internal to //config/appmesh:translate.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace trellis::config::appmesh::internal {

// Matches the decimal integers n with start <= n < end (App Mesh excludes the end), written as
// Envoy parses them: an optional sign ('-', or '+' for n >= 0) and any number of leading zeros.
// Requires start < end.
std::string integerRangeRegex(int64_t start, int64_t end);

// Matches a request target ("/path?query") whose query has parameter `name`: with `exact`, whose
// value is exactly that; without, with any value or none ("?name", "?name=", "?name=x").
std::string queryParameterRegex(const std::string& name, const std::optional<std::string>& exact);

}  // namespace trellis::config::appmesh::internal
