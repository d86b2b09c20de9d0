// A parsed HTTP/1.x head as the tests see it: start line plus header fields in order.
//
// This parser is deliberately independent of the proxy's (llhttp) so that the tests check the
// proxy's bytes with a second opinion. It accepts only what a correct proxy must send:
// CRLF line ends, "name: value" fields, no obs-fold.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace trellis::tests {

struct HttpHead {
  std::string start_line;  // "HTTP/1.1 200 OK" or "GET /path HTTP/1.1"
  std::vector<std::pair<std::string, std::string>> headers;  // names as received

  // First value of a header (names compare case-insensitively), or nullptr.
  const std::string* find(std::string_view name) const;
  bool has(std::string_view name) const { return find(name) != nullptr; }
  size_t count(std::string_view name) const;
  // Whether any value of `name`, as a comma-separated list, holds `token` (case-insensitive).
  bool hasToken(std::string_view name, std::string_view token) const;
};

// Parses `raw`, which ends with the empty line. False when it is not a well-formed head.
bool parseHttpHead(std::string_view raw, HttpHead& out);

bool equalsNoCase(std::string_view a, std::string_view b);
std::string toLower(std::string_view s);

}  // namespace trellis::tests
