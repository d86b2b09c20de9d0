// The admin HTTP endpoint (Envoy's admin port, 9901 in a sidecar): readiness, stats, server
// info and control. It runs on the main thread's io_context, one request per connection, and
// never touches worker state except through the StatsStore's relaxed reads. The composition
// root (proxy/main.cc) adds the handlers, so this file knows nothing of workers or xDS.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace trellis::proxy {

struct AdminRequest {
  std::string method;
  std::string path;   // without the query string
  std::string query;  // after '?', may be empty
};

struct AdminResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

class AdminServer {
 public:
  using Handler = std::function<AdminResponse(const AdminRequest&)>;

  AdminServer(boost::asio::io_context& ctx, const boost::asio::ip::tcp::endpoint& address);

  // `methods` is "GET", "POST" or "GET,POST"; other methods answer 405.
  void addHandler(const std::string& path, const std::string& methods, const std::string& help, Handler h);
  void start();
  void stop();
  uint16_t port() const { return port_; }

 private:
  boost::asio::awaitable<void> acceptLoop();
  boost::asio::awaitable<void> serve(boost::asio::ip::tcp::socket socket);
  AdminResponse dispatch(const AdminRequest& req);

  struct Entry {
    std::string methods;
    std::string help;
    Handler handler;
  };
  boost::asio::io_context& ctx_;
  boost::asio::ip::tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  std::map<std::string, Entry> handlers_;
};

}  // namespace trellis::proxy
