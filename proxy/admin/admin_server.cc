// Admin endpoint: a deliberately small HTTP/1.1 server (one request per connection).
#include "proxy/admin/admin_server.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <spdlog/spdlog.h>

#include "proxy/http/local_reply.h"

namespace trellis::proxy {

namespace asio = boost::asio;
using asio::ip::tcp;

AdminServer::AdminServer(asio::io_context& ctx, const tcp::endpoint& address) : ctx_(ctx), acceptor_(ctx) {
  acceptor_.open(address.protocol());
  acceptor_.set_option(tcp::acceptor::reuse_address(true));
  acceptor_.bind(address);
  acceptor_.listen();
  port_ = acceptor_.local_endpoint().port();
}

void AdminServer::addHandler(const std::string& path, const std::string& methods, const std::string& help,
                             Handler h) {
  handlers_[path] = Entry{methods, help, std::move(h)};
}

void AdminServer::start() { asio::co_spawn(ctx_, acceptLoop(), asio::detached); }

void AdminServer::stop() {
  boost::system::error_code ignored;
  acceptor_.close(ignored);
}

asio::awaitable<void> AdminServer::acceptLoop() {
  for (;;) {
    auto [ec, socket] = co_await acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
    if (ec) {
      if (!acceptor_.is_open()) co_return;
      continue;
    }
    asio::co_spawn(ctx_, serve(std::move(socket)), asio::detached);
  }
}

asio::awaitable<void> AdminServer::serve(tcp::socket socket) {
  asio::streambuf buf(16 * 1024);
  auto [ec, n] = co_await asio::async_read_until(socket, buf, "\r\n\r\n", asio::as_tuple(asio::use_awaitable));
  AdminResponse resp;
  if (ec) {
    if (ec != asio::error::not_found) co_return;
    resp = AdminResponse{431, "text/plain", "request too large\n"};
  } else {
    std::string head(asio::buffers_begin(buf.data()), asio::buffers_begin(buf.data()) + static_cast<long>(n));
    AdminRequest req;
    size_t sp1 = head.find(' ');
    size_t sp2 = sp1 == std::string::npos ? std::string::npos : head.find(' ', sp1 + 1);
    if (sp2 == std::string::npos) {
      resp = AdminResponse{400, "text/plain", "malformed request line\n"};
    } else {
      req.method = head.substr(0, sp1);
      std::string target = head.substr(sp1 + 1, sp2 - sp1 - 1);
      size_t q = target.find('?');
      req.path = target.substr(0, q);
      if (q != std::string::npos) req.query = target.substr(q + 1);
      resp = dispatch(req);
    }
  }
  std::string out = "HTTP/1.1 " + std::to_string(resp.status) + " " +
                    std::string(http::reasonPhrase(static_cast<uint16_t>(resp.status))) +
                    "\r\ncontent-type: " + resp.content_type + "\r\ncontent-length: " +
                    std::to_string(resp.body.size()) + "\r\nconnection: close\r\n\r\n" + resp.body;
  co_await asio::async_write(socket, asio::buffer(out), asio::as_tuple(asio::use_awaitable));
  boost::system::error_code ignored;
  socket.shutdown(tcp::socket::shutdown_send, ignored);
}

AdminResponse AdminServer::dispatch(const AdminRequest& req) {
  if (req.path == "/" || req.path == "/help") {
    std::string body = "admin commands are:\n";
    for (const auto& [path, e] : handlers_) body += "  " + path + " (" + e.methods + "): " + e.help + "\n";
    return AdminResponse{200, "text/plain; charset=utf-8", body};
  }
  auto it = handlers_.find(req.path);
  if (it == handlers_.end()) return AdminResponse{404, "text/plain", "unknown admin path " + req.path + "; see /help\n"};
  if (it->second.methods.find(req.method) == std::string::npos) {
    return AdminResponse{405, "text/plain", req.path + " accepts " + it->second.methods + "\n"};
  }
  return it->second.handler(req);
}

}  // namespace trellis::proxy
