// The admin HTTP server of both binaries (trellis-proxy's Envoy-style admin port and
// trellis-cp's status port), on Boost.Beast.
//
// It runs on its owner's io_context (the proxy's main thread, the cp's main context), so
// handlers read the owner's state without locks. It is meant for a few people and scrapers, not
// for load, and it defends itself: a whole request must arrive within `request_deadline`, a
// kept-alive connection may sit idle for `idle_timeout`, heads and bodies are capped (431, 413),
// and at most `max_connections` are served at once (the rest get 503). Methods are matched
// exactly (405 with Allow); a path registered for GET also answers HEAD, without the body.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "absl/status/statusor.h"

namespace trellis::xds::admin {

struct AdminRequest {
  std::string method;  // as sent, e.g. "GET"; a HEAD request reaches the GET handler as "HEAD"
  std::string path;    // without the query string
  std::string query;   // after '?', may be empty (see query.h, or param())
  std::string body;

  // The decoded value of query parameter `name`; "" when given without '='.
  std::optional<std::string> param(const std::string& name) const;
};

struct AdminResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

struct AdminLimits {
  std::chrono::milliseconds request_deadline{10000};  // from the first byte to the whole request
  std::chrono::milliseconds idle_timeout{30000};     // between requests on a kept-alive connection
  uint32_t max_header_bytes = 16 * 1024;               // request line and headers; above: 431
  uint32_t max_body_bytes = 64 * 1024;                 // above: 413
  uint32_t max_connections = 32;                       // served at once; above: 503 and close
};

class AdminServer {
 public:
  using Handler = std::function<AdminResponse(const AdminRequest&)>;

  // Binds and listens on `address` (port 0 picks one); serving starts with start().
  static absl::StatusOr<std::unique_ptr<AdminServer>> create(boost::asio::io_context& io,
                                                             const boost::asio::ip::tcp::endpoint& address,
                                                             AdminLimits limits = {});
  // "host:port" (an IP literal), as command lines give it.
  static absl::StatusOr<boost::asio::ip::tcp::endpoint> parseAddress(const std::string& host_port);
  ~AdminServer();

  // `methods` is a comma-separated list ("GET", "POST", "GET,POST"), matched exactly; GET
  // implies HEAD. `help` is the line /help shows. Registering a path again replaces it.
  void addHandler(const std::string& path, const std::string& methods, const std::string& help, Handler handler);
  void start();
  // Closes the acceptor and every open connection (a response being written is cut short).
  void stop();
  uint16_t port() const;
  // "admin commands are:" and one line per path: the plain-text index /help serves.
  std::string helpText() const;
  // Connections being served now.
  size_t openConnections() const;
  // Times accepting paused because the process was out of descriptors (or buffers).
  uint64_t acceptBackoffs() const;

  // The acceptor, handlers and open connections, shared with the connection coroutines so that
  // they may outlive the server object (they end on their own once stop() closed them).
  struct State;

 private:
  explicit AdminServer(std::shared_ptr<State> state);
  std::shared_ptr<State> state_;
};

}  // namespace trellis::xds::admin
