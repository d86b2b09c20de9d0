// Reads a TLS ClientHello far enough to know the server name (SNI) and the ALPN list, without
// terminating TLS: what envoy.filters.listener.tls_inspector does, so that TLS traffic can be
// matched by name (filter_chain_match.server_names) and passed through untouched.
//
// Pure: it looks at the bytes the client sent first and says whether they are a ClientHello
// (possibly split over several TLS records), need more bytes, or are not TLS at all.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace trellis::proxy {

struct ClientHelloInfo {
  std::string sni;                // lower-case host_name of the server_name extension; empty if absent
  std::vector<std::string> alpn;  // application_layer_protocol_negotiation, in order
};

enum class ClientHelloStatus : uint8_t {
  NeedMore,  // a ClientHello so far; more bytes are needed to finish it
  Done,      // a whole ClientHello was parsed into the info
  NotTls,    // the bytes are not the start of a TLS handshake (transport_protocol raw_buffer)
  Invalid,   // it began like TLS but is malformed or longer than kMaxClientHelloBytes
};

// The most bytes of handshake the inspector reads before it gives up (Envoy's limit, 64 KiB).
inline constexpr size_t kMaxClientHelloBytes = 64 * 1024;

// `bytes` is everything the client sent so far.
ClientHelloStatus parseClientHello(std::string_view bytes, ClientHelloInfo& info);

}  // namespace trellis::proxy
