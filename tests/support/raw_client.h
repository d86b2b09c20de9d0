// A test client that sends exact bytes and reads the proxy's responses off the wire.
//
// It is a blocking socket with receive and send timeouts (SO_RCVTIMEO/SO_SNDTIMEO), so a proxy
// that never answers fails the read instead of hanging the test. Responses are parsed by the
// tests' own code (http_head.h, wire_reader.h), independently of the proxy's llhttp codec.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tests/support/http_head.h"
#include "tests/support/socket_util.h"
#include "tests/support/wire_reader.h"

namespace trellis::tests {

struct ClientResponse {
  std::string version;  // "HTTP/1.1"
  int status = 0;
  std::string reason;
  HttpHead head;
  std::string body;      // decoded; empty when the body went to a sink
  std::string raw_body;  // chunked bodies: the bytes as framed on the wire (first 1 MiB)
  uint64_t body_bytes = 0;
  bool chunked = false;
  bool until_close = false;  // the body was delimited by the connection closing

  const std::string* header(std::string_view name) const { return head.find(name); }
  bool closes() const { return head.hasToken("connection", "close"); }
};

class RawClient {
 public:
  // nullptr when the connection is refused; `error` (if given) receives errno.
  static std::unique_ptr<RawClient> connect(uint16_t port,
                                            std::chrono::milliseconds timeout = std::chrono::seconds(10),
                                            int* error = nullptr);

  bool send(std::string_view bytes);
  // Reads one response (a 1xx counts as one). The body of a response to HEAD, or of a 1xx,
  // 204 or 304, is empty by definition. Body bytes go to `sink` instead of `body` if given.
  // nullopt on timeout, a close before the response is complete, or a malformed response;
  // error() then says which.
  std::optional<ClientResponse> readResponse(bool head_request = false, const Sink& sink = {});
  // Whether the peer closes the connection (EOF or reset) within the timeout with no further
  // response bytes arriving first.
  bool closedByPeer();
  const std::string& error() const { return error_; }
  int fd() const { return fd_.get(); }
  void close() { fd_.reset(); }

 private:
  explicit RawClient(Fd fd) : fd_(std::move(fd)), reader_(fd_.get()) {}

  Fd fd_;
  WireReader reader_;
  std::string error_;
};

// "METHOD target HTTP/1.1\r\nhost: HOST\r\n" + extra header lines + "\r\n" + body, with a
// content-length for a non-empty body. Extra headers are ("name", "value") pairs.
std::string makeRequest(std::string_view method, std::string_view target, std::string_view host = "svc",
                        const std::vector<std::pair<std::string, std::string>>& headers = {},
                        std::string_view body = {});

}  // namespace trellis::tests
