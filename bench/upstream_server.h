// UpstreamServer: the fixed-response HTTP/1.1 server behind every benchmark (bench-upstream).
//
// It must cost as little as possible per request so that it is never the bottleneck of a
// measurement: every response is the same prebuilt bytes, request bodies (Content-Length or
// chunked) are parsed past and dropped, and all the responses owed for one read (pipelined
// requests) leave in one gathered write. A connection reads again only once its write is done,
// so a client that does not read cannot make the server buffer without bound.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"

namespace trellis::bench {

class UpstreamServer {
 public:
  struct Options {
    boost::asio::ip::tcp::endpoint listen;
    size_t bodySize = 0;
    int threads = 1;
  };

  // Binds and listens; nothing is served until run().
  static absl::StatusOr<std::unique_ptr<UpstreamServer>> create(const Options& options);
  ~UpstreamServer();

  // The bound address (with the port the kernel chose for port 0).
  boost::asio::ip::tcp::endpoint localEndpoint() const;
  // Serves on the calling thread plus threads-1 more; returns after stop().
  void run();
  // Callable from any thread (or a signal handler's io_context callback).
  void stop();
  // Requests answered so far (summed over threads; approximate while running).
  uint64_t requestsServed() const;

 private:
  struct Worker;
  explicit UpstreamServer(const Options& options);
  void accept();

  Options options_;
  std::string response_;       // keep-alive response
  std::string closeResponse_;  // the same with Connection: close
  std::vector<std::unique_ptr<Worker>> workers_;
  std::unique_ptr<boost::asio::ip::tcp::acceptor> acceptor_;
  size_t nextWorker_ = 0;
  std::vector<std::thread> threads_;
};

}  // namespace trellis::bench
