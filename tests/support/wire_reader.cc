// Blocking, bounded HTTP/1.x message reading for tests.
#include "tests/support/wire_reader.h"

#include <algorithm>
#include <cerrno>
#include <sys/socket.h>

namespace trellis::tests {

const char* describe(ReadResult r) {
  switch (r) {
    case ReadResult::Ok: return "ok";
    case ReadResult::Eof: return "connection closed by peer";
    case ReadResult::Timeout: return "timed out";
    case ReadResult::Reset: return "connection reset";
    case ReadResult::TooLarge: return "message larger than the test allows";
    case ReadResult::Malformed: return "malformed message";
  }
  return "?";
}

void WireReader::consume(size_t n) {
  pos_ += n;
  if (pos_ == buf_.size()) {
    buf_.clear();
    pos_ = 0;
  } else if (pos_ > 64 * 1024) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
}

ReadResult WireReader::fill() {
  char tmp[64 * 1024];
  for (;;) {
    ssize_t n = ::recv(fd_, tmp, sizeof(tmp), 0);
    if (n > 0) {
      buf_.append(tmp, static_cast<size_t>(n));
      return ReadResult::Ok;
    }
    if (n == 0) return ReadResult::Eof;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return ReadResult::Timeout;
    return ReadResult::Reset;
  }
}

ReadResult WireReader::readHead(std::string& head, size_t max_bytes) {
  size_t searched = pos_;
  for (;;) {
    size_t at = buf_.find("\r\n\r\n", std::max(pos_, searched >= 3 ? searched - 3 : 0));
    if (at != std::string::npos) {
      head.assign(buf_, pos_, at + 4 - pos_);
      consume(at + 4 - pos_);
      return ReadResult::Ok;
    }
    if (buf_.size() - pos_ > max_bytes) return ReadResult::TooLarge;
    searched = buf_.size();
    if (auto r = fill(); r != ReadResult::Ok) return r;
  }
}

ReadResult WireReader::readLine(std::string& line, size_t max_bytes) {
  size_t searched = pos_;
  for (;;) {
    size_t at = buf_.find("\r\n", searched > pos_ ? searched - 1 : pos_);
    if (at != std::string::npos) {
      line.assign(buf_, pos_, at - pos_);
      consume(at + 2 - pos_);
      return ReadResult::Ok;
    }
    if (buf_.size() - pos_ > max_bytes) return ReadResult::TooLarge;
    searched = buf_.size();
    if (auto r = fill(); r != ReadResult::Ok) return r;
  }
}

ReadResult WireReader::readExact(uint64_t n, const Sink& sink) {
  while (n > 0) {
    if (!hasPending()) {
      if (auto r = fill(); r != ReadResult::Ok) return r;
    }
    size_t take = static_cast<size_t>(std::min<uint64_t>(n, buf_.size() - pos_));
    if (sink) sink(std::string_view(buf_).substr(pos_, take));
    consume(take);
    n -= take;
  }
  return ReadResult::Ok;
}

ReadResult WireReader::readChunked(const Sink& data, std::string* raw, size_t raw_cap) {
  auto keep = [&](std::string_view s) {
    if (raw && raw->size() < raw_cap) raw->append(s.substr(0, raw_cap - raw->size()));
  };
  std::string line;
  for (;;) {
    if (auto r = readLine(line, 4096); r != ReadResult::Ok) return r;
    keep(line);
    keep("\r\n");
    std::string_view size_text = std::string_view(line).substr(0, line.find(';'));
    while (!size_text.empty() && (size_text.back() == ' ' || size_text.back() == '\t')) size_text.remove_suffix(1);
    if (size_text.empty() || size_text.size() > 15) return ReadResult::Malformed;
    uint64_t size = 0;
    for (char c : size_text) {
      int digit = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
      if (digit < 0) return ReadResult::Malformed;
      size = size * 16 + static_cast<uint64_t>(digit);
    }
    if (size == 0) {
      // Trailer fields, then the empty line.
      for (int fields = 0;; ++fields) {
        if (fields > 100) return ReadResult::TooLarge;
        if (auto r = readLine(line, 64 * 1024); r != ReadResult::Ok) return r;
        keep(line);
        keep("\r\n");
        if (line.empty()) return ReadResult::Ok;
      }
    }
    auto r = readExact(size, [&](std::string_view s) {
      if (data) data(s);
      keep(s);
    });
    if (r != ReadResult::Ok) return r;
    if (auto r2 = readLine(line, 2); r2 != ReadResult::Ok) return r2 == ReadResult::TooLarge ? ReadResult::Malformed : r2;
    if (!line.empty()) return ReadResult::Malformed;
    keep("\r\n");
  }
}

ReadResult WireReader::readToEof(const Sink& sink) {
  for (;;) {
    if (hasPending()) {
      if (sink) sink(pending());
      consume(buf_.size() - pos_);
    }
    auto r = fill();
    if (r == ReadResult::Eof) return ReadResult::Ok;
    if (r != ReadResult::Ok) return r;
  }
}

}  // namespace trellis::tests
