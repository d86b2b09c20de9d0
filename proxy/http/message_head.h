// The parsed head of an HTTP/1.x request or response, as views into the connection's buffer.
//
// Names and values are stored as offsets into the buffer the parser was fed, not as pointers,
// so the buffer may grow (and move) while a long head is still arriving. `bind()` turns them
// into string_views once the head is complete; those views are valid until the buffer is
// compacted, which happens only after the message is done. Capacity is reserved once per
// connection, so parsing a request allocates nothing in steady state.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace trellis::proxy::http {

struct Span {
  uint32_t offset = 0;
  uint32_t length = 0;
};

struct HeaderField {
  std::string_view name;   // as received (case preserved)
  std::string_view value;  // leading/trailing whitespace removed by the parser
};

struct MessageHead {
  // Request: method and target. Response: status and reason.
  std::string_view method;
  std::string_view target;
  uint16_t status = 0;
  std::string_view reason;
  uint8_t version_major = 1;
  uint8_t version_minor = 1;
  std::vector<HeaderField> headers;

  // Framing, filled in from the parser once the head is complete.
  bool keep_alive = true;
  bool chunked = false;
  bool has_content_length = false;
  uint64_t content_length = 0;
  bool upgrade = false;

  void clear() {
    method = target = reason = {};
    status = 0;
    headers.clear();
    keep_alive = true;
    chunked = has_content_length = upgrade = false;
    content_length = 0;
  }

  // Frees the header list's capacity (for idle connections).
  void releaseMemory() {
    clear();
    std::vector<HeaderField>().swap(headers);
  }

  // First header of that name (ASCII case-insensitive), or nullptr.
  const HeaderField* find(std::string_view name) const;
  // Path without the query string.
  std::string_view pathOnly() const {
    auto q = target.find('?');
    return q == std::string_view::npos ? target : target.substr(0, q);
  }
  bool isHttp10() const { return version_major == 1 && version_minor == 0; }
};

bool equalsIgnoreCase(std::string_view a, std::string_view b);
bool startsWithIgnoreCase(std::string_view s, std::string_view prefix);
bool endsWithIgnoreCase(std::string_view s, std::string_view suffix);
// Whether a comma-separated header value contains `token` (case-insensitive), e.g. Connection.
bool hasToken(std::string_view list, std::string_view token);

}  // namespace trellis::proxy::http
