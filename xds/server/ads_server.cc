// Builds and stops the ADS gRPC server; see ads_server.h.
#include "xds/server/ads_server.h"

#include <chrono>

#include "absl/strings/str_cat.h"

namespace trellis::xds::server {

AdsServer::AdsServer(SnapshotCache& cache) : service_(cache) {}

absl::StatusOr<std::unique_ptr<AdsServer>> AdsServer::start(SnapshotCache& cache, const std::string& listen) {
  if (listen.empty() || listen.find(':') == std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("ADS listen address '", listen, "' is not host:port (e.g. 127.0.0.1:15010)"));
  }
  std::unique_ptr<AdsServer> server(new AdsServer(cache));
  grpc::ServerBuilder builder;
  builder.AddListeningPort(listen, grpc::InsecureServerCredentials(), &server->port_);
  builder.RegisterService(&server->service_);
  // Find proxies that vanished without closing their connection (a killed task, a partition)
  // within a minute rather than TCP's hours, and accept the keepalive pings proxies send.
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 30'000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10'000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 10'000);
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || server->port_ == 0) {
    server->stopped_ = true;
    return absl::UnavailableError(absl::StrCat("cannot serve ADS on '", listen,
                                               "': the address is in use or not local"));
  }
  return server;
}

AdsServer::~AdsServer() { shutdown(); }

void AdsServer::shutdown() {
  if (stopped_) return;
  stopped_ = true;
  // ADS streams never end on their own: cancel them at once instead of waiting for clients.
  server_->Shutdown(std::chrono::system_clock::now());
  server_->Wait();
}

}  // namespace trellis::xds::server
