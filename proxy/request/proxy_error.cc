// The table of proxy errors (see proxy_error.h).
#include "proxy/request/proxy_error.h"

namespace trellis::proxy {

ProxyError proxyError(ErrorKind kind, std::string_view detail) {
  ProxyError e;
  switch (kind) {
#define TRELLIS_ERROR_KIND_CASE(k, src, st, fl, retry, cl, text)                                     \
  case ErrorKind::k:                                                                                 \
    e = ProxyError{ErrorKind::k, ErrorSource::src, st, ResponseFlag::fl, RetryEvent::retry, cl, text}; \
    break;
    ALL_PROXY_ERROR_KINDS(TRELLIS_ERROR_KIND_CASE)
#undef TRELLIS_ERROR_KIND_CASE
  }
  if (!detail.empty()) e.detail = detail;
  return e;
}

std::string_view errorKindName(ErrorKind kind) {
  switch (kind) {
#define TRELLIS_ERROR_KIND_NAME(k, ...) \
  case ErrorKind::k:                    \
    return #k;
    ALL_PROXY_ERROR_KINDS(TRELLIS_ERROR_KIND_NAME)
#undef TRELLIS_ERROR_KIND_NAME
  }
  return "?";
}

}  // namespace trellis::proxy
