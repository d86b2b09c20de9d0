// Status lines and bodies of local replies.
#include "proxy/http/local_reply.h"

#include <charconv>

namespace trellis::proxy::http {

std::string_view reasonPhrase(uint16_t status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Payload Too Large";
    case 417: return "Expectation Failed";
    case 426: return "Upgrade Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Unknown";
  }
}

void writeLocalReply(Buffer& out, uint16_t status, std::string_view body, bool close) {
  char num[24];
  out.append("HTTP/1.1 ", 9);
  auto r = std::to_chars(num, num + sizeof(num), status);
  out.append(num, static_cast<size_t>(r.ptr - num));
  out.append(" ", 1);
  out.append(reasonPhrase(status));
  out.append("\r\ncontent-type: text/plain\r\ncontent-length: ");
  r = std::to_chars(num, num + sizeof(num), body.size() + (body.empty() ? 0 : 1));
  out.append(num, static_cast<size_t>(r.ptr - num));
  out.append("\r\n", 2);
  if (close) out.append("connection: close\r\n");
  out.append("\r\n", 2);
  if (!body.empty()) {
    out.append(body);
    out.append("\n", 1);
  }
}

}  // namespace trellis::proxy::http
