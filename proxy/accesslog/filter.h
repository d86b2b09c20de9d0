// Envoy's AccessLogFilter, compiled: decides, before anything is formatted, whether a request
// gets a line. The supported filters are status_code_filter, duration_filter,
// response_flag_filter, not_health_check_filter, and_filter and or_filter (the compiler in
// proxy/snapshot refuses the others by name).
#pragma once

#include <cstdint>
#include <vector>

#include "proxy/accesslog/log_record.h"

namespace trellis::proxy::accesslog {

struct LogFilter {
  enum class Kind : uint8_t { StatusCode, Duration, ResponseFlag, NotHealthCheck, And, Or };
  enum class Op : uint8_t { Eq, Ge, Le };  // ComparisonFilter.Op: EQ, GE, LE

  Kind kind = Kind::NotHealthCheck;
  Op op = Op::Eq;
  uint64_t value = 0;       // status code, or duration in milliseconds
  uint32_t flag_mask = 0;   // ResponseFlag bits; 0 with `any_flag`: any flag at all
  bool any_flag = false;
  std::vector<LogFilter> children;  // And, Or

  bool matches(const LogRecord& r) const;
};

}  // namespace trellis::proxy::accesslog
