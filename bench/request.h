// The one request a trellis-load run sends over and over, built once as bytes.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "bench/target.h"

namespace trellis::bench {

struct RequestSpec {
  std::string method = "GET";
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers, in order
  size_t bodySize = 0;  // bytes of body ('x'), sent with Content-Length
};

// Parses one --header argument, "Name: value".
absl::StatusOr<std::pair<std::string, std::string>> parseHeader(absl::string_view arg);

// Request line, Host (unless given in spec.headers), the extra headers, Content-Length when
// there is a body, the body.
std::string buildRequest(const Target& target, const RequestSpec& spec);

}  // namespace trellis::bench
