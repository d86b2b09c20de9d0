// A gRPC server that serves AdsService on one address: the ADS endpoint of trellis-cp (15010 by
// convention) and of tests (127.0.0.1:0).
//
// Threading: gRPC's callback API. Streams do not own threads; gRPC runs their reactions on its own
// small pool of callback threads (sized from the cores), and setResources pushes from the caller's
// thread. Thousands of idle streams cost only their memory.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "xds/server/ads_service.h"
#include "xds/server/snapshot_cache.h"

namespace trellis::xds::server {

class AdsServer {
 public:
  // Listens on `listen` ("host:port"; port 0 picks a free port, see port()). `cache` must outlive
  // the server.
  static absl::StatusOr<std::unique_ptr<AdsServer>> start(SnapshotCache& cache, const std::string& listen);

  ~AdsServer();
  AdsServer(const AdsServer&) = delete;
  AdsServer& operator=(const AdsServer&) = delete;

  // The bound port.
  int port() const { return port_; }

  // Cancels every open stream and waits until all have ended. Idempotent; the destructor calls it.
  void shutdown();

 private:
  AdsServer(SnapshotCache& cache);

  AdsService service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  bool stopped_ = false;
};

}  // namespace trellis::xds::server
