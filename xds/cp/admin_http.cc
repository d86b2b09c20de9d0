// A small HTTP/1.1 server for trellis-cp's admin pages; see admin_http.h.
#include "xds/cp/admin_http.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <spdlog/spdlog.h>

#include <chrono>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace trellis::cp {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

constexpr size_t kMaxRequestBytes = 16 * 1024;
constexpr auto kRequestDeadline = std::chrono::seconds(5);

const char* reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 400: return "Bad Request";
    case 503: return "Service Unavailable";
    default: return "Error";
  }
}

}  // namespace

AdminHttp::AdminHttp(asio::io_context& io) : io_(io), acceptor_(io) {}

absl::StatusOr<std::unique_ptr<AdminHttp>> AdminHttp::start(asio::io_context& io, const std::string& listen) {
  const size_t colon = listen.rfind(':');
  uint32_t port = 0;
  if (colon == std::string::npos || !absl::SimpleAtoi(listen.substr(colon + 1), &port) || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("admin address '", listen, "' is not host:port (e.g. 127.0.0.1:15011)"));
  }
  boost::system::error_code ec;
  const asio::ip::address address = asio::ip::make_address(listen.substr(0, colon), ec);
  if (ec) {
    return absl::InvalidArgumentError(
        absl::StrCat("admin address '", listen, "': '", listen.substr(0, colon), "' is not an IP address"));
  }
  std::unique_ptr<AdminHttp> server(new AdminHttp(io));
  const tcp::endpoint endpoint(address, static_cast<uint16_t>(port));
  server->acceptor_.open(endpoint.protocol(), ec);
  if (!ec) server->acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) server->acceptor_.bind(endpoint, ec);
  if (!ec) server->acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return absl::UnavailableError(absl::StrCat("cannot serve admin on '", listen, "': ", ec.message()));
  server->port_ = server->acceptor_.local_endpoint().port();
  asio::co_spawn(io, server->acceptLoop(), asio::detached);
  return server;
}

void AdminHttp::handle(const std::string& path, Handler handler) { handlers_[path] = std::move(handler); }

void AdminHttp::stop() {
  *alive_ = false;
  boost::system::error_code ignored;
  acceptor_.close(ignored);
}

asio::awaitable<void> AdminHttp::acceptLoop() {
  const std::shared_ptr<bool> alive = alive_;
  while (*alive) {
    auto [ec, socket] = co_await acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
    if (!*alive) co_return;
    if (ec) {
      if (ec == asio::error::operation_aborted) co_return;
      spdlog::warn("admin: accept failed: {}", ec.message());
      continue;
    }
    asio::co_spawn(io_, serve(std::move(socket)), asio::detached);
  }
}

asio::awaitable<void> AdminHttp::serve(tcp::socket socket) {
  // One deadline for the whole exchange: when it fires, the socket closes and the reads fail.
  asio::steady_timer deadline(io_);
  deadline.expires_after(kRequestDeadline);
  deadline.async_wait([&socket](const boost::system::error_code& ec) {
    if (!ec) {
      boost::system::error_code ignored;
      socket.close(ignored);
    }
  });
  std::string request;
  auto [ec, header_end] = co_await asio::async_read_until(
      socket, asio::dynamic_buffer(request, kMaxRequestBytes), "\r\n\r\n", asio::as_tuple(asio::use_awaitable));
  AdminReply reply;
  std::string method;
  if (ec) {
    if (ec != asio::error::not_found) co_return;  // closed, timed out
    reply = AdminReply{400, "text/plain; charset=utf-8", "request headers too large\n"};
  } else {
    // Request line: METHOD SP TARGET SP VERSION
    const size_t line_end = request.find("\r\n");
    const std::string line = request.substr(0, line_end);
    const size_t sp1 = line.find(' ');
    const size_t sp2 = sp1 == std::string::npos ? std::string::npos : line.find(' ', sp1 + 1);
    if (sp2 == std::string::npos) {
      reply = AdminReply{400, "text/plain; charset=utf-8", "malformed request line\n"};
    } else {
      method = line.substr(0, sp1);
      reply = dispatch(method, line.substr(sp1 + 1, sp2 - sp1 - 1));
    }
  }
  std::string response = absl::StrCat("HTTP/1.1 ", reply.status, " ", reason(reply.status),
                                      "\r\nContent-Type: ", reply.content_type,
                                      "\r\nContent-Length: ", reply.body.size(),
                                      "\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n");
  if (method != "HEAD") response += reply.body;
  co_await asio::async_write(socket, asio::buffer(response), asio::as_tuple(asio::use_awaitable));
  boost::system::error_code ignored;
  socket.shutdown(tcp::socket::shutdown_both, ignored);
  deadline.cancel();
}

AdminReply AdminHttp::dispatch(const std::string& method, const std::string& target) const {
  const std::string path = target.substr(0, target.find('?'));
  auto it = handlers_.find(path);
  if (it == handlers_.end()) {
    std::string body = "not found; endpoints:\n";
    for (const auto& [known, handler] : handlers_) absl::StrAppend(&body, "  ", known, "\n");
    return AdminReply{404, "text/plain; charset=utf-8", body};
  }
  if (method != "GET" && method != "HEAD") {
    return AdminReply{405, "text/plain; charset=utf-8", absl::StrCat(path, " answers GET only\n")};
  }
  return it->second();
}

}  // namespace trellis::cp
