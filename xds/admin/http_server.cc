// The shared admin HTTP server; see http_server.h. One coroutine per connection reads requests
// in order (Beast's parser enforces the size limits), answers each and keeps the connection only
// while both sides want keep-alive.
#include "xds/admin/http_server.h"

#include <algorithm>
#include <set>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <spdlog/spdlog.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "xds/admin/query.h"

namespace trellis::xds::admin {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

std::optional<std::string> AdminRequest::param(const std::string& name) const { return queryParam(query, name); }

struct AdminServer::State {
  State(asio::io_context& io_context, AdminLimits l)
      : io(io_context), acceptor(io_context), backoff(io_context), limits(l) {}

  struct Entry {
    std::vector<std::string> methods;
    std::string help;
    Handler handler;
  };

  asio::io_context& io;
  tcp::acceptor acceptor;
  // Out of descriptors (EMFILE...): accepting waits on this timer, which a closing connection
  // cancels, instead of failing again at once in a loop.
  asio::steady_timer backoff;
  bool backing_off = false;
  uint64_t accept_backoffs = 0;
  AdminLimits limits;
  uint16_t port = 0;
  std::map<std::string, Entry> handlers;
  std::set<beast::tcp_stream*> open;  // the connections being served, for stop()
  bool stopped = false;
};

namespace {

using State = AdminServer::State;

AdminResponse text(int status, std::string body) { return AdminResponse{status, "text/plain; charset=utf-8", std::move(body)}; }

// The Allow header of a path registered for `methods`.
std::string allowHeader(const std::vector<std::string>& methods) {
  std::vector<std::string> allow = methods;
  if (std::find(allow.begin(), allow.end(), "GET") != allow.end() &&
      std::find(allow.begin(), allow.end(), "HEAD") == allow.end()) {
    allow.push_back("HEAD");
  }
  return absl::StrJoin(allow, ", ");
}

std::string helpTextOf(const State& state) {
  std::string body = "admin commands are:\n";
  for (const auto& [path, e] : state.handlers) {
    absl::StrAppend(&body, "  ", path, " (", absl::StrJoin(e.methods, ","), "): ", e.help, "\n");
  }
  return body;
}

struct Dispatched {
  AdminResponse response;
  std::string allow;  // set on 405
};

Dispatched dispatch(const State& state, const AdminRequest& request, const std::string& help) {
  auto it = state.handlers.find(request.path);
  if (it == state.handlers.end()) {
    // The plain-text index answers at /help, and at / when nothing else is registered there.
    if (request.path == "/help" || request.path == "/") {
      if (request.method == "GET" || request.method == "HEAD") return {text(200, help), ""};
      return {text(405, request.path + " accepts GET\n"), "GET, HEAD"};
    }
    return {text(404, "unknown admin path " + request.path + "; see /help\n"), ""};
  }
  const auto& methods = it->second.methods;
  const bool allowed = std::find(methods.begin(), methods.end(), request.method) != methods.end() ||
                       (request.method == "HEAD" && std::find(methods.begin(), methods.end(), "GET") != methods.end());
  if (!allowed) {
    const std::string allow = allowHeader(methods);
    return {text(405, request.path + " accepts " + allow + "\n"), allow};
  }
  return {it->second.handler(request), ""};
}

bool isParseError(const boost::system::error_code& ec) {
  return ec.category() == http::make_error_code(http::error::bad_target).category();
}

asio::awaitable<void> writeResponse(beast::tcp_stream& stream, const AdminResponse& resp, const std::string& allow,
                                    unsigned version, bool keep_alive, bool head, boost::system::error_code& ec) {
  http::response<http::string_body> res{static_cast<http::status>(resp.status), version};
  res.set(http::field::content_type, resp.content_type);
  res.set(http::field::cache_control, "no-cache");
  if (!allow.empty()) res.set(http::field::allow, allow);
  res.keep_alive(keep_alive);
  res.content_length(resp.body.size());
  if (!head) res.body() = resp.body;
  auto [write_ec, n] = co_await http::async_write(stream, res, asio::as_tuple(asio::use_awaitable));
  ec = write_ec;
}

asio::awaitable<void> serve(std::shared_ptr<State> state, tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  state->open.insert(&stream);
  struct Unregister {
    State& state;
    beast::tcp_stream* stream;
    ~Unregister() {
      state.open.erase(stream);
      if (state.backing_off) state.backoff.cancel();  // a descriptor came back
    }
  } unregister{*state, &stream};
  const AdminLimits& limits = state->limits;
  beast::flat_buffer buffer;
  for (bool first = true;; first = false) {
    if (!first && buffer.size() == 0) {
      // Between requests: the idle timeout, until the next request's first bytes.
      stream.expires_after(limits.idle_timeout);
      auto [ec, n] = co_await stream.async_read_some(buffer.prepare(limits.max_header_bytes),
                                                     asio::as_tuple(asio::use_awaitable));
      if (ec) break;
      buffer.commit(n);
    }
    stream.expires_after(limits.request_deadline);
    http::request_parser<http::string_body> parser;
    parser.header_limit(limits.max_header_bytes);
    parser.body_limit(limits.max_body_bytes);
    auto [ec, n] = co_await http::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
    if (state->stopped) break;
    if (ec == http::error::end_of_stream || ec == http::error::partial_message) break;
    boost::system::error_code write_ec;
    if (ec) {
      if (!isParseError(ec)) break;  // timed out, reset, closed
      AdminResponse resp = ec == http::error::header_limit ? text(431, "request headers too large\n")
                           : ec == http::error::body_limit ? text(413, "request body too large\n")
                                                           : text(400, "malformed request: " + ec.message() + "\n");
      co_await writeResponse(stream, resp, "", 11, false, false, write_ec);
      break;
    }
    const auto& req = parser.get();
    AdminRequest request;
    request.method = std::string(req.method_string());
    const std::string target(req.target());
    const size_t q = target.find('?');
    request.path = target.substr(0, q);
    if (q != std::string::npos) request.query = target.substr(q + 1);
    request.body = req.body();
    Dispatched d = dispatch(*state, request, helpTextOf(*state));
    const bool keep_alive = req.keep_alive() && !state->stopped;
    co_await writeResponse(stream, d.response, d.allow, req.version(), keep_alive, request.method == "HEAD", write_ec);
    if (write_ec || !keep_alive || state->stopped) break;
  }
  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  stream.close();
}

// Over the connection cap: a short 503, then close.
asio::awaitable<void> refuse(tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  stream.expires_after(std::chrono::seconds(1));
  boost::system::error_code ec;
  co_await writeResponse(stream, text(503, "too many admin connections\n"), "", 11, false, false, ec);
  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  // Read what the client sent until it closes, so closing does not reset the connection
  // before the client has read the 503.
  char sink[1024];
  for (;;) {
    auto [read_ec, n] = co_await stream.async_read_some(asio::buffer(sink), asio::as_tuple(asio::use_awaitable));
    if (read_ec) break;
  }
  stream.close();
}

bool outOfResources(const boost::system::error_code& ec) {
  return ec == asio::error::no_descriptors || ec.value() == ENFILE || ec == asio::error::no_buffer_space ||
         ec == asio::error::no_memory;
}

asio::awaitable<void> acceptLoop(std::shared_ptr<State> state) {
  constexpr std::chrono::milliseconds kFirst{10}, kMax{1000};
  std::chrono::milliseconds delay{0};
  while (!state->stopped) {
    auto [ec, socket] = co_await state->acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
    if (state->stopped || ec == asio::error::operation_aborted) co_return;
    if (outOfResources(ec)) {
      // The connection stays queued, so accepting again at once fails again at once. Wait
      // until a connection closes or for a delay growing from 10 ms to 1 s.
      ++state->accept_backoffs;
      if (delay.count() == 0) {
        spdlog::warn("admin: accept failed: {}; pausing accepts until a connection closes (at most {} ms)",
                     ec.message(), kMax.count());
      }
      delay = delay.count() == 0 ? kFirst : std::min(kMax, delay * 2);
      state->backing_off = true;
      state->backoff.expires_after(delay);
      co_await state->backoff.async_wait(asio::as_tuple(asio::use_awaitable));  // expired or cancelled
      state->backing_off = false;
      continue;
    }
    if (ec) {
      spdlog::warn("admin: accept failed: {}", ec.message());
      continue;
    }
    delay = std::chrono::milliseconds(0);
    if (state->open.size() >= state->limits.max_connections) {
      asio::co_spawn(state->io, refuse(std::move(socket)), asio::detached);
      continue;
    }
    asio::co_spawn(state->io, serve(state, std::move(socket)), asio::detached);
  }
}

}  // namespace

AdminServer::AdminServer(std::shared_ptr<State> state) : state_(std::move(state)) {}

AdminServer::~AdminServer() { stop(); }

absl::StatusOr<tcp::endpoint> AdminServer::parseAddress(const std::string& host_port) {
  const size_t colon = host_port.rfind(':');
  uint32_t port = 0;
  if (colon == std::string::npos || !absl::SimpleAtoi(host_port.substr(colon + 1), &port) || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("admin address '", host_port, "' is not host:port (e.g. 127.0.0.1:15011)"));
  }
  std::string host = host_port.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  boost::system::error_code ec;
  const asio::ip::address address = asio::ip::make_address(host, ec);
  if (ec) {
    return absl::InvalidArgumentError(absl::StrCat("admin address '", host_port, "': '", host, "' is not an IP address"));
  }
  return tcp::endpoint(address, static_cast<uint16_t>(port));
}

absl::StatusOr<std::unique_ptr<AdminServer>> AdminServer::create(asio::io_context& io, const tcp::endpoint& address,
                                                                 AdminLimits limits) {
  auto state = std::make_shared<State>(io, limits);
  boost::system::error_code ec;
  state->acceptor.open(address.protocol(), ec);
  if (!ec) state->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) state->acceptor.bind(address, ec);
  if (!ec) state->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(absl::StrCat("admin: cannot listen on ", address.address().to_string(), ":",
                                               address.port(), ": ", ec.message()));
  }
  state->port = state->acceptor.local_endpoint().port();
  return std::unique_ptr<AdminServer>(new AdminServer(std::move(state)));
}

void AdminServer::addHandler(const std::string& path, const std::string& methods, const std::string& help,
                             Handler handler) {
  std::vector<std::string> list;
  for (absl::string_view m : absl::StrSplit(methods, ',', absl::SkipEmpty())) {
    list.emplace_back(absl::StripAsciiWhitespace(m));
  }
  state_->handlers[path] = State::Entry{std::move(list), help, std::move(handler)};
}

void AdminServer::start() { asio::co_spawn(state_->io, acceptLoop(state_), asio::detached); }

void AdminServer::stop() {
  if (state_->stopped) return;
  state_->stopped = true;
  boost::system::error_code ignored;
  state_->acceptor.close(ignored);
  state_->backoff.cancel();
  for (beast::tcp_stream* stream : state_->open) stream->socket().close(ignored);
}

uint16_t AdminServer::port() const { return state_->port; }

size_t AdminServer::openConnections() const { return state_->open.size(); }

uint64_t AdminServer::acceptBackoffs() const { return state_->accept_backoffs; }

std::string AdminServer::helpText() const { return helpTextOf(*state_); }

}  // namespace trellis::xds::admin
