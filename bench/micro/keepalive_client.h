// One blocking keep-alive HTTP/1.1 client connection for the allocation benchmark.
//
// Sends a fixed request and reads the response through (head, then exactly Content-Length
// bytes of body), one request at a time. Anything else from the server (no Content-Length, a
// status other than 200, a closed connection) is a failure with a reason: the benchmark must
// not count allocations of a run that did not proxy what it meant to.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace trellis::bench::micro {

class KeepAliveClient {
 public:
  KeepAliveClient() = default;
  ~KeepAliveClient();
  KeepAliveClient(const KeepAliveClient&) = delete;
  KeepAliveClient& operator=(const KeepAliveClient&) = delete;

  // Connects (closing the previous connection, if any).
  bool connect(uint16_t port);
  // One request/response exchange; on failure error() says why.
  bool exchange(const std::string& request, size_t expected_body);
  const std::string& error() const { return error_; }

 private:
  bool fail(const std::string& why);

  int fd_ = -1;
  std::vector<char> buf_ = std::vector<char>(256 * 1024);
  std::string error_;
};

}  // namespace trellis::bench::micro
