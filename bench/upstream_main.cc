// bench-upstream: command line around UpstreamServer. Prints "listening on ADDR:PORT" once
// bound so that scripts can pass --listen 127.0.0.1:0 and read the port; stops on SIGINT or
// SIGTERM.
#include <boost/asio/ip/address.hpp>
#include <boost/asio/signal_set.hpp>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "bench/upstream_server.h"

namespace {

constexpr const char* kUsage = R"(usage: bench-upstream [--listen ADDR:PORT] [--body-size N] [--threads N]

A fixed-response HTTP/1.1 server for benchmarks: every request gets "200 OK" with a body of
N bytes. Keep-alive, pipelining, request bodies (Content-Length or chunked) are read and dropped.
  --listen ADDR:PORT  IPv4 ADDR:PORT or [IPv6]:PORT; port 0 picks a free one  [127.0.0.1:0]
  --body-size N       response body bytes                                      [0]
  --threads N         event-loop threads                                       [1]
)";

bool parseListen(const std::string& s, boost::asio::ip::tcp::endpoint& out) {
  const size_t colon = s.rfind(':');
  if (colon == std::string::npos) return false;
  std::string host = s.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  uint32_t port = 0;
  if (!absl::SimpleAtoi(s.substr(colon + 1), &port) || port > 65535) return false;
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(host, ec);
  if (ec) return false;
  out = boost::asio::ip::tcp::endpoint(address, static_cast<uint16_t>(port));
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  using trellis::bench::UpstreamServer;
  UpstreamServer::Options options;
  options.listen = boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0);
  const std::vector<std::string> args(argv + 1, argv + argc);
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& flag = args[i];
    if (flag == "--help" || flag == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (i + 1 >= args.size()) {
      std::fprintf(stderr, "bench-upstream: %s: missing value or unknown flag\n\n%s", flag.c_str(), kUsage);
      return 2;
    }
    const std::string& value = args[++i];
    uint64_t n = 0;
    if (flag == "--listen") {
      if (!parseListen(value, options.listen)) {
        std::fprintf(stderr, "bench-upstream: --listen '%s': expected ADDR:PORT (127.0.0.1:0, [::1]:8080)\n",
                     value.c_str());
        return 2;
      }
    } else if (flag == "--body-size") {
      if (!absl::SimpleAtoi(value, &n) || n > (64u << 20)) {
        std::fprintf(stderr, "bench-upstream: --body-size '%s': expected 0..67108864\n", value.c_str());
        return 2;
      }
      options.bodySize = n;
    } else if (flag == "--threads") {
      if (!absl::SimpleAtoi(value, &n) || n < 1 || n > 256) {
        std::fprintf(stderr, "bench-upstream: --threads '%s': expected 1..256\n", value.c_str());
        return 2;
      }
      options.threads = static_cast<int>(n);
    } else {
      std::fprintf(stderr, "bench-upstream: unknown flag '%s'\n\n%s", flag.c_str(), kUsage);
      return 2;
    }
  }
  auto server = UpstreamServer::create(options);
  if (!server.ok()) {
    std::fprintf(stderr, "%s\n", std::string(server.status().message()).c_str());
    return 1;
  }
  const auto bound = (*server)->localEndpoint();
  const std::string address = bound.address().is_v6() ? "[" + bound.address().to_string() + "]"
                                                      : bound.address().to_string();
  std::printf("listening on %s:%u\n", address.c_str(), static_cast<unsigned>(bound.port()));
  std::fflush(stdout);
  // Signals are waited for on a context of their own, on a thread that only sleeps in it.
  boost::asio::io_context signalIo(1);
  boost::asio::signal_set signals(signalIo, SIGINT, SIGTERM);
  UpstreamServer* raw = server->get();
  signals.async_wait([raw](const boost::system::error_code& ec, int) {
    if (!ec) raw->stop();
  });
  std::thread signalThread([&signalIo] { signalIo.run(); });
  (*server)->run();
  signals.cancel();
  signalIo.stop();
  signalThread.join();
  std::fprintf(stderr, "bench-upstream: served %llu requests\n",
               static_cast<unsigned long long>((*server)->requestsServed()));
  return 0;
}
