// Listener filters, filter-chain choice and the hand-over to a session (see connection_setup.h).
#include "proxy/listener/connection_setup.h"

#include <chrono>
#include <string>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include "proxy/listener/filter_chain_select.h"
#include "proxy/listener/original_dst.h"
#include "proxy/listener/tls_client_hello.h"
#include "proxy/net/connection_facts.h"
#include "proxy/net/session.h"
#include "proxy/net/worker.h"
#include "proxy/request/request_flow.h"
#include "proxy/tcp/tcp_proxy_session.h"

namespace trellis::proxy {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

namespace {

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

void closeQuietly(tcp::socket& socket) {
  error_code ec;
  socket.close(ec);
}

// No chain takes the connection: it is closed. On an outbound listener that is the mesh's
// egress filter refusing a destination it does not know.
void refuse(Worker& worker, const Listener& listener, tcp::socket& socket, const ConnectionFacts& facts) {
  auto& ls = listener.listener_stats->shard(worker.id());
  inc(ls.no_filter_chain_match);
  inc(ls.downstream_cx_destroy);
  if (listener.direction == TrafficDirection::Outbound) {
    inc(facts.tls ? ls.egress_denied_tls : ls.egress_denied_tcp);
    if (mayLogRefusal()) {
      spdlog::info("listener {}: egress to {}{} refused: no filter chain allows it ({} from {})", listener.name,
                   endpointText(facts.local), facts.sni.empty() ? "" : " (server name " + facts.sni + ")",
                   facts.tls ? "TLS" : "TCP", endpointText(facts.remote));
    }
  } else if (mayLogRefusal()) {
    spdlog::debug("listener {}: connection to {} from {} matches no filter chain: closed", listener.name,
                  endpointText(facts.local), endpointText(facts.remote));
  }
  closeQuietly(socket);
}

// The chain's session takes the connection (and any bytes the inspector read).
void dispatch(Worker& worker, std::shared_ptr<const Listener> listener, tcp::socket socket, ConnectionFacts facts,
              std::string initial) {
  const auto chain = selectFilterChain(*listener, facts);
  if (!chain) {
    refuse(worker, *listener, socket, facts);
    return;
  }
  const FilterChain& fc = listener->filter_chains[*chain];
  if (fc.http) {
    RequestFlow::create(worker, std::move(listener), *chain, std::move(socket), std::move(facts), std::move(initial));
  } else {
    TcpProxySession::create(worker, std::move(listener), *chain, std::move(socket), std::move(facts),
                            std::move(initial));
  }
}

// A connection waiting for its ClientHello (or for the bytes that show it has none). It is a
// Session meanwhile, so the worker can close it at shutdown.
class TlsInspection final : public Session, public std::enable_shared_from_this<TlsInspection> {
 public:
  TlsInspection(Worker& worker, std::shared_ptr<const Listener> listener, tcp::socket socket, ConnectionFacts facts)
      : worker_(worker),
        listener_(std::move(listener)),
        socket_(std::move(socket)),
        timer_(socket_.get_executor()),
        facts_(std::move(facts)) {
    registration_ = worker_.registerSession(this);
    add(listener_->listener_stats->shard(worker_.id()).downstream_pre_cx_active, 1);
  }
  ~TlsInspection() override {
    add(listener_->listener_stats->shard(worker_.id()).downstream_pre_cx_active, -1);
    worker_.unregisterSession(registration_);
  }

  void start() { asio::co_spawn(socket_.get_executor(), run(), asio::detached); }

  // Nothing was asked yet: a drain lets the client finish its first bytes (bounded by the
  // listener filters' timeout and the worker's close after the drain time).
  void onDrain() override {}
  void forceClose() override {
    closed_ = true;
    timer_.cancel();
    closeQuietly(socket_);
  }
  const Listener* listener() const override { return listener_.get(); }

 private:
  asio::awaitable<void> run() {
    auto self = shared_from_this();
    auto& ls = listener_->listener_stats->shard(worker_.id());
    const auto timeout = listener_->listener_filters_timeout;
    if (timeout.count() > 0) {
      timer_.expires_after(timeout);
      timer_.async_wait([weak = weak_from_this()](const error_code& ec) {
        if (ec) return;
        if (auto s = weak.lock()) {
          s->timed_out_ = true;
          error_code ignored;
          s->socket_.cancel(ignored);
        }
      });
    }
    ClientHelloInfo info;
    ClientHelloStatus status = ClientHelloStatus::NeedMore;
    char chunk[BufferPool::kBlockSize];
    while (status == ClientHelloStatus::NeedMore) {
      auto [ec, n] = co_await socket_.async_read_some(asio::buffer(chunk, sizeof(chunk)), kNoThrow);
      if (closed_) co_return;
      if (ec) {
        if (timed_out_) {
          inc(ls.downstream_pre_cx_timeout);
          if (listener_->continue_on_listener_filters_timeout) break;  // chosen with what is known
        }
        // The client left (or went quiet past the timeout) before saying anything decisive.
        inc(ls.downstream_cx_destroy);
        closeQuietly(socket_);
        co_return;
      }
      bytes_.append(chunk, n);
      status = parseClientHello(bytes_, info);
    }
    timer_.cancel();
    if (status == ClientHelloStatus::Invalid) {
      inc(ls.downstream_listener_filter_error);
      inc(ls.downstream_cx_destroy);
      if (mayLogRefusal()) {
        spdlog::debug("listener {}: malformed or oversized TLS ClientHello from {}: closed", listener_->name,
                      endpointText(facts_.remote));
      }
      closeQuietly(socket_);
      co_return;
    }
    facts_.tls_inspected = true;
    if (status == ClientHelloStatus::Done) {
      facts_.tls = true;
      facts_.sni = std::move(info.sni);
      facts_.alpn = std::move(info.alpn);
    }
    dispatch(worker_, listener_, std::move(socket_), std::move(facts_), std::move(bytes_));
  }

  Worker& worker_;
  std::shared_ptr<const Listener> listener_;
  tcp::socket socket_;
  asio::steady_timer timer_;
  ConnectionFacts facts_;
  std::string bytes_;
  std::list<Session*>::iterator registration_;
  bool closed_ = false;
  bool timed_out_ = false;
};

}  // namespace

void startConnection(Worker& worker, std::shared_ptr<const Listener> listener, tcp::socket socket) {
  inc(listener->listener_stats->shard(worker.id()).downstream_cx_total);
  ConnectionFacts facts;
  error_code ec;
  facts.local = socket.local_endpoint(ec);
  facts.remote = socket.remote_endpoint(ec);
  if (ec) {
    // Reset between accept and here: nothing to serve.
    inc(listener->listener_stats->shard(worker.id()).downstream_cx_destroy);
    closeQuietly(socket);
    return;
  }
  if (listener->original_dst_filter || listener->use_original_dst) {
    if (auto original = originalDestination(socket)) {
      facts.local = *original;
      facts.original_dst_restored = true;
    }
  }
  if (listener->use_original_dst && facts.original_dst_restored) {
    // Meant for another listener: that listener's chains take it (its own listener filters
    // run too; the destination is already restored).
    const auto& snapshot = worker.snapshot();
    const Listener* target = snapshot ? snapshot->findHandoffListener(facts.local, listener.get()) : nullptr;
    if (target) {
      for (const auto& l : snapshot->listeners) {
        if (l.get() != target) continue;
        inc(listener->listener_stats->shard(worker.id()).original_dst_handoff);
        listener = l;
        break;
      }
    }
  }
  if (listener->tls_inspector && listener->chains_need_tls && selectionNeedsTls(*listener, facts)) {
    std::make_shared<TlsInspection>(worker, std::move(listener), std::move(socket), std::move(facts))->start();
    return;
  }
  dispatch(worker, std::move(listener), std::move(socket), std::move(facts), std::string());
}

}  // namespace trellis::proxy
