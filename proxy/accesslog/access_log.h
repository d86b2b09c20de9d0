// One configured access log (an HCM access_log entry with the file logger), compiled: its filter,
// its format and the file it appends to. Held by the snapshot's HttpConnectionManager; the
// request flow calls write() in its log phase.
#pragma once

#include <memory>
#include <optional>

#include "proxy/accesslog/file_sink.h"
#include "proxy/accesslog/filter.h"
#include "proxy/accesslog/format.h"
#include "proxy/accesslog/log_record.h"

namespace trellis::proxy::accesslog {

struct AccessLog {
  std::optional<LogFilter> filter;
  Formatter format;
  std::shared_ptr<FileSink> sink;  // null when compiled only to check a config

  // On worker `w`'s thread: filter, then format straight into the worker's buffer.
  void write(const LogRecord& r, uint32_t w) const {
    if (!sink || (filter && !filter->matches(r))) return;
    format.format(r, sink->buffer(w));
    sink->lineAdded(w);
  }
};

}  // namespace trellis::proxy::accesslog
