// trellis-cp's admin endpoint: a minimal HTTP/1.1 server for a handful of GET pages (/ready,
// /status, /stats). One request per connection, bounded request size and time, run on the
// cp's main io_context so handlers may read the ControlPlane without locks.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace trellis::cp {

struct AdminReply {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

class AdminHttp {
 public:
  using Handler = std::function<AdminReply()>;

  // Binds `listen` ("host:port", port 0 picks one) and starts accepting.
  static absl::StatusOr<std::unique_ptr<AdminHttp>> start(boost::asio::io_context& io, const std::string& listen);

  // Serves GET (and HEAD) of exactly `path`.
  void handle(const std::string& path, Handler handler);
  uint16_t port() const { return port_; }
  // Stops accepting; connections in progress finish on their own (within their deadline).
  void stop();

 private:
  explicit AdminHttp(boost::asio::io_context& io);
  boost::asio::awaitable<void> acceptLoop();
  boost::asio::awaitable<void> serve(boost::asio::ip::tcp::socket socket);
  AdminReply dispatch(const std::string& method, const std::string& target) const;

  boost::asio::io_context& io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  std::map<std::string, Handler> handlers_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace trellis::cp
