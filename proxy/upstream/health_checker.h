// Active health checking of one cluster's hosts (Envoy's Cluster.health_checks), on the main
// thread.
//
// One ClusterHealthChecker per cluster with health_checks; one probe per host, which owns its
// socket, its timer, its buffer and its HealthState (health_state.h). The probe is the only part
// that differs between HTTP and TCP checks; scheduling, thresholds, stats and callbacks are
// shared. Everything runs on the io_context the caller gives (the main thread's): no thread per
// host, no lock, and no allocation per check beyond the probe's read buffer, which comes from the
// checker's pool and goes back between checks.
//
// A check: connect (or reuse the kept connection), send, read and judge, all under one deadline
// of `timeout`. HTTP: `GET <path>` with Host (the configured host, else the cluster's name),
// `User-Agent: Envoy/HC` and request_headers_to_add; healthy iff the status is in
// expected_statuses (200 only by default). TCP: connect, send `send` if any, then read until
// every `receive` block was found, in order. Counted on the cluster's stats shard `stats_shard`:
// health_check.attempt per check, .success, .failure for every failed check and
// .network_failure for those that failed by connect failure, timeout, reset or a malformed
// response; the gauge health_check.healthy holds this checker's healthy hosts.
//
// Threading and lifetime: construct, call and destroy the checker on the io_context's thread;
// the io_context must outlive it. After stop() or destruction no callback runs and the
// probes' sockets are closed; handlers still queued in the io_context end without touching the
// checker.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "proxy/io/buffer.h"
#include "proxy/snapshot/snapshot.h"
#include "proxy/stats/stats.h"
#include "proxy/upstream/health_state.h"

namespace trellis::proxy {

class ClusterHealthChecker {
 public:
  // Called on the io_context's thread whenever a host's active health flags change
  // (pending -> healthy, healthy -> failed, failed -> healthy). It may call setHosts(), flags()
  // or stop(); it must not destroy the checker itself (post that instead).
  using OnChange = std::function<void(const boost::asio::ip::tcp::endpoint&, uint8_t flags)>;

  // `stats` may be null (nothing is counted). `seed` seeds the jitter draws. `had_traffic`
  // says whether the cluster has carried traffic yet (no traffic: no_traffic_interval between
  // checks); an empty function means it has.
  ClusterHealthChecker(boost::asio::io_context& ctx, std::string cluster_name, HealthCheckConfig cfg,
                       ClusterStats* stats, size_t stats_shard, OnChange on_change, uint64_t seed,
                       std::function<bool()> had_traffic);
  ~ClusterHealthChecker();
  ClusterHealthChecker(const ClusterHealthChecker&) = delete;
  ClusterHealthChecker& operator=(const ClusterHealthChecker&) = delete;

  // The cluster's hosts (from a new snapshot): a new address gets a probe, which starts failed
  // and pending (no callback for that: it is every new host's state) and checks after
  // initial_jitter; a removed one stops; an unchanged one keeps its state and connection.
  // A changed HealthCheckConfig is handled by building a new checker. Ignored after stop().
  void setHosts(const std::vector<Endpoint>& hosts);

  // Stops every probe and closes its connection; no callback runs after it.
  void stop();

  // The host's active health flags: 0, kFailedActiveHc, or kFailedActiveHc|kPendingActiveHc
  // (also for an address this checker does not probe).
  uint8_t flags(const boost::asio::ip::tcp::endpoint& host) const;

  // Whether every host has completed at least one check (passed or not): the proxy counts as
  // initialised only then, as Envoy waits for the first round before a cluster is warm.
  bool allChecked() const;
  // Called on the io_context's thread after every completed check (after on_change); same rules.
  void setOnCheck(std::function<void()> on_check) { on_check_ = std::move(on_check); }

  const std::string& clusterName() const { return cluster_name_; }
  size_t hostCount() const { return probes_.size(); }

 private:
  class Probe;
  class HttpProbe;
  class TcpProbe;

  void buildHttpRequest();
  double draw();
  bool hadTraffic() const { return !had_traffic_ || had_traffic_(); }
  void removeProbe(const std::shared_ptr<Probe>& probe);
  void addHealthy(int64_t delta);

  boost::asio::io_context& ctx_;
  std::string cluster_name_;
  HealthCheckConfig cfg_;
  ClusterStats* stats_;
  size_t stats_shard_;
  OnChange on_change_;
  std::function<void()> on_check_;
  std::mt19937_64 rng_;
  std::function<bool()> had_traffic_;
  std::string http_request_;  // the same bytes for every host and check
  BufferPool buffers_;
  std::map<boost::asio::ip::tcp::endpoint, std::shared_ptr<Probe>> probes_;
  int64_t healthy_ = 0;  // what this checker added to the health_check.healthy gauge
  bool stopped_ = false;
};

}  // namespace trellis::proxy
