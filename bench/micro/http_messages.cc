// The request and response bytes the parsing benchmarks feed.
#include "bench/micro/http_messages.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace trellis::bench::micro {

std::string typicalRequestHead() {
  return "GET /api/v1/svc-0042/items/42?view=full&lang=en HTTP/1.1\r\n"
         "Host: svc-0042.mesh.local:8080\r\n"
         "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36\r\n"
         "Accept: application/json, text/plain, */*\r\n"
         "Accept-Encoding: gzip, deflate, br\r\n"
         "Accept-Language: en-US,en;q=0.9\r\n"
         "Connection: keep-alive\r\n"
         "X-Request-Id: 6f1c2b9e-8d44-4b1a-9a57-0c3e5d2f7a18\r\n"
         "X-Forwarded-For: 10.1.2.3\r\n"
         "X-B3-TraceId: 80f198ee56343ba864fe8b2a57d3eff7\r\n"
         "X-B3-SpanId: e457b5a2e4d86bd1\r\n"
         "Cookie: session=3a9f0c1d2e4b5a6978877665544332211; theme=dark\r\n"
         "\r\n";
}

std::string largeRequestHead() {
  std::string s = typicalRequestHead();
  s.resize(s.size() - 2);  // reopen the head
  for (int i = 0; i < 49; ++i) {
    absl::StrAppend(&s, absl::StrFormat("X-Custom-Attribute-%02d: value-%02d-abcdefghijklmnopqrstuvwxyz\r\n", i, i));
  }
  s += "\r\n";
  return s;
}

std::string typicalResponseHead(size_t content_length) {
  return absl::StrCat("HTTP/1.1 200 OK\r\n"
                      "Date: Mon, 05 Jan 2026 10:00:00 GMT\r\n"
                      "Content-Type: application/json; charset=utf-8\r\n"
                      "Content-Length: ",
                      content_length,
                      "\r\n"
                      "Cache-Control: no-store\r\n"
                      "Vary: Accept-Encoding\r\n"
                      "X-Request-Id: 6f1c2b9e-8d44-4b1a-9a57-0c3e5d2f7a18\r\n"
                      "Server: colorapp\r\n"
                      "\r\n");
}

namespace {
std::string postHead(const std::string& framing) {
  return absl::StrCat("POST /api/v1/upload HTTP/1.1\r\n"
                      "Host: svc-0042.mesh.local\r\n"
                      "Content-Type: application/octet-stream\r\n",
                      framing, "\r\n\r\n");
}
}  // namespace

std::string chunkedRequest(size_t body_bytes, size_t chunk_size) {
  std::string s = postHead("Transfer-Encoding: chunked");
  size_t left = body_bytes;
  while (left > 0) {
    size_t n = left < chunk_size ? left : chunk_size;
    absl::StrAppend(&s, absl::Hex(n), "\r\n");
    s.append(n, 'x');
    s += "\r\n";
    left -= n;
  }
  s += "0\r\n\r\n";
  return s;
}

std::string contentLengthRequest(size_t body_bytes) {
  std::string s = postHead(absl::StrCat("Content-Length: ", body_bytes));
  s.append(body_bytes, 'x');
  return s;
}

}  // namespace trellis::bench::micro
