// The one error type of the request path, and what each kind of error means to the client.
//
// Every way a request can end without an upstream response (a malformed head, no route, no
// healthy host, an open circuit breaker, a failed connect, a reset, a timeout) is a ProxyError.
// Its kind fixes, in one table (proxy_error.cc), the status of the local reply, Envoy's
// response flag, whether the connection must close, and whether a retry policy may retry it;
// RequestFlow::fail() turns it into the reply, the flag and the counters in one place (and, when
// access logs exist, their %RESPONSE_FLAGS% field). The phases only say what went wrong.
#pragma once

#include <cstdint>
#include <string_view>

#include "proxy/stats/stats.h"

namespace trellis::proxy {

enum class ErrorSource : uint8_t { Downstream, Upstream, Internal };

#define ALL_PROXY_ERROR_KINDS(KIND)                                                              \
  /* kind, source, status, flag (Count: none), retry_on event, close, detail */            \
  KIND(DownstreamProtocol, Downstream, 400, DPE, None, true, "")                                  \
  KIND(HeadersTooLarge, Downstream, 431, DPE, None, true, "request headers too large")            \
  KIND(HeadersTimeout, Downstream, 408, DPE, None, true, "request headers not received in time")  \
  KIND(DuplicateHost, Downstream, 400, DPE, None, true, "more than one Host header")               \
  KIND(MissingHost, Downstream, 400, DPE, None, true, "HTTP/1.1 request without a Host header")   \
  KIND(UpgradeUnsupported, Downstream, 403, Count, None, true, "protocol upgrade is not supported") \
  KIND(ExpectUnsupported, Downstream, 417, Count, None, true, "unsupported Expect header")          \
  KIND(DownstreamClosed, Downstream, 0, DC, None, true, "")                                       \
  KIND(NoRoute, Internal, 404, NR, None, false, "no route matched the request")                   \
  KIND(EgressDenied, Internal, 403, NR, None, false, "egress to this destination is not allowed")  \
  KIND(NoOriginalDestination, Upstream, 503, UH, None, false,                                      \
       "no original destination: the connection was not redirected to this listener")             \
  KIND(UnknownCluster, Internal, 503, NC, None, false, "the route's cluster is not known")        \
  KIND(NoHealthyUpstream, Upstream, 503, UH, None, false, "no healthy upstream")                  \
  KIND(Overflow, Upstream, 503, UO, None, false, "upstream overflow: a circuit breaker is open")   \
  KIND(ConnectFailure, Upstream, 503, UF, ConnectFailure, false,                                  \
       "upstream connect error or disconnect/reset before headers")                               \
  KIND(UpstreamReset, Upstream, 503, UC, Reset, true,                                             \
       "upstream connect error or disconnect/reset before headers")                               \
  KIND(UpstreamStoppedReading, Upstream, 503, UC, None, true,                                     \
       "upstream connection closed while sending the request body")                               \
  KIND(UpstreamProtocol, Upstream, 502, UPE, None, true, "invalid response from upstream")        \
  KIND(UpstreamHeadersTooLarge, Upstream, 502, UPE, None, true, "upstream response headers too large") \
  KIND(UpstreamSwitchedProtocols, Upstream, 502, UPE, None, true, "upstream switched protocols unasked") \
  KIND(PerTryTimeout, Upstream, 504, UT, Reset, true, "upstream request timeout")                 \
  KIND(RouteTimeout, Upstream, 504, UT, None, true, "upstream request timeout")                   \
  KIND(StreamIdleTimeout, Upstream, 408, SI, None, true, "stream timeout")

enum class ErrorKind : uint8_t {
#define TRELLIS_ERROR_KIND_ENUM(k, ...) k,
  ALL_PROXY_ERROR_KINDS(TRELLIS_ERROR_KIND_ENUM)
#undef TRELLIS_ERROR_KIND_ENUM
};

// Which retry_on event an error is, if any (a reset also counts for "5xx" and "gateway-error",
// a connect failure for those and "reset", as in Envoy).
enum class RetryEvent : uint8_t { None, ConnectFailure, Reset };

struct ProxyError {
  ErrorKind kind = ErrorKind::DownstreamProtocol;
  ErrorSource source = ErrorSource::Downstream;
  uint16_t status = 0;  // 0: no reply can be sent (the client is gone)
  ResponseFlag flag = ResponseFlag::Count;  // Count: no flag
  RetryEvent retry_event = RetryEvent::None;
  bool close = true;  // the client connection closes after the reply
  std::string_view detail;  // the reply's body: static text, or text that outlives the reply

  bool retryable() const { return retry_event != RetryEvent::None; }
};

// The error of that kind, with its table entry; `detail` replaces the table's text when given.
ProxyError proxyError(ErrorKind kind, std::string_view detail = {});

std::string_view errorKindName(ErrorKind kind);

}  // namespace trellis::proxy
