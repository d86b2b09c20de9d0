// The values a request's access log lines need, copied out of the connection's buffers while
// they are valid: the request head's views die once forward() starts (the buffer moves on to
// the body) and the response head's once its bytes are relayed. Only the headers the chain's
// compiled formats name are copied (HeaderNames), into storage that lives with the connection
// and is reused by every request on it, so a steady connection allocates nothing here. A chain
// without access logs never calls it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "proxy/accesslog/format.h"
#include "proxy/http/message_head.h"

namespace trellis::proxy {

class LogCapture {
 public:
  void clear();
  // The downstream request head: method, target, Host, protocol and the named headers.
  void captureRequest(const http::MessageHead& head, const accesslog::HeaderNames& names);
  // The head as sent upstream (serialized by the proxy: "GET / HTTP/1.1\r\nname: value\r\n..."),
  // whose headers replace the downstream ones: it holds the x-request-id the proxy generated and
  // the x-forwarded-for it appended, which is what Envoy's log shows.
  void captureUpstreamRequest(std::string_view serialized, const accesslog::HeaderNames& names);
  void captureResponse(const http::MessageHead& head, const accesslog::HeaderNames& names);

  // Views into this capture, valid until the next capture or clear().
  std::string_view method() const { return view(method_); }
  std::string_view path() const { return view(path_); }
  std::string_view authority() const { return view(authority_); }
  const std::vector<std::string_view>& requestHeaders();
  const std::vector<std::string_view>& responseHeaders();

 private:
  using Span = std::pair<uint32_t, uint32_t>;  // offset, length in arena_
  Span keep(std::string_view s);
  std::string_view view(Span s) const { return std::string_view(arena_).substr(s.first, s.second); }
  static void materialize(const std::string& arena, const std::vector<Span>& spans, std::vector<std::string_view>& out);

  std::string arena_;
  Span method_{}, path_{}, authority_{};
  std::vector<Span> request_, response_;
  std::vector<std::string_view> request_views_, response_views_;
};

}  // namespace trellis::proxy
