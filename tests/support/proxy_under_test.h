// A real trellis::proxy::Server running in the test's process on port 0.
//
// start() parses the bootstrap YAML, creates and starts the server and runs its main loop on a
// thread; the destructor shuts it down and joins that thread. Tests reach the listener and
// admin ports and read stats by name (summed over workers).
#pragma once

#include <chrono>
#include <cstdint>
#include <future>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "proxy/server/server.h"

namespace trellis::tests {

class ProxyUnderTest {
 public:
  static absl::StatusOr<std::unique_ptr<ProxyUnderTest>> start(
      const std::string& yaml, uint32_t concurrency = 2,
      std::chrono::milliseconds drain_time = std::chrono::milliseconds(3000));
  ~ProxyUnderTest();

  uint16_t port() const { return server_->listeners().at(0).address.port(); }
  uint16_t adminPort() const { return server_->adminPort(); }
  // A counter or gauge by its full name, e.g. "cluster.a.upstream_cx_pool_reuse"; -1 if absent.
  int64_t stat(const std::string& name) const;
  // Polls stat(name) until it equals `value` (bounded by `timeout`); whether it did. For state
  // the proxy reaches just after the client saw its bytes (a request's resources are released
  // after its last byte is written).
  bool waitForStat(const std::string& name, int64_t value,
                   std::chrono::milliseconds timeout = std::chrono::seconds(5)) const;
  proxy::Server& server() { return *server_; }

  // Server::shutdown(): drain, then stop.
  void shutdown() { server_->shutdown(); }
  // Whether Server::run() returned within `timeout`.
  bool waitStopped(std::chrono::milliseconds timeout = std::chrono::seconds(10));

 private:
  ProxyUnderTest() = default;

  std::unique_ptr<proxy::Server> server_;
  std::thread thread_;
  std::future<void> stopped_;
};

}  // namespace trellis::tests
