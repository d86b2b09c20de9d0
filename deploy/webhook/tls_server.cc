// The webhook's HTTPS server (see tls_server.h).
#include "deploy/webhook/tls_server.h"

#include <chrono>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <spdlog/spdlog.h>

#include "absl/strings/str_cat.h"

namespace trellis::deploy {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kHandshakeDeadline = std::chrono::seconds(10);
constexpr auto kRequestDeadline = std::chrono::seconds(10);
constexpr auto kIdleTimeout = std::chrono::seconds(60);
// A pod with many containers and long env lists stays far below this.
constexpr uint64_t kMaxBodyBytes = 8 * 1024 * 1024;

absl::StatusOr<std::shared_ptr<ssl::context>> loadContext(const std::string& cert_path, const std::string& key_path) {
  auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
  context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                       ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
  boost::system::error_code ec;
  context->use_certificate_chain_file(cert_path, ec);
  if (ec) return absl::InvalidArgumentError(absl::StrCat("--tls-cert ", cert_path, ": ", ec.message()));
  context->use_private_key_file(key_path, ssl::context::pem, ec);
  if (ec) return absl::InvalidArgumentError(absl::StrCat("--tls-key ", key_path, ": ", ec.message()));
  if (SSL_CTX_check_private_key(context->native_handle()) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("--tls-key ", key_path, ": does not belong to the certificate in ", cert_path));
  }
  return context;
}

}  // namespace

struct TlsHttpServer::State {
  explicit State(asio::io_context& io) : io(io), acceptor(io) {}
  asio::io_context& io;
  tcp::acceptor acceptor;
  std::string cert_path;
  std::string key_path;
  std::shared_ptr<ssl::context> context;
  Handler handler;
  bool stopped = false;
};

namespace {

using Stream = beast::ssl_stream<beast::tcp_stream>;

asio::awaitable<void> writeResponse(Stream& stream, const TlsResponse& response, unsigned version, bool keep_alive,
                                    boost::system::error_code& ec) {
  http::response<http::string_body> res{static_cast<http::status>(response.status), version};
  res.set(http::field::content_type, response.content_type);
  res.keep_alive(keep_alive);
  res.body() = response.body;
  res.prepare_payload();
  auto [write_ec, n] = co_await http::async_write(stream, res, asio::as_tuple(asio::use_awaitable));
  ec = write_ec;
}

asio::awaitable<void> serve(std::shared_ptr<TlsHttpServer::State> state, std::shared_ptr<ssl::context> context,
                            tcp::socket socket) {
  Stream stream(beast::tcp_stream(std::move(socket)), *context);
  beast::get_lowest_layer(stream).expires_after(kHandshakeDeadline);
  auto [handshake_ec] = co_await stream.async_handshake(ssl::stream_base::server, asio::as_tuple(asio::use_awaitable));
  if (handshake_ec) {
    spdlog::debug("webhook: TLS handshake failed: {}", handshake_ec.message());
    co_return;
  }
  beast::flat_buffer buffer;
  for (bool first = true;; first = false) {
    beast::get_lowest_layer(stream).expires_after(first ? kRequestDeadline : kIdleTimeout);
    http::request_parser<http::string_body> parser;
    parser.body_limit(kMaxBodyBytes);
    auto [ec, n] = co_await http::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
    if (ec == http::error::end_of_stream || ec == asio::ssl::error::stream_truncated || state->stopped) break;
    boost::system::error_code write_ec;
    if (ec) {
      if (ec.category() != http::make_error_code(http::error::bad_target).category()) break;
      TlsResponse bad{ec == http::error::body_limit ? 413 : 400, "text/plain; charset=utf-8",
                      absl::StrCat("malformed request: ", ec.message(), "\n")};
      co_await writeResponse(stream, bad, 11, false, write_ec);
      break;
    }
    const auto& req = parser.get();
    TlsRequest request{std::string(req.method_string()), std::string(req.target()), req.body()};
    TlsResponse response;
    try {
      response = state->handler(request);
    } catch (const std::exception& e) {
      // The handler is written not to throw; this keeps a bug from taking the server down.
      spdlog::error("webhook: handler failed: {}", e.what());
      response = TlsResponse{500, "text/plain; charset=utf-8", "internal error\n"};
    }
    bool keep_alive = req.keep_alive() && !state->stopped;
    co_await writeResponse(stream, response, req.version(), keep_alive, write_ec);
    if (write_ec || !keep_alive) break;
  }
  beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(2));
  co_await stream.async_shutdown(asio::as_tuple(asio::use_awaitable));
  beast::get_lowest_layer(stream).close();
}

asio::awaitable<void> acceptLoop(std::shared_ptr<TlsHttpServer::State> state) {
  while (!state->stopped) {
    auto [ec, socket] = co_await state->acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
    if (state->stopped || ec == asio::error::operation_aborted) co_return;
    if (ec) {
      spdlog::warn("webhook: accept failed: {}", ec.message());
      continue;
    }
    asio::co_spawn(state->io, serve(state, state->context, std::move(socket)), asio::detached);
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<TlsHttpServer>> TlsHttpServer::create(asio::io_context& io, const tcp::endpoint& address,
                                                                    const std::string& cert_path,
                                                                    const std::string& key_path, Handler handler) {
  auto context = loadContext(cert_path, key_path);
  if (!context.ok()) return context.status();
  auto state = std::make_shared<State>(io);
  state->cert_path = cert_path;
  state->key_path = key_path;
  state->context = *context;
  state->handler = std::move(handler);
  boost::system::error_code ec;
  state->acceptor.open(address.protocol(), ec);
  if (!ec) state->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) state->acceptor.bind(address, ec);
  if (!ec) state->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("--listen ", address.address().to_string(), ":", address.port(), ": ", ec.message()));
  }
  return std::unique_ptr<TlsHttpServer>(new TlsHttpServer(std::move(state)));
}

TlsHttpServer::TlsHttpServer(std::shared_ptr<State> state) : state_(std::move(state)) {}

TlsHttpServer::~TlsHttpServer() { stop(); }

void TlsHttpServer::start() { asio::co_spawn(state_->io, acceptLoop(state_), asio::detached); }

void TlsHttpServer::stop() {
  if (state_->stopped) return;
  state_->stopped = true;
  boost::system::error_code ignored;
  state_->acceptor.close(ignored);
}

uint16_t TlsHttpServer::port() const {
  boost::system::error_code ec;
  return state_->acceptor.local_endpoint(ec).port();
}

absl::Status TlsHttpServer::reloadCertificate() {
  auto context = loadContext(state_->cert_path, state_->key_path);
  if (!context.ok()) return context.status();
  state_->context = *context;
  return absl::OkStatus();
}

}  // namespace trellis::deploy
