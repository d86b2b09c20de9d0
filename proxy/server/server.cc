// Start-up, the admin handlers and the drain sequence.
#include "proxy/server/server.h"

#include <fstream>
#include <future>

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include "proxy/listener/connection_setup.h"
#include "proxy/server/clusters_document.h"
#include "proxy/server/status_page.h"
#include "xds/admin/json.h"
#include "proxy/server/node_identity.h"
#include "proxy/server/overload_settings.h"
#include "proxy/server/upstream_health.h"
#include "proxy/snapshot/compile.h"
#include "proxy/stats/exposition.h"

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

// The gRPC target of the ADS server: ads_config's envoy_grpc cluster, a static cluster.
absl::StatusOr<std::string> xdsTarget(const envoy::config::bootstrap::v3::Bootstrap& b, const Snapshot& snapshot) {
  const auto& dr = b.dynamic_resources();
  for (const auto* name : {"lds_config", "cds_config"}) {
    const auto& cs = std::string(name) == "lds_config" ? dr.lds_config() : dr.cds_config();
    bool present = std::string(name) == "lds_config" ? dr.has_lds_config() : dr.has_cds_config();
    if (present && !cs.has_ads()) {
      return absl::InvalidArgumentError(std::string("dynamic_resources.") + name +
                                        ": only ads: {} is supported (everything comes over one ADS stream)");
    }
  }
  if (!dr.has_ads_config()) return absl::InvalidArgumentError("dynamic_resources.ads_config: required");
  const auto& ads = dr.ads_config();
  using Api = envoy::config::core::v3::ApiConfigSource;
  if (ads.api_type() != Api::GRPC && ads.api_type() != Api::AGGREGATED_GRPC) {
    return absl::InvalidArgumentError("dynamic_resources.ads_config.api_type: " + Api::ApiType_Name(ads.api_type()) +
                                      " is not supported (GRPC is)");
  }
  if (ads.transport_api_version() != envoy::config::core::v3::V3) {
    return absl::InvalidArgumentError("dynamic_resources.ads_config.transport_api_version: must be V3");
  }
  if (ads.grpc_services_size() != 1 || !ads.grpc_services(0).has_envoy_grpc()) {
    return absl::InvalidArgumentError(
        "dynamic_resources.ads_config.grpc_services: exactly one entry with envoy_grpc.cluster_name is required");
  }
  const std::string& cluster = ads.grpc_services(0).envoy_grpc().cluster_name();
  for (const auto& c : snapshot.clusters) {
    if (c->name != cluster) continue;
    if (c->endpoints.empty()) {
      return absl::InvalidArgumentError("static cluster '" + cluster + "' (the xDS server) has no endpoints");
    }
    const auto& ep = c->endpoints[0].address;
    return (ep.address().is_v6() ? "ipv6:[" + ep.address().to_string() + "]:" : "ipv4:" + ep.address().to_string() + ":") +
           std::to_string(ep.port());
  }
  return absl::InvalidArgumentError("dynamic_resources.ads_config.grpc_services[0].envoy_grpc.cluster_name: '" + cluster +
                                    "' is not a static cluster");
}

}  // namespace

Server::Server(ServerOptions options, std::unique_ptr<StatsStore> stats)
    : options_(std::move(options)),
      stats_(std::move(stats)),
      signals_(ctx_),
      drain_timer_(ctx_),
      initial_fetch_timer_(ctx_),
      graceful_timer_(ctx_) {}

Server::~Server() {
  if (stream_) stream_->stop();
  if (health_) health_->stop();
  for (auto& w : workers_) w->stopAndJoin();
  if (log_files_) log_files_->flushAndStop();
}

void Server::runOnMain(std::function<void()> fn) {
  std::promise<void> done;
  asio::post(ctx_, [&] {
    fn();
    done.set_value();
  });
  done.get_future().wait();
}

absl::StatusOr<std::unique_ptr<Server>> Server::create(const envoy::config::bootstrap::v3::Bootstrap& bootstrap,
                                                       ServerOptions options) {
  if (options.concurrency == 0) options.concurrency = 1;
  auto admin = adminEndpoint(bootstrap);
  if (!admin.ok()) return admin.status();
  auto node = resolveNode(bootstrap.node(), options.getenv);
  if (!node.ok()) return node.status();
  auto overload = readOverloadSettings(bootstrap);
  if (!overload.ok()) return overload.status();
  for (const std::string& warning : overload->warnings) spdlog::warn("bootstrap: {}", warning);
  auto stats = std::make_unique<StatsStore>(options.concurrency + 1);
  auto state = std::make_unique<XdsState>(bootstrap);
  state->setListenerConnectionLimits(overload->listener_connection_limits);
  auto log_files = std::make_unique<accesslog::LogFiles>(options.concurrency, *stats);
  state->setLogFiles(log_files.get());
  auto snapshot = state->compileCurrent(*stats);
  if (!snapshot.ok()) return snapshot.status();
  std::unique_ptr<Server> server(new Server(std::move(options), std::move(stats)));
  server->bootstrap_ = bootstrap;
  server->node_ = *node;
  server->state_ = std::move(state);
  server->log_files_ = std::move(log_files);
  server->global_connections_.max.store(overload->global_max_connections);
  server->snapshot_ = *snapshot;
  if (bootstrap.has_dynamic_resources()) {
    auto target = xdsTarget(bootstrap, *server->snapshot_);
    if (!target.ok()) return target.status();
    if (server->node_.id().empty()) {
      return absl::InvalidArgumentError(
          "node.id: required with dynamic_resources (set it in the bootstrap, or APPMESH_RESOURCE_ARN / "
          "APPMESH_VIRTUAL_NODE_NAME in the environment)");
    }
    server->xds_target_ = *target;
    const auto& dr = bootstrap.dynamic_resources();
    if (dr.lds_config().has_initial_fetch_timeout()) {
      const auto& d = dr.lds_config().initial_fetch_timeout();
      server->initial_fetch_timeout_ = std::chrono::milliseconds(d.seconds() * 1000 + d.nanos() / 1000000);
    }
  }
  return server;
}

absl::Status Server::start() {
  started_at_ = std::chrono::steady_clock::now();
  stats_->server().concurrency.store(options_.concurrency);
  health_ = std::make_unique<UpstreamHealth>(ctx_, *stats_, [this](std::shared_ptr<const HealthView> view) {
    for (auto& w : workers_) w->setHealth(view);
  });
  health_->setOnCheck([this] {
    if (live_wanted_ && health_->initialChecksDone()) markLive();
  });
  for (uint32_t i = 0; i < options_.concurrency; ++i) {
    auto w = std::make_unique<Worker>(i, &startConnection);
    // Counted only under a global limit: otherwise no connection pays for a shared write.
    if (global_connections_.max.load() > 0) w->setGlobalConnections(&global_connections_);
    // A worker's outlier signal is handled on the main thread.
    w->setOutlierSink([this](const std::string& cluster, const tcp::endpoint& host, OutlierSignal signal) {
      asio::post(ctx_, [this, cluster, host, signal] {
        if (health_ && !stopped_) health_->onOutlierSignal(cluster, hostAddress(host), signal);
      });
    });
    workers_.push_back(std::move(w));
  }
  std::vector<asio::io_context*> contexts;
  for (auto& w : workers_) contexts.push_back(&w->context());
  log_files_->setWorkerContexts(std::move(contexts));
  for (auto& w : workers_) w->start();
  if (auto st = applySnapshot(snapshot_); !st.ok()) return st;
  onLifecycle(Lifecycle::Event::Start);

  auto admin_ep = adminEndpoint(bootstrap_);
  auto admin = AdminServer::create(ctx_, *admin_ep);
  if (!admin.ok()) return admin.status();
  admin_ = std::move(*admin);
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
  spdlog::info("admin on {}:{}; {} worker(s)", admin_ep->address().to_string(), admin_->port(), workers_.size());
  if (xds_target_.empty()) {
    markLive();
  } else {
    if (auto st = startXds(); !st.ok()) return st;
  }
  return absl::OkStatus();
}

void Server::onLifecycle(Lifecycle::Event event) {
  if (!lifecycle_.on(event)) return;
  const ServerState st = lifecycle_.reported();
  state_number_.store(static_cast<int64_t>(st));
  stats_->server().state.store(static_cast<int64_t>(st));
  stats_->server().live.store(st == ServerState::Live ? 1 : 0);
}

void Server::markLive() {
  if (lifecycle_.phase() != ServerState::Initializing) return;
  // As Envoy's cluster warming: with active health checks, the first round must have completed
  // (each first check ends within its timeout), so /ready never sends traffic to hosts that are
  // all still pending.
  if (!health_->initialChecksDone()) {
    live_wanted_ = true;
    return;
  }
  live_wanted_ = false;
  initial_fetch_timer_.cancel();
  onLifecycle(Lifecycle::Event::ConfigApplied);
  spdlog::info("live: {} listener(s), {} cluster(s)", bound_.size(), snapshot_->clusters.size());
}

absl::Status Server::applySnapshot(std::shared_ptr<const Snapshot> snapshot) {
  // 1. Bind every new or changed listener first, so a bind failure changes nothing.
  struct Pending {
    std::shared_ptr<const Listener> listener;
    std::vector<tcp::acceptor> acceptors;
    tcp::endpoint bound;
  };
  std::vector<Pending> pending;
  std::map<std::string, std::shared_ptr<const Listener>> kept;
  for (const auto& listener : snapshot->listeners) {
    auto it = active_.find(listener->name);
    if (it != active_.end() && it->second.listener->source == listener->source) {
      kept[listener->name] = listener;
      continue;
    }
    Pending p;
    p.listener = listener;
    if (!listener->bind_to_port) {
      // Never bound: a use_original_dst listener hands it the connections meant for its address.
      p.bound = listener->address;
      pending.push_back(std::move(p));
      continue;
    }
    tcp::endpoint ep = listener->address;
    // Replacing a listener on the same port: reuse the port it has (port 0 picked one).
    if (it != active_.end() && ep.port() == 0 && it->second.listener->address == listener->address) {
      ep = it->second.bound.address;
    }
    for (auto& w : workers_) {
      tcp::acceptor acceptor(w->context());
      boost::system::error_code ec;
      acceptor.open(ep.protocol(), ec);
      if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
      if (!ec) {
        // Every worker gets its own socket (SO_REUSEPORT): the kernel spreads new connections
        // without a shared accept lock, and a replacement binds before the old one closes.
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
      ep = acceptor.local_endpoint();  // with port 0, the others bind the port the first got
      p.acceptors.push_back(std::move(acceptor));
    }
    p.bound = ep;
    pending.push_back(std::move(p));
  }
  // 2. Publish: the snapshot first (requests use it from now on), then the new sockets, then
  // close and drain what was replaced or removed.
  snapshot_ = snapshot;
  auto health = health_->apply(snapshot);
  for (auto& w : workers_) w->setSnapshot(snapshot, health);
  std::map<std::string, ActiveListener> next;
  for (auto& p : pending) {
    for (size_t i = 0; i < p.acceptors.size(); ++i) workers_[i]->addListener(p.listener, std::move(p.acceptors[i]));
    next[p.listener->name] = ActiveListener{p.listener, BoundListener{p.listener->name, p.bound}};
    spdlog::info("listener '{}' on {}:{}", p.listener->name, p.bound.address().to_string(), p.bound.port());
  }
  for (auto& [name, active] : active_) {
    if (kept.count(name)) {
      next[name] = active;
      continue;
    }
    for (auto& w : workers_) w->removeListener(active.listener, options_.drain_time);
    spdlog::info("listener '{}' {}", name, next.count(name) ? "replaced; draining its connections" : "removed");
  }
  active_ = std::move(next);
  bound_.clear();
  for (const auto& [name, a] : active_) bound_.push_back(a.bound);
  return absl::OkStatus();
}

absl::Status Server::startXds() {
  mux_ = std::make_unique<xds::client::AdsMux>(
      node_,
      [this](const xds::client::AdsMux::Request& r) {
        if (stream_) stream_->send(r);
      },
      [this](const std::string& type, const std::vector<google::protobuf::Any>& res, const std::string& version) {
        return onXdsUpdate(type, res, version);
      });
  const auto& dr = bootstrap_.dynamic_resources();
  if (dr.has_cds_config()) mux_->subscribeWildcard(xds::client::kClusterType);
  if (dr.has_lds_config()) mux_->subscribeWildcard(xds::client::kListenerType);
  updateSubscriptions();
  xds::client::GrpcStream::Callbacks cb;
  cb.on_established = [this] { asio::post(ctx_, [this] { mux_->onStreamEstablished(); }); };
  cb.on_response = [this](xds::client::GrpcStream::Response r) {
    asio::post(ctx_, [this, r = std::move(r)] {
      stats_->server().control_plane.connected_state.store(1);
      mux_->onResponse(r);
      checkInitialFetch();
    });
  };
  cb.on_closed = [this](const grpc::Status&) {
    asio::post(ctx_, [this] {
      stats_->server().control_plane.connected_state.store(0);
      mux_->onStreamClosed();
    });
  };
  stream_ = std::make_unique<xds::client::GrpcStream>(xds_target_, std::move(cb));
  stream_->start();
  spdlog::info("xDS: node '{}' streaming from {}", node_.id(), xds_target_);
  // Like Envoy's init manager: serve (and report ready) once the first config arrived, or
  // when initial_fetch_timeout runs out, whichever is first.
  if (initial_fetch_timeout_.count() > 0) {
    initial_fetch_timer_.expires_after(initial_fetch_timeout_);
    initial_fetch_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec || lifecycle_.phase() != ServerState::Initializing) return;
      spdlog::warn("xDS: initial fetch timed out after {} ms; serving what is known", initial_fetch_timeout_.count());
      markLive();
    });
  }
  return absl::OkStatus();
}

absl::Status Server::onXdsUpdate(const std::string& type_url, const std::vector<google::protobuf::Any>& resources,
                                 const std::string& version) {
  const XdsType type = type_url == xds::client::kListenerType  ? XdsType::Lds
                       : type_url == xds::client::kClusterType ? XdsType::Cds
                       : type_url == xds::client::kRouteType   ? XdsType::Rds
                                                               : XdsType::Eds;
  const std::string prefix(xdsTypeName(type));
  XdsTypeStats& xs = stats_->server().xds(type);
  absl::Status st = state_->apply(type_url, resources, version, *stats_,
                                  [this](std::shared_ptr<const Snapshot> snap) { return applySnapshot(std::move(snap)); });
  if (!st.ok()) {
    inc(xs.update_rejected);
    spdlog::warn("xDS: rejected {} version '{}': {}", prefix, version, std::string(st.message()));
    checkInitialFetch();
    return st;
  }
  inc(xs.update_success);
  xs.resources.store(static_cast<int64_t>(resources.size()));
  spdlog::info("xDS: accepted {} version '{}' ({} resources)", prefix, version, resources.size());
  updateSubscriptions();
  // Before the ACK goes out: whoever sees the ACK sees the proxy ready.
  checkInitialFetch();
  return absl::OkStatus();
}

void Server::updateSubscriptions() {
  mux_->setNames(xds::client::kRouteType, state_->routeConfigNames());
  mux_->setNames(xds::client::kEndpointType, state_->edsServiceNames());
}

void Server::checkInitialFetch() {
  if (lifecycle_.phase() != ServerState::Initializing) return;
  // Ready once every subscribed type has had its first response.
  for (const auto& [type, st] : mux_->types()) {
    bool subscribed = st.wildcard || !st.names.empty();
    if (subscribed && !st.received) return;
  }
  markLive();
}

StatusPageInput Server::statusPageInput() const {
  StatusPageInput in;
  in.snapshot = snapshot_.get();
  in.health = health_->view().get();
  for (const auto& b : bound_) {
    in.bound.push_back({b.name, b.address.address().to_string() + ":" + std::to_string(b.address.port())});
  }
  in.state = envoy::admin::v3::ServerInfo::State_Name(serverState());
  in.node_id = node().id();
  in.xds = mux_ != nullptr;
  in.xds_target = xds_target_;
  if (mux_) {
    in.connected = mux_->connected();
    for (const auto& [type, st] : mux_->types()) {
      in.types[type] = StatusPageInput::XdsType{st.version, st.accepted, st.rejected, st.last_error};
    }
  }
  in.stats = stats_->collect();
  return in;
}

envoy::admin::v3::ServerInfo Server::serverInfo() const {
  envoy::admin::v3::ServerInfo info;
  info.set_version("trellis-proxy");
  info.set_state(serverState());
  const auto uptime = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started_at_);
  info.mutable_uptime_current_epoch()->set_seconds(uptime.count());
  info.mutable_uptime_all_epochs()->set_seconds(uptime.count());  // no hot restart: one epoch
  info.set_hot_restart_version("disabled");
  auto& options = *info.mutable_command_line_options();
  options.set_concurrency(options_.concurrency);
  options.set_config_path(options_.bootstrap_source);
  options.set_admin_address_path(options_.admin_address_path);
  options.mutable_drain_time()->set_seconds(options_.drain_time.count() / 1000);
  options.mutable_drain_time()->set_nanos(static_cast<int32_t>(options_.drain_time.count() % 1000) * 1000000);
  options.set_disable_hot_restart(true);
  *info.mutable_node() = node();
  return info;
}

void Server::addAdminHandlers() {
  admin_->addHandler("/", "GET", "this proxy at a glance (HTML)", [this](const AdminRequest&) {
    return AdminResponse{200, "text/html; charset=utf-8", statusPageHtml(statusPageInput())};
  });
  admin_->addHandler("/ready", "GET", "200 LIVE once the first config is applied", [this](const AdminRequest&) {
    const std::string name(serverStateName(lifecycle_.reported()));
    return AdminResponse{lifecycle_.ready() ? 200 : 503, "text/plain", name + "\n"};
  });
  admin_->addHandler("/server_info", "GET", "server state as JSON (envoy.admin.v3.ServerInfo)",
                     [this](const AdminRequest&) {
                       return AdminResponse{200, "application/json", xds::admin::toJson(serverInfo(), true)};
                     });
  admin_->addHandler("/stats", "GET", "counters, gauges and histograms (?filter=regex, ?usedonly, ?format=json)",
                     [this](const AdminRequest& r) {
                       refreshServerStats();
                       auto page = statsPage(*stats_, r.query);
                       return AdminResponse{page.status, page.content_type, page.body};
                     });
  admin_->addHandler("/stats/prometheus", "GET", "stats in Prometheus text format (?filter=regex, ?usedonly)",
                     [this](const AdminRequest& r) {
                       refreshServerStats();
                       auto page = prometheusPage(*stats_, r.query);
                       return AdminResponse{page.status, page.content_type, page.body};
                     });
  admin_->addHandler("/listeners", "GET", "listener names and bound addresses", [this](const AdminRequest&) {
    std::string body;
    for (const auto& b : bound_) {
      body += b.name + "::" + b.address.address().to_string() + ":" + std::to_string(b.address.port()) + "\n";
    }
    return AdminResponse{200, "text/plain", body};
  });
  admin_->addHandler("/clusters", "GET",
                     "clusters, their limits and each host's state (Envoy's text format; ?format=json)",
                     [this](const AdminRequest& r) {
                       if (r.param("format") == "json") {
                         return AdminResponse{200, "application/json",
                                              xds::admin::toJson(clustersDocument(*snapshot_, health_->view().get()))};
                       }
                       return AdminResponse{200, "text/plain", clustersText(*snapshot_, health_->view().get())};
                     });
  admin_->addHandler("/config_dump", "GET", "the running configuration (envoy.admin.v3.ConfigDump)",
                     [this](const AdminRequest&) {
                       return AdminResponse{200, "application/json", xds::admin::toJson(state_->configDump())};
                     });
  admin_->addHandler("/healthcheck/fail", "POST", "make /ready answer 503 (before a planned shutdown)",
                     [this](const AdminRequest&) {
                       onLifecycle(Lifecycle::Event::HealthCheckFail);
                       return AdminResponse{200, "text/plain", "OK\n"};
                     });
  admin_->addHandler("/healthcheck/ok", "POST", "undo /healthcheck/fail (never ready before the first config)",
                     [this](const AdminRequest&) {
                       onLifecycle(Lifecycle::Event::HealthCheckOk);
                       return AdminResponse{200, "text/plain", "OK\n"};
                     });
  admin_->addHandler("/drain_listeners", "POST",
                     "stop accepting (?inboundonly: inbound listeners only; &graceful: first answer every "
                     "request with connection: close for the drain time)",
                     [this](const AdminRequest& r) {
                       // Query flags without values, in any order: "inboundonly&graceful".
                       bool inbound = false, graceful = false;
                       size_t pos = 0;
                       while (pos <= r.query.size()) {
                         size_t amp = r.query.find('&', pos);
                         std::string flag = r.query.substr(pos, amp == std::string::npos ? amp : amp - pos);
                         if (flag == "inboundonly") inbound = true;
                         else if (flag == "graceful") graceful = true;
                         else if (!flag.empty()) {
                           return AdminResponse{400, "text/plain",
                                                "/drain_listeners: unknown parameter '" + flag +
                                                    "' (inboundonly and graceful are)\n"};
                         }
                         if (amp == std::string::npos) break;
                         pos = amp + 1;
                       }
                       drainListeners(inbound ? Worker::DrainScope::Inbound : Worker::DrainScope::All, graceful);
                       return AdminResponse{200, "text/plain", "OK\n"};
                     });
  admin_->addHandler("/reopen_logs", "POST", "reopen the access log files (after logrotate moved them)",
                     [this](const AdminRequest&) {
                       log_files_->reopenAll();
                       return AdminResponse{200, "text/plain", "OK\n"};
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

void Server::refreshServerStats() {
  auto& ss = stats_->server();
  ss.uptime.store(std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started_at_).count());
  int64_t connections = 0;
  for (const auto& w : workers_) connections += w->activeConnections();
  ss.total_connections.store(connections);
}

void Server::beginDrain() {
  if (draining_) return;
  draining_ = true;
  signals_.cancel();
  onLifecycle(Lifecycle::Event::Drain);
  bool sidecar = false;
  for (const auto& [name, a] : active_) sidecar = sidecar || a.listener->direction == TrafficDirection::Outbound;
  const auto scope = sidecar ? Worker::DrainScope::Inbound : Worker::DrainScope::All;
  spdlog::info("draining {} for up to {} ms", sidecar ? "inbound listeners (outbound serves until the end)" : "every listener",
               options_.drain_time.count());
  for (auto& w : workers_) {
    w->drain(scope, [this] { asio::post(ctx_, [this] { onWorkerEmpty(); }); });
  }
  drain_timer_.expires_after(options_.drain_time);
  drain_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    spdlog::info("drain time over: closing the remaining connections");
    finishShutdown();
  });
}

void Server::onWorkerEmpty() {
  // A worker that reported empty may have accepted again since (an outbound listener of a
  // sidecar still accepts): count the connections now, on every worker.
  if (stopped_) return;
  for (auto& w : workers_) {
    // A worker whose closed listener still has an accept to complete is not empty yet: that
    // connection was accepted by the kernel and will be served (it reports again after).
    if (w->activeConnections() != 0 || !w->reportedDrained()) return;
  }
  spdlog::info("drain: no connection left");
  finishShutdown();
}

void Server::drainListeners(Worker::DrainScope scope, bool graceful) {
  if (!graceful) {
    for (auto& w : workers_) w->stopListeners(scope);
    return;
  }
  // Envoy's graceful drain: the listeners keep accepting while every response discourages
  // keep-alive, and stop at the end of the drain time.
  for (auto& w : workers_) w->discourage(scope);
  graceful_timer_.expires_after(options_.drain_time);
  graceful_timer_.async_wait([this, scope](const boost::system::error_code& ec) {
    if (ec || stopped_) return;
    for (auto& w : workers_) w->stopListeners(scope);
  });
}

void Server::finishShutdown() {
  if (stopped_) return;
  stopped_ = true;
  initial_fetch_timer_.cancel();
  if (stream_) stream_->stop();
  drain_timer_.cancel();
  graceful_timer_.cancel();
  if (admin_) admin_->stop();
  if (health_) health_->stop();
  for (auto& w : workers_) w->stopAndJoin();
  log_files_->flushAndStop();  // every line formatted before the workers stopped is written
  ctx_.stop();
}

}  // namespace trellis::proxy
