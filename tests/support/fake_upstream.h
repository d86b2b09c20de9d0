// An in-process HTTP/1.1 upstream whose behaviour each test scripts.
//
// It listens on 127.0.0.1 port 0 and serves each accepted connection on its own thread with
// blocking sockets. For every request it records the head (and the body, as decoded and as
// framed on the wire, up to 1 MiB), counts it, wakes anyone waiting, and hands an Exchange to
// the test's handler, which answers however the test needs: a fixed response, a chunked or
// close-delimited one, a response cut short, a streamed 100 MiB one, or none at all. The
// destructor stops accepting, wakes every blocked connection (shutdown(2)) and joins all
// threads, so a test that fails half-way still cleans up.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "tests/support/http_head.h"
#include "tests/support/socket_util.h"
#include "tests/support/wire_reader.h"

namespace trellis::tests {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct UpstreamRequest {
  std::string method;
  std::string target;
  std::string version;
  HttpHead head;
  std::string body;      // decoded, first 1 MiB
  std::string raw_body;  // as framed on the wire (chunk sizes, extensions, trailers), first 1 MiB
  uint64_t body_bytes = 0;
  bool chunked = false;
  bool body_complete = false;
  size_t connection = 0;  // which accepted connection (1-based) carried it
};

class FakeUpstream {
 public:
  // One request on one connection, as seen by a handler.
  class Exchange {
   public:
    const UpstreamRequest& request() const { return req_; }
    // Reads the request body to its end (once; later calls return the first result). Decoded
    // bytes go to `sink` too, if given. False if the connection failed or the framing is bad.
    bool readBody(const Sink& sink = {});
    bool bodyRead() const { return body_read_; }
    bool write(std::string_view bytes);
    // Blocks until the proxy closes this connection (or the upstream is being destroyed).
    void waitForPeerClose();

   private:
    friend class FakeUpstream;
    Exchange(FakeUpstream& owner, int fd, WireReader& reader, UpstreamRequest req, size_t index)
        : owner_(owner), fd_(fd), reader_(reader), req_(std::move(req)), index_(index) {}

    FakeUpstream& owner_;
    int fd_;
    WireReader& reader_;
    UpstreamRequest req_;
    size_t index_;
    bool body_read_ = false;
    bool body_ok_ = false;
  };

  // Returns whether the connection stays open for another request.
  using Handler = std::function<bool(Exchange&)>;

  explicit FakeUpstream(Handler handler);
  ~FakeUpstream();
  FakeUpstream(const FakeUpstream&) = delete;
  FakeUpstream& operator=(const FakeUpstream&) = delete;

  uint16_t port() const { return port_; }
  size_t connectionsAccepted() const;
  size_t connectionsClosed() const;
  size_t requestsReceived() const;
  std::vector<UpstreamRequest> requests() const;

  // Bounded waits on the counters above; false on timeout.
  bool waitForRequests(size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;
  bool waitForConnectionsClosed(size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;

 private:
  void acceptLoop();
  void serve(int fd, size_t index);
  void updateBody(size_t index, const UpstreamRequest& req);

  Handler handler_;
  Fd listener_;
  uint16_t port_ = 0;
  std::thread accept_thread_;
  std::atomic<bool> stopping_{false};

  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::vector<std::thread> threads_;
  std::set<int> open_fds_;
  std::vector<UpstreamRequest> requests_;
  size_t accepted_ = 0;
  size_t closed_ = 0;
};

// "HTTP/1.1 <status> <reason>\r\n" + headers + "\r\n" (no body, no framing header added).
std::string responseHead(int status, const HeaderList& headers = {});

// Behaviours for the common cases. Each reads the request body first (so the connection stays
// in step) unless it says otherwise.

// A response with Content-Length; a HEAD request gets the same head and no body.
FakeUpstream::Handler replyWith(int status, std::string body, HeaderList headers = {});
// 200 with the body "<METHOD> <target>", so a test can tell which request was answered.
FakeUpstream::Handler replyWithRequestLine();
// 200 with a chunked body, one chunk per element, each chunk-size line followed by `extension`
// (e.g. ";name=value"); the last chunk is followed by `trailers` (e.g. "x-t: 1\r\n").
FakeUpstream::Handler replyChunked(std::vector<std::string> chunks, std::string extension = "",
                                   std::string trailers = "");
// 200 without Content-Length or Transfer-Encoding: the body ends when the upstream closes.
FakeUpstream::Handler replyUntilClose(std::string body);
// 200 whose body is the request body (buffered, so for small bodies only).
FakeUpstream::Handler echoBody();
// Announces Content-Length `declared`, sends `sent` (< declared) bytes, closes.
FakeUpstream::Handler closeMidResponse(size_t declared, size_t sent);
// Reads the request and never answers; returns when the proxy gives up and closes.
FakeUpstream::Handler neverAnswer();

}  // namespace trellis::tests
