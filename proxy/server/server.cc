// Start-up, the admin handlers and the drain sequence.
#include "proxy/server/server.h"

#include <fstream>

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include "proxy/snapshot/compile.h"

namespace trellis::proxy {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

absl::StatusOr<tcp::endpoint> adminEndpoint(const envoy::config::bootstrap::v3::Bootstrap& b) {
  if (!b.has_admin() || !b.admin().has_address() || !b.admin().address().has_socket_address()) {
    return absl::InvalidArgumentError("admin.address.socket_address: required (Envoy's sidecar default is 127.0.0.1:9901)");
  }
  const auto& sa = b.admin().address().socket_address();
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(sa.address(), ec);
  if (ec) {
    return absl::InvalidArgumentError("admin.address.socket_address.address: '" + sa.address() +
                                      "' is not an IP address");
  }
  if (sa.port_value() > 65535) {
    return absl::InvalidArgumentError("admin.address.socket_address.port_value: " + std::to_string(sa.port_value()) +
                                      " is not a port (0-65535)");
  }
  return tcp::endpoint(addr, static_cast<uint16_t>(sa.port_value()));
}

std::string jsonEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      snprintf(buf, sizeof(buf), "\\u%04x", c);
      out += buf;
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

Server::Server(ServerOptions options, std::unique_ptr<StatsStore> stats)
    : options_(std::move(options)), stats_(std::move(stats)), signals_(ctx_), drain_timer_(ctx_) {}

Server::~Server() {
  for (auto& w : workers_) w->stopAndJoin();
}

absl::StatusOr<std::unique_ptr<Server>> Server::create(const envoy::config::bootstrap::v3::Bootstrap& bootstrap,
                                                       ServerOptions options) {
  if (options.concurrency == 0) options.concurrency = 1;
  if (bootstrap.has_dynamic_resources()) {
    return absl::InvalidArgumentError("dynamic_resources: xDS is not supported yet; use static_resources");
  }
  auto admin = adminEndpoint(bootstrap);
  if (!admin.ok()) return admin.status();
  auto stats = std::make_unique<StatsStore>(options.concurrency + 1);
  CompileInput input;
  const auto& sr = bootstrap.static_resources();
  for (int i = 0; i < sr.listeners_size(); ++i) {
    input.listeners.push_back({sr.listeners(i), "static_resources.listeners[" + std::to_string(i) + "]"});
  }
  for (int i = 0; i < sr.clusters_size(); ++i) {
    input.clusters.push_back({sr.clusters(i), "static_resources.clusters[" + std::to_string(i) + "]"});
  }
  input.require_known_clusters = true;
  input.version = "static";
  auto snapshot = compileSnapshot(input, *stats);
  if (!snapshot.ok()) return snapshot.status();
  std::unique_ptr<Server> server(new Server(std::move(options), std::move(stats)));
  server->bootstrap_ = bootstrap;
  server->snapshot_ = *snapshot;
  return server;
}

absl::Status Server::start() {
  started_at_ = std::chrono::steady_clock::now();
  for (uint32_t i = 0; i < options_.concurrency; ++i) workers_.push_back(std::make_unique<Worker>(i));

  // Every worker gets its own socket per listener (SO_REUSEPORT): the kernel spreads new
  // connections without a shared accept lock. With port 0 the first bind picks the port and
  // the other workers bind the same one.
  for (const auto& listener : snapshot_->listeners) {
    tcp::endpoint ep = listener->address;
    for (auto& w : workers_) {
      tcp::acceptor acceptor(w->context());
      boost::system::error_code ec;
      acceptor.open(ep.protocol(), ec);
      if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
      if (!ec) {
        int one = 1;
        if (setsockopt(acceptor.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0) {
          ec = boost::system::error_code(errno, boost::system::system_category());
        }
      }
      if (!ec) acceptor.bind(ep, ec);
      if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
      if (ec) {
        return absl::UnavailableError("listener '" + listener->name + "': cannot listen on " +
                                      listener->address.address().to_string() + ":" +
                                      std::to_string(listener->address.port()) + ": " + ec.message());
      }
      ep = acceptor.local_endpoint();
      w->addListener(listener, std::move(acceptor));
    }
    bound_.push_back(BoundListener{listener->name, ep});
  }
  for (auto& w : workers_) {
    w->setSnapshot(snapshot_);
    w->start();
  }

  auto admin_ep = adminEndpoint(bootstrap_);
  try {
    admin_ = std::make_unique<AdminServer>(ctx_, *admin_ep);
  } catch (const boost::system::system_error& e) {
    return absl::UnavailableError("admin: cannot listen on " + admin_ep->address().to_string() + ":" +
                                  std::to_string(admin_ep->port()) + ": " + e.code().message());
  }
  addAdminHandlers();
  admin_->start();

  if (options_.handle_signals) {
    signals_.add(SIGTERM);
    signals_.add(SIGINT);
    signals_.async_wait([this](const boost::system::error_code& ec, int sig) {
      if (ec) return;
      spdlog::info("signal {}: draining for up to {} ms", sig, options_.drain_time.count());
      beginDrain();
    });
  }
  if (!options_.admin_address_path.empty()) {
    std::ofstream f(options_.admin_address_path + ".tmp");
    f << admin_ep->address().to_string() << ":" << admin_->port() << "\n";
    f.close();
    std::rename((options_.admin_address_path + ".tmp").c_str(), options_.admin_address_path.c_str());
  }
  live_ = true;
  for (const auto& b : bound_) {
    spdlog::info("listener '{}' on {}:{}", b.name, b.address.address().to_string(), b.address.port());
  }
  spdlog::info("admin on {}:{}; {} worker(s)", admin_ep->address().to_string(), admin_->port(), workers_.size());
  return absl::OkStatus();
}

void Server::addAdminHandlers() {
  admin_->addHandler("/ready", "GET", "200 LIVE once listeners accept", [this](const AdminRequest&) {
    if (live_ && !draining_) return AdminResponse{200, "text/plain", "LIVE\n"};
    return AdminResponse{503, "text/plain", draining_ ? "DRAINING\n" : "PRE_INITIALIZING\n"};
  });
  admin_->addHandler("/server_info", "GET", "server state as JSON", [this](const AdminRequest&) {
    auto uptime = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started_at_);
    std::string state = draining_ ? "DRAINING" : (live_ ? "LIVE" : "PRE_INITIALIZING");
    std::string body = "{\n  \"version\": \"trellis-proxy\",\n  \"state\": \"" + state +
                       "\",\n  \"uptime_current_epoch\": \"" + std::to_string(uptime.count()) +
                       "s\",\n  \"node\": {\"id\": \"" + jsonEscape(bootstrap_.node().id()) + "\", \"cluster\": \"" +
                       jsonEscape(bootstrap_.node().cluster()) + "\"},\n  \"command_line_options\": {\"concurrency\": " +
                       std::to_string(options_.concurrency) + ", \"drain_time\": \"" +
                       std::to_string(options_.drain_time.count() / 1000) + "s\"}\n}\n";
    return AdminResponse{200, "application/json", body};
  });
  admin_->addHandler("/stats", "GET", "counters and gauges (?filter=substring)", [this](const AdminRequest& r) {
    std::string filter;
    if (r.query.rfind("filter=", 0) == 0) filter = r.query.substr(7);
    return AdminResponse{200, "text/plain; charset=utf-8", formatStatsText(*stats_, filter)};
  });
  admin_->addHandler("/stats/prometheus", "GET", "stats in Prometheus text format", [this](const AdminRequest&) {
    return AdminResponse{200, "text/plain; version=0.0.4", formatStatsPrometheus(*stats_)};
  });
  admin_->addHandler("/listeners", "GET", "listener names and bound addresses", [this](const AdminRequest&) {
    std::string body;
    for (const auto& b : bound_) {
      body += b.name + "::" + b.address.address().to_string() + ":" + std::to_string(b.address.port()) + "\n";
    }
    return AdminResponse{200, "text/plain", body};
  });
  admin_->addHandler("/clusters", "GET", "clusters and their endpoints", [this](const AdminRequest&) {
    std::string body;
    for (const auto& c : snapshot_->clusters) {
      for (const auto& e : c->endpoints) {
        std::string host = e.address.address().to_string() + ":" + std::to_string(e.address.port());
        body += c->name + "::" + host + "::weight::" + std::to_string(e.weight) + "\n";
      }
    }
    return AdminResponse{200, "text/plain", body};
  });
  admin_->addHandler("/quitquitquit", "POST", "drain and exit", [this](const AdminRequest&) {
    asio::post(ctx_, [this] { beginDrain(); });
    return AdminResponse{200, "text/plain", "OK\n"};
  });
}

void Server::run() {
  auto guard = asio::make_work_guard(ctx_);
  (void)guard;
  ctx_.run();
}

void Server::shutdown() {
  asio::post(ctx_, [this] { beginDrain(); });
}

void Server::beginDrain() {
  if (draining_) return;
  draining_ = true;
  signals_.cancel();
  workers_drained_ = 0;
  for (auto& w : workers_) {
    w->drain([this] {
      asio::post(ctx_, [this] {
        if (++workers_drained_ == workers_.size()) finishShutdown();
      });
    });
  }
  drain_timer_.expires_after(options_.drain_time);
  drain_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    spdlog::warn("drain time over: closing the remaining connections");
    finishShutdown();
  });
}

void Server::finishShutdown() {
  if (stopped_) return;
  stopped_ = true;
  drain_timer_.cancel();
  if (admin_) admin_->stop();
  for (auto& w : workers_) w->stopAndJoin();
  ctx_.stop();
}

}  // namespace trellis::proxy
