// The raw test client.
#include "tests/support/raw_client.h"

#include <charconv>

namespace trellis::tests {

std::unique_ptr<RawClient> RawClient::connect(uint16_t port, std::chrono::milliseconds timeout, int* error) {
  Fd fd = connectLoopback(port, error);
  if (!fd.valid()) return nullptr;
  setTimeouts(fd.get(), timeout);
  return std::unique_ptr<RawClient>(new RawClient(std::move(fd)));
}

bool RawClient::send(std::string_view bytes) {
  if (!fd_.valid()) return false;
  return writeAll(fd_.get(), bytes);
}

std::optional<ClientResponse> RawClient::readResponse(bool head_request, const Sink& sink) {
  error_.clear();
  auto fail = [&](std::string what) -> std::optional<ClientResponse> {
    error_ = std::move(what);
    return std::nullopt;
  };
  std::string raw;
  if (auto r = reader_.readHead(raw); r != ReadResult::Ok) return fail(std::string("response head: ") + describe(r));
  ClientResponse resp;
  if (!parseHttpHead(raw, resp.head)) return fail("malformed response head: " + raw);
  // Status line: HTTP-version SP status-code SP [reason]
  const std::string& line = resp.head.start_line;
  size_t sp1 = line.find(' ');
  if (sp1 == std::string::npos || line.size() < sp1 + 4) return fail("malformed status line: " + line);
  resp.version = line.substr(0, sp1);
  auto [ptr, ec] = std::from_chars(line.data() + sp1 + 1, line.data() + sp1 + 4, resp.status);
  if (ec != std::errc() || ptr != line.data() + sp1 + 4) return fail("malformed status code: " + line);
  if (line.size() > sp1 + 5) resp.reason = line.substr(sp1 + 5);

  const bool no_body = head_request || resp.status < 200 || resp.status == 204 || resp.status == 304;
  if (no_body) return resp;
  Sink data = [&](std::string_view s) {
    resp.body_bytes += s.size();
    if (sink) {
      sink(s);
    } else {
      resp.body.append(s);
    }
  };
  if (resp.head.hasToken("transfer-encoding", "chunked")) {
    resp.chunked = true;
    if (auto r = reader_.readChunked(data, &resp.raw_body, 1 << 20); r != ReadResult::Ok) {
      return fail(std::string("chunked response body: ") + describe(r));
    }
  } else if (const std::string* cl = resp.head.find("content-length")) {
    uint64_t n = 0;
    auto [p, e] = std::from_chars(cl->data(), cl->data() + cl->size(), n);
    if (e != std::errc() || p != cl->data() + cl->size()) return fail("bad content-length: " + *cl);
    if (auto r = reader_.readExact(n, data); r != ReadResult::Ok) {
      return fail(std::string("response body (") + std::to_string(resp.body_bytes) + " of " + *cl +
                  " bytes): " + describe(r));
    }
  } else {
    resp.until_close = true;
    if (auto r = reader_.readToEof(data); r != ReadResult::Ok) {
      return fail(std::string("close-delimited response body: ") + describe(r));
    }
  }
  return resp;
}

bool RawClient::closedByPeer() {
  if (reader_.hasPending()) {
    error_ = "unexpected bytes: " + std::string(reader_.pending().substr(0, 200));
    return false;
  }
  auto r = reader_.fill();
  if (r == ReadResult::Eof || r == ReadResult::Reset) return true;
  error_ = r == ReadResult::Ok ? "unexpected bytes: " + std::string(reader_.pending().substr(0, 200))
                               : std::string("connection still open: ") + describe(r);
  return false;
}

std::string makeRequest(std::string_view method, std::string_view target, std::string_view host,
                        const std::vector<std::pair<std::string, std::string>>& headers, std::string_view body) {
  std::string out;
  out.append(method).append(" ").append(target).append(" HTTP/1.1\r\n");
  if (!host.empty()) out.append("host: ").append(host).append("\r\n");
  for (const auto& [n, v] : headers) out.append(n).append(": ").append(v).append("\r\n");
  if (!body.empty()) out.append("content-length: ").append(std::to_string(body.size())).append("\r\n");
  out.append("\r\n");
  out.append(body);
  return out;
}

}  // namespace trellis::tests
