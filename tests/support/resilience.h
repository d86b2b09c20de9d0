// Helpers for the resilience tests: Envoy bootstraps written out in the test (with $NAME
// placeholders for ports), the admin endpoints (/clusters health flags, /ready), bounded polling,
// and a background client load that records every failure it sees.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace trellis::tests {

// Replaces every "$KEY" of `vars` in `text` (longest keys first, so $A1 is not taken as $A).
std::string fillTemplate(std::string text, const std::map<std::string, std::string>& vars);

// A whole Envoy bootstrap: admin and one HTTP listener (stat_prefix "ingress") on 127.0.0.1
// port 0, the router filter, `route_config` in flow style (one line), and `clusters`: the block
// YAML of static_resources.clusters, each entry starting "  - name: ..." (two spaces).
std::string envoyBootstrap(const std::string& route_config, const std::string& clusters);

// A STATIC cluster entry for envoyBootstrap() with endpoints on 127.0.0.1 at `ports`; `extra` is
// more block YAML at the cluster's indentation (four spaces), e.g. "    lb_policy: RANDOM\n".
std::string staticCluster(const std::string& name, const std::vector<uint16_t>& ports, const std::string& extra = "");

struct AdminReply {
  int status = 0;
  std::string body;
};
// GET (or POST) on the admin port; nullopt when the connection or the read fails.
std::optional<AdminReply> adminRequest(uint16_t admin_port, const std::string& path, const std::string& method = "GET");

// The health_flags of host 127.0.0.1:`port` of `cluster` in /clusters ("healthy",
// "/failed_active_hc", ...); empty if the line is missing or /clusters failed.
std::string healthFlags(uint16_t admin_port, const std::string& cluster, uint16_t port);
// Any per-host field of /clusters ("rq_total", "rq_active", "cx_active", "weight", ...); empty
// if missing.
std::string hostField(uint16_t admin_port, const std::string& cluster, uint16_t port, const std::string& field);
// A numeric per-host field; -1 if missing.
int64_t hostCounter(uint16_t admin_port, const std::string& cluster, uint16_t port, const std::string& field);

// Polls `cond` every `every` until it holds (true) or `timeout` passed (false).
bool waitUntil(const std::function<bool()>& cond, std::chrono::milliseconds timeout = std::chrono::seconds(10),
               std::chrono::milliseconds every = std::chrono::milliseconds(5));

// Clients on their own threads sending GET `target` over keep-alive connections (a new one after
// a close), one request at a time per client and at most one per `pace` (to leave CPU to the
// proxy on a small machine), until stop(), `max_requests` in all, or `max_time`.
class ClientLoad {
 public:
  struct Failure {
    size_t index;
    std::string what;  // "status 503: <body>" or the read error
  };

  ClientLoad(uint16_t port, size_t clients, std::string target = "/load", size_t max_requests = 20000,
             std::chrono::milliseconds max_time = std::chrono::seconds(15),
             std::chrono::microseconds pace = std::chrono::microseconds(500));
  ~ClientLoad();  // stops and joins

  void stop();
  size_t done() const { return done_.load(); }
  // Bounded wait for `n` more answers than now.
  bool waitForMore(size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;
  std::vector<Failure> failures() const;
  // Successful answers per x-upstream (the upstream's name).
  std::map<std::string, size_t> byUpstream() const;

 private:
  void run(uint16_t port, std::string target, size_t max_requests, std::chrono::steady_clock::time_point until,
           std::chrono::microseconds pace);

  std::atomic<bool> stop_{false};
  std::atomic<size_t> done_{0};
  std::atomic<size_t> started_{0};
  mutable std::mutex mu_;
  std::vector<Failure> failures_;
  std::map<std::string, size_t> by_upstream_;
  std::vector<std::thread> threads_;
};

}  // namespace trellis::tests
