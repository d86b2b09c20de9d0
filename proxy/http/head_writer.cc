// Head serialisation for the forwarded request and response (see head_writer.h).
#include "proxy/http/head_writer.h"

#include <charconv>

#include <boost/asio/ip/address.hpp>

#include "proxy/http/local_reply.h"
#include "proxy/http/request_id.h"

namespace trellis::proxy::http {

bool isHopByHop(std::string_view name) {
  switch (name.size()) {
    case 2:
      return equalsIgnoreCase(name, "te");
    case 6:
      return equalsIgnoreCase(name, "expect");
    case 7:
      return equalsIgnoreCase(name, "upgrade");
    case 10:
      return equalsIgnoreCase(name, "connection") || equalsIgnoreCase(name, "keep-alive");
    case 16:
      return equalsIgnoreCase(name, "proxy-connection");
    default:
      return false;
  }
}

namespace {

// Also drops headers that the Connection header names as hop-by-hop.
bool dropHeader(const MessageHead& head, const HeaderField& h) {
  if (isHopByHop(h.name)) return true;
  for (const auto& c : head.headers) {
    if (c.name.size() == 10 && equalsIgnoreCase(c.name, "connection") && hasToken(c.value, h.name)) return true;
  }
  return false;
}

void appendUint(Buffer& out, uint64_t v) {
  char tmp[24];
  auto [end, ec] = std::to_chars(tmp, tmp + sizeof(tmp), v);
  out.append(tmp, static_cast<size_t>(end - tmp));
}

void appendHeader(Buffer& out, std::string_view name, std::string_view value) {
  out.append(name);
  out.append(": ", 2);
  out.append(value);
  out.append("\r\n", 2);
}

}  // namespace

bool isInternalAddress(const boost::asio::ip::address& peer) {
  auto addr = peer;
  if (addr.is_v6()) {
    auto v6 = addr.to_v6();
    if (v6.is_v4_mapped()) {
      addr = boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, v6);
    } else {
      auto b = v6.to_bytes();
      return v6.is_loopback() || (b[0] & 0xfe) == 0xfc;  // ::1, fc00::/7
    }
  }
  uint32_t v = addr.to_v4().to_uint();
  return (v >> 24) == 127 || (v >> 24) == 10 || (v >> 16) == ((192u << 8) | 168u) ||
         (v >> 20) == ((172u << 4) | 1u);  // 172.16.0.0/12
}

void writeRequestHead(Buffer& out, const MessageHead& head, const RequestHeadOptions& opts) {
  out.clear();
  out.append(head.method);
  out.append(" ", 1);
  if (opts.prefix_rewrite && head.target.size() >= opts.strip_prefix_length) {
    out.append(*opts.prefix_rewrite);
    out.append(head.target.substr(opts.strip_prefix_length));
  } else {
    out.append(head.target);
  }
  out.append(" HTTP/1.1\r\n", 11);

  bool has_host = false;
  bool has_proto = false;
  const HeaderField* request_id = nullptr;
  bool append_xff = opts.append_xff && !opts.peer.empty();
  bool wrote_xff = false;
  for (const auto& h : head.headers) {
    if (dropHeader(head, h)) continue;
    if (h.name.size() == 15 && equalsIgnoreCase(h.name, "x-forwarded-for")) {
      if (append_xff) continue;  // joined below, every occurrence in order
    } else if (h.name.size() == 12 && equalsIgnoreCase(h.name, "x-request-id")) {
      request_id = &h;
      continue;
    } else if (h.name.size() == 4 && equalsIgnoreCase(h.name, "host")) {
      if (opts.host_rewrite) continue;  // written once below
      has_host = true;
    } else if (h.name.size() == 17 && equalsIgnoreCase(h.name, "x-forwarded-proto")) {
      has_proto = true;
    }
    appendHeader(out, h.name, h.value);
  }
  if (opts.host_rewrite) {
    appendHeader(out, "host", *opts.host_rewrite);
  } else if (!has_host) {
    appendHeader(out, "host", opts.default_host);
  }
  if (append_xff) {
    out.append("x-forwarded-for: ", 17);
    for (const auto& h : head.headers) {
      if (h.name.size() != 15 || !equalsIgnoreCase(h.name, "x-forwarded-for")) continue;
      if (wrote_xff) out.append(", ", 2);
      out.append(h.value);
      wrote_xff = true;
    }
    if (wrote_xff) out.append(", ", 2);
    out.append(opts.peer);
    out.append("\r\n", 2);
  }
  if (!has_proto) appendHeader(out, "x-forwarded-proto", "http");
  // x-request-id as Envoy does it: kept from trusted (internal) clients, generated otherwise.
  bool regenerate = opts.generate_request_id &&
                    (!request_id || (opts.use_remote_address && !opts.preserve_external_request_id &&
                                     !opts.peer_is_internal));
  if (regenerate) {
    char uuid[36];
    formatUuid4(opts.random_hi, opts.random_lo, uuid);
    appendHeader(out, "x-request-id", std::string_view(uuid, sizeof(uuid)));
  } else if (request_id) {
    appendHeader(out, request_id->name, request_id->value);
  }
  out.append("\r\n", 2);
}

void writeResponseHead(Buffer& out, const MessageHead& resp, bool close, bool http10_client, bool decode_chunked) {
  out.clear();
  out.append("HTTP/1.1 ", 9);
  appendUint(out, resp.status);
  out.append(" ", 1);
  out.append(resp.reason.empty() ? reasonPhrase(resp.status) : resp.reason);
  out.append("\r\n", 2);
  for (const auto& h : resp.headers) {
    if (dropHeader(resp, h)) continue;
    if (decode_chunked && h.name.size() == 17 && equalsIgnoreCase(h.name, "transfer-encoding")) continue;
    appendHeader(out, h.name, h.value);
  }
  if (close) {
    out.append("connection: close\r\n", 19);
  } else if (http10_client) {
    out.append("connection: keep-alive\r\n", 24);
  }
  out.append("\r\n", 2);
}

}  // namespace trellis::proxy::http
