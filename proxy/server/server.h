// The running proxy: workers, listeners, admin endpoint, drain and shutdown.
//
// This is where the pieces meet (the composition root, with proxy/main.cc only parsing the
// command line), kept as a class so integration tests can run a real proxy in-process on
// port 0 and ask it which ports it bound.
#pragma once

#include <atomic>
#include <cstdlib>
#include <functional>
#include <map>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "envoy/admin/v3/server_info.pb.h"
#include "envoy/config/bootstrap/v3/bootstrap.pb.h"
#include "proxy/admin/admin_server.h"
#include "proxy/accesslog/log_files.h"
#include "proxy/net/worker.h"
#include "proxy/server/lifecycle.h"
#include "proxy/snapshot/snapshot.h"
#include "proxy/server/status_page.h"
#include "proxy/server/upstream_health.h"
#include "proxy/server/xds_state.h"
#include "proxy/stats/stats.h"
#include "xds/client/ads_mux.h"
#include "xds/client/grpc_stream.h"

namespace trellis::proxy {

struct ServerOptions {
  uint32_t concurrency = 1;
  std::chrono::milliseconds drain_time{5000};
  bool handle_signals = false;          // SIGTERM/SIGINT drain and exit (the binary sets it)
  std::string admin_address_path;       // written with "host:port" once ready, as Envoy's flag
  std::string bootstrap_source = "bootstrap";  // names the file in errors
  // The environment (APPMESH_RESOURCE_ARN, APPMESH_VIRTUAL_NODE_NAME); tests inject their own.
  std::function<const char*(const char*)> getenv = [](const char* n) { return std::getenv(n); };
};

struct BoundListener {
  std::string name;
  boost::asio::ip::tcp::endpoint address;  // with the port actually bound
};

class Server {
 public:
  // Compiles the bootstrap's static resources; errors name the offending field.
  static absl::StatusOr<std::unique_ptr<Server>> create(const envoy::config::bootstrap::v3::Bootstrap& bootstrap,
                                                        ServerOptions options);
  ~Server();

  // Binds every listener and the admin address, starts the workers. After this returns OK the
  // proxy accepts connections.
  absl::Status start();
  // Runs the main thread's loop until shutdown has completed.
  void run();
  // From any thread: stop accepting, drain in-flight requests (up to the drain time), stop.
  void shutdown();

  uint16_t adminPort() const { return admin_ ? admin_->port() : 0; }
  // Main thread (or before run()): the listeners currently bound.
  const std::vector<BoundListener>& listeners() const { return bound_; }
  // From any thread: runs `fn` on the main thread and waits for it (tests use it to read
  // main-thread state such as listeners() while run() is going).
  void runOnMain(std::function<void()> fn);
  StatsStore& stats() { return *stats_; }
  // From any thread: what /server_info and `server.state` report (Envoy's ServerInfo.State).
  ServerState state() const { return static_cast<ServerState>(state_number_.load()); }
  // From any thread: /ready would answer 200 (LIVE, health check not failed by hand).
  bool live() const { return state() == ServerState::Live; }
  // The node this proxy presents to the control plane: the bootstrap's, with node.id taken
  // from APPMESH_RESOURCE_ARN / APPMESH_VIRTUAL_NODE_NAME when set. Fixed after create().
  // The same as Envoy's admin enum, for /server_info.
  envoy::admin::v3::ServerInfo::State serverState() const {
    return static_cast<envoy::admin::v3::ServerInfo::State>(static_cast<int>(state()));
  }
  const envoy::config::core::v3::Node& node() const { return node_; }

 private:
  Server(ServerOptions options, std::unique_ptr<StatsStore> stats);
  void addAdminHandlers();
  // What the admin `/` page shows, read on the main thread.
  StatusPageInput statusPageInput() const;
  // /server_info's document, from serverState() and node().
  envoy::admin::v3::ServerInfo serverInfo() const;
  // Binds new and changed listeners, publishes the snapshot, drains removed/replaced ones.
  absl::Status applySnapshot(std::shared_ptr<const Snapshot> snapshot);
  // xDS, on the main thread.
  absl::Status startXds();
  absl::Status onXdsUpdate(const std::string& type_url, const std::vector<google::protobuf::Any>& resources,
                           const std::string& version);
  void updateSubscriptions();
  void checkInitialFetch();
  // The first full config is applied: Live once the first round of health checks is done.
  void markLive();
  // server.uptime and server.total_connections, just before a scrape.
  void refreshServerStats();
  void onLifecycle(Lifecycle::Event event);
  // Shutdown: a sidecar (some listener OUTBOUND) drains its inbound listeners now and keeps
  // outbound serving until the drain window ends; anything else drains every listener.
  void beginDrain();
  // POST /drain_listeners[?inboundonly][&graceful], as Envoy's.
  void drainListeners(Worker::DrainScope scope, bool graceful);
  void onWorkerEmpty();
  void finishShutdown();

  ServerOptions options_;
  std::unique_ptr<StatsStore> stats_;
  std::unique_ptr<accesslog::LogFiles> log_files_;
  // Every worker's downstream connections, against the overload manager's global limit.
  ConnectionCount global_connections_;  // flushed once the workers have stopped
  boost::asio::io_context ctx_;
  boost::asio::signal_set signals_;
  boost::asio::steady_timer drain_timer_;
  envoy::config::bootstrap::v3::Bootstrap bootstrap_;
  envoy::config::core::v3::Node node_;
  std::unique_ptr<XdsState> state_;
  std::shared_ptr<const Snapshot> snapshot_;
  struct ActiveListener {
    std::shared_ptr<const Listener> listener;
    BoundListener bound;
  };
  std::map<std::string, ActiveListener> active_;
  // xDS
  std::string xds_target_;
  std::unique_ptr<xds::client::AdsMux> mux_;
  std::unique_ptr<xds::client::GrpcStream> stream_;
  boost::asio::steady_timer initial_fetch_timer_;
  std::chrono::milliseconds initial_fetch_timeout_{15000};
  std::unique_ptr<UpstreamHealth> health_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::unique_ptr<AdminServer> admin_;
  std::vector<BoundListener> bound_;
  std::chrono::steady_clock::time_point started_at_;
  Lifecycle lifecycle_;  // main thread
  std::atomic<int64_t> state_number_{static_cast<int64_t>(ServerState::PreInitializing)};
  bool live_wanted_ = false;  // the first config is applied, but not yet the first health checks
  bool draining_ = false;     // shutdown began
  bool stopped_ = false;
  boost::asio::steady_timer graceful_timer_;  // /drain_listeners?graceful: stop at its end
};

}  // namespace trellis::proxy
