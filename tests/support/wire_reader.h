// Reads HTTP/1.x messages from a blocking socket: heads, and bodies in each framing
// (Content-Length, chunked, until close), streamed to a sink so a 100 MiB body never sits in
// memory. Timeouts come from the socket's SO_RCVTIMEO and surface as ReadResult::Timeout.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace trellis::tests {

using Sink = std::function<void(std::string_view)>;

enum class ReadResult { Ok, Eof, Timeout, Reset, TooLarge, Malformed };
const char* describe(ReadResult r);

class WireReader {
 public:
  explicit WireReader(int fd) : fd_(fd) {}

  // Through the empty line that ends a head; `head` includes it.
  ReadResult readHead(std::string& head, size_t max_bytes = 1 << 20);
  // One CRLF-terminated line, without the CRLF.
  ReadResult readLine(std::string& line, size_t max_bytes);
  // Exactly `n` bytes, handed to `sink` (may be empty) as they arrive.
  ReadResult readExact(uint64_t n, const Sink& sink);
  // A chunked body through its last CRLF. Decoded bytes go to `data`; the bytes as framed on
  // the wire (sizes, extensions, trailers) are appended to `raw`, up to `raw_cap` bytes.
  ReadResult readChunked(const Sink& data, std::string* raw, size_t raw_cap);
  // Everything until the peer closes; Ok at EOF.
  ReadResult readToEof(const Sink& sink);

  // One receive appended to the pending bytes.
  ReadResult fill();
  bool hasPending() const { return pos_ < buf_.size(); }
  std::string_view pending() const { return std::string_view(buf_).substr(pos_); }

 private:
  void consume(size_t n);

  int fd_;
  std::string buf_;
  size_t pos_ = 0;
};

}  // namespace trellis::tests
