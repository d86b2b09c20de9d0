// Building the request bytes and parsing --header.
#include "bench/request.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace trellis::bench {

absl::StatusOr<std::pair<std::string, std::string>> parseHeader(absl::string_view arg) {
  const size_t colon = arg.find(':');
  if (colon == absl::string_view::npos || colon == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--header '", arg, "': expected 'Name: value'"));
  }
  std::string name(absl::StripAsciiWhitespace(arg.substr(0, colon)));
  std::string value(absl::StripAsciiWhitespace(arg.substr(colon + 1)));
  for (char c : name) {
    const bool token = absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
                       absl::string_view("!#$%&'*+-.^_`|~").find(c) != absl::string_view::npos;
    if (!token) {
      return absl::InvalidArgumentError(
          absl::StrCat("--header '", arg, "': header name '", name, "' has a character that is not allowed in a token"));
    }
  }
  for (char c : value) {
    if (c == '\r' || c == '\n' || c == '\0') {
      return absl::InvalidArgumentError(
          absl::StrCat("--header '", arg, "': CR, LF and NUL are not allowed in a value"));
    }
  }
  return std::make_pair(std::move(name), std::move(value));
}

std::string buildRequest(const Target& target, const RequestSpec& spec) {
  std::string out;
  out.reserve(128 + spec.bodySize);
  absl::StrAppend(&out, spec.method, " ", target.path, " HTTP/1.1\r\n");
  bool hasHost = false;
  for (const auto& [name, value] : spec.headers) {
    if (absl::EqualsIgnoreCase(name, "host")) hasHost = true;
  }
  if (!hasHost) absl::StrAppend(&out, "Host: ", target.hostHeader, "\r\n");
  for (const auto& [name, value] : spec.headers) {
    absl::StrAppend(&out, name, ": ", value, "\r\n");
  }
  if (spec.bodySize > 0) absl::StrAppend(&out, "Content-Length: ", spec.bodySize, "\r\n");
  out += "\r\n";
  out.append(spec.bodySize, 'x');
  return out;
}

}  // namespace trellis::bench
