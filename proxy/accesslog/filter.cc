// Evaluation of compiled access log filters; see filter.h.
#include "proxy/accesslog/filter.h"

namespace trellis::proxy::accesslog {

namespace {

bool compare(LogFilter::Op op, uint64_t actual, uint64_t wanted) {
  switch (op) {
    case LogFilter::Op::Eq: return actual == wanted;
    case LogFilter::Op::Ge: return actual >= wanted;
    case LogFilter::Op::Le: return actual <= wanted;
  }
  return false;
}

}  // namespace

bool LogFilter::matches(const LogRecord& r) const {
  switch (kind) {
    case Kind::StatusCode:
      return compare(op, r.response_code, value);
    case Kind::Duration: {
      // Envoy compares the total duration in milliseconds; a request without one counts as 0.
      const uint64_t ms = r.duration ? static_cast<uint64_t>(r.duration->count() / 1000) : 0;
      return compare(op, ms, value);
    }
    case Kind::ResponseFlag:
      return any_flag ? r.response_flags != 0 : (r.response_flags & flag_mask) != 0;
    case Kind::NotHealthCheck:
      return !r.health_check;
    case Kind::And:
      for (const auto& c : children) {
        if (!c.matches(r)) return false;
      }
      return true;
    case Kind::Or:
      for (const auto& c : children) {
        if (c.matches(r)) return true;
      }
      return false;
  }
  return false;
}

}  // namespace trellis::proxy::accesslog
