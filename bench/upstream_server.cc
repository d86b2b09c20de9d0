// UpstreamServer: accept loop, per-connection session with llhttp, gathered writes.
#include "bench/upstream_server.h"

#include <atomic>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include "absl/strings/str_cat.h"
#include "llhttp.h"

namespace trellis::bench {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

struct UpstreamServer::Worker {
  asio::io_context io{1};
  std::atomic<uint64_t> served{0};
};

namespace {

constexpr size_t kReadBufferSize = 16 * 1024;

// One accepted connection. Exactly one operation (a read or a write) is outstanding at a time,
// and each handler holds the session alive through its shared_ptr.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const std::string& response, const std::string& closeResponse,
          std::atomic<uint64_t>& served)
      : socket_(std::move(socket)),
        response_(response),
        closeResponse_(closeResponse),
        served_(served) {
    static const llhttp_settings_t settings = makeSettings();
    llhttp_init(&parser_, HTTP_REQUEST, &settings);
    parser_.data = this;
  }

  void start() {
    error_code ignored;
    socket_.set_option(tcp::no_delay(true), ignored);
    read();
  }

 private:
  static llhttp_settings_t makeSettings() {
    llhttp_settings_t s;
    llhttp_settings_init(&s);
    s.on_message_complete = [](llhttp_t* p) -> int {
      auto* self = static_cast<Session*>(p->data);
      ++self->owed_;
      if (!llhttp_should_keep_alive(p)) {
        self->closeAfterWrite_ = true;
        return HPE_PAUSED;  // anything after a closing request is ignored
      }
      return 0;
    };
    return s;
  }

  void read() {
    socket_.async_read_some(asio::buffer(buffer_, sizeof buffer_),
                            [self = shared_from_this()](const error_code& ec, size_t n) {
                              if (!ec) self->onRead(n);
                            });
  }

  void onRead(size_t n) {
    const llhttp_errno_t err = llhttp_execute(&parser_, buffer_, n);
    if (err != HPE_OK && err != HPE_PAUSED) {
      // Malformed request: answer what was complete before it, then close.
      closeAfterWrite_ = true;
    }
    if (owed_ == 0) {
      if (closeAfterWrite_) return;  // nothing owed, just close (the session ends here)
      read();
      return;
    }
    writeOwed();
  }

  void writeOwed() {
    const uint64_t count = owed_;
    owed_ = 0;
    served_.fetch_add(count, std::memory_order_relaxed);
    auto done = [self = shared_from_this()](const error_code& ec, size_t) {
      if (ec) return;
      if (self->closeAfterWrite_) {
        error_code ignored;
        self->socket_.shutdown(tcp::socket::shutdown_send, ignored);
        return;
      }
      self->read();
    };
    if (count == 1) {
      const std::string& r = closeAfterWrite_ ? closeResponse_ : response_;
      asio::async_write(socket_, asio::buffer(r), std::move(done));
      return;
    }
    // Pipelined requests: one gathered write of `count` responses.
    gather_.assign(count, asio::buffer(response_));
    if (closeAfterWrite_) gather_.back() = asio::buffer(closeResponse_);
    asio::async_write(socket_, gather_, std::move(done));
  }

  tcp::socket socket_;
  const std::string& response_;
  const std::string& closeResponse_;
  std::atomic<uint64_t>& served_;
  llhttp_t parser_;
  uint64_t owed_ = 0;
  bool closeAfterWrite_ = false;
  std::vector<asio::const_buffer> gather_;
  char buffer_[kReadBufferSize];
};

std::string makeResponse(size_t bodySize, bool close) {
  std::string r = absl::StrCat("HTTP/1.1 200 OK\r\nContent-Length: ", bodySize, "\r\n",
                               close ? "Connection: close\r\n" : "", "\r\n");
  r.append(bodySize, 'x');
  return r;
}

}  // namespace

UpstreamServer::UpstreamServer(const Options& options)
    : options_(options),
      response_(makeResponse(options.bodySize, false)),
      closeResponse_(makeResponse(options.bodySize, true)) {
  const int n = std::max(1, options.threads);
  for (int i = 0; i < n; ++i) workers_.push_back(std::make_unique<Worker>());
}

UpstreamServer::~UpstreamServer() {
  stop();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  acceptor_.reset();
}

absl::StatusOr<std::unique_ptr<UpstreamServer>> UpstreamServer::create(const Options& options) {
  std::unique_ptr<UpstreamServer> server(new UpstreamServer(options));
  auto acceptor = std::make_unique<tcp::acceptor>(server->workers_[0]->io);
  error_code ec;
  acceptor->open(options.listen.protocol(), ec);
  if (!ec) acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor->bind(options.listen, ec);
  if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(absl::StrCat("bench-upstream: cannot listen on ",
                                               options.listen.address().to_string(), ":",
                                               options.listen.port(), ": ", ec.message()));
  }
  server->acceptor_ = std::move(acceptor);
  server->accept();
  return server;
}

tcp::endpoint UpstreamServer::localEndpoint() const {
  error_code ec;
  return acceptor_->local_endpoint(ec);
}

void UpstreamServer::accept() {
  Worker& target = *workers_[nextWorker_];
  nextWorker_ = (nextWorker_ + 1) % workers_.size();
  acceptor_->async_accept(target.io, [this, &target](const error_code& ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted) return;
    if (!ec) {
      auto session = std::make_shared<Session>(std::move(socket), response_, closeResponse_,
                                               target.served);
      asio::post(target.io, [session] { session->start(); });
    }
    // Out of descriptors and similar: keep accepting; the failed one is gone.
    accept();
  });
}

void UpstreamServer::run() {
  for (size_t i = 1; i < workers_.size(); ++i) {
    Worker* w = workers_[i].get();
    threads_.emplace_back([w] {
      auto guard = asio::make_work_guard(w->io);
      w->io.run();
    });
  }
  auto guard = asio::make_work_guard(workers_[0]->io);
  workers_[0]->io.run();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

void UpstreamServer::stop() {
  for (auto& w : workers_) w->io.stop();
}

uint64_t UpstreamServer::requestsServed() const {
  uint64_t total = 0;
  for (const auto& w : workers_) total += w->served.load(std::memory_order_relaxed);
  return total;
}

}  // namespace trellis::bench
