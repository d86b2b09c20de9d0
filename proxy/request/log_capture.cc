// Copying the logged request and response values out of the connection's buffers; see log_capture.h.
#include "proxy/request/log_capture.h"

namespace trellis::proxy {

void LogCapture::clear() {
  arena_.clear();
  method_ = path_ = authority_ = Span{};
  request_.clear();
  response_.clear();
}

LogCapture::Span LogCapture::keep(std::string_view s) {
  const Span span{static_cast<uint32_t>(arena_.size()), static_cast<uint32_t>(s.size())};
  arena_.append(s);
  return span;
}

void LogCapture::captureRequest(const http::MessageHead& head, const accesslog::HeaderNames& names) {
  method_ = keep(head.method);
  path_ = keep(head.target);
  const auto* host = head.find("host");
  authority_ = host ? keep(host->value) : Span{};
  request_.assign(names.request.size(), Span{});
  for (size_t i = 0; i < names.request.size(); ++i) {
    if (const auto* h = head.find(names.request[i])) request_[i] = keep(h->value);
  }
}

void LogCapture::captureUpstreamRequest(std::string_view serialized, const accesslog::HeaderNames& names) {
  if (names.request.empty()) return;
  request_.assign(names.request.size(), Span{});
  size_t pos = serialized.find("\r\n");  // past the request line
  while (pos != std::string_view::npos && pos + 2 < serialized.size()) {
    const size_t start = pos + 2;
    const size_t end = serialized.find("\r\n", start);
    if (end == std::string_view::npos || end == start) break;  // the blank line ends the head
    const std::string_view line = serialized.substr(start, end - start);
    const size_t colon = line.find(':');
    if (colon != std::string_view::npos) {
      const std::string_view name = line.substr(0, colon);
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
      for (size_t i = 0; i < names.request.size(); ++i) {
        if (request_[i].second == 0 && http::equalsIgnoreCase(name, names.request[i])) request_[i] = keep(value);
      }
    }
    pos = end;
  }
}

void LogCapture::captureResponse(const http::MessageHead& head, const accesslog::HeaderNames& names) {
  response_.assign(names.response.size(), Span{});
  for (size_t i = 0; i < names.response.size(); ++i) {
    if (const auto* h = head.find(names.response[i])) response_[i] = keep(h->value);
  }
}

void LogCapture::materialize(const std::string& arena, const std::vector<Span>& spans,
                             std::vector<std::string_view>& out) {
  out.clear();
  for (const auto& s : spans) out.push_back(std::string_view(arena).substr(s.first, s.second));
}

const std::vector<std::string_view>& LogCapture::requestHeaders() {
  materialize(arena_, request_, request_views_);
  return request_views_;
}

const std::vector<std::string_view>& LogCapture::responseHeaders() {
  materialize(arena_, response_, response_views_);
  return response_views_;
}

}  // namespace trellis::proxy
