// Serialising the heads the proxy forwards: the request head it sends upstream and the
// response head it sends back, each rewritten as an HTTP/1.1 proxy must (RFC 9110 §7.6.1
// hop-by-hop headers dropped, x-forwarded-for / x-forwarded-proto / x-request-id as Envoy sets
// them). Pure functions over a parsed head: no sockets, unit-testable.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include <boost/asio/ip/address.hpp>

#include "proxy/http/message_head.h"
#include "proxy/io/buffer.h"

namespace trellis::proxy::http {

// Hop-by-hop headers that never cross the proxy. Transfer-Encoding is not among them: the body
// is relayed with the framing it arrived in. Expect is answered by the proxy.
bool isHopByHop(std::string_view name);

struct RequestHeadOptions {
  // The path to send instead of the request target's first `strip_prefix_length` bytes
  // (prefix_rewrite), if any.
  std::optional<std::string_view> prefix_rewrite;
  size_t strip_prefix_length = 0;
  // Sent as the Host instead of the request's own (host_rewrite_literal), if any.
  std::optional<std::string_view> host_rewrite;
  std::string_view default_host;  // sent when the request has no Host (HTTP/1.0)
  std::string_view peer;          // the client's address, for x-forwarded-for
  bool peer_is_internal = false;  // isInternalAddress(peer), computed once per connection
  bool append_xff = false;        // use_remote_address && !skip_xff_append
  bool use_remote_address = false;
  bool generate_request_id = true;
  bool preserve_external_request_id = false;
  uint64_t random_hi = 0;  // two random words for a generated x-request-id
  uint64_t random_lo = 0;
};

void writeRequestHead(Buffer& out, const MessageHead& head, const RequestHeadOptions& opts);

// `close`: the client connection closes after this response; `http10_client`: the client
// spoke HTTP/1.0 (keep-alive must be said); `decode_chunked`: the body is sent de-chunked.
void writeResponseHead(Buffer& out, const MessageHead& resp, bool close, bool http10_client, bool decode_chunked);

// Whether the client's address counts as internal for x-request-id trust (RFC 1918, loopback,
// RFC 4193 unique local, and IPv4-mapped forms of those).
bool isInternalAddress(const boost::asio::ip::address& peer);

}  // namespace trellis::proxy::http
