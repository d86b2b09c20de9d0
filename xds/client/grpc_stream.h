// The ADS stream: connect, read, reconnect with backoff. Nothing else.
//
// A dedicated thread owns the gRPC stream (synchronous API: one reader thread, writes from
// the caller's thread under a lock). Every event is reported through callbacks that run on
// that thread; the proxy posts them to its main thread, where the protocol state (AdsMux)
// lives. Reconnects wait with jittered exponential backoff (0.5 s doubling to 30 s), reset
// once a message arrives.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "envoy/service/discovery/v3/ads.grpc.pb.h"
#include "xds/client/backoff.h"

namespace trellis::xds::client {

class GrpcStream {
 public:
  using Request = envoy::service::discovery::v3::DiscoveryRequest;
  using Response = envoy::service::discovery::v3::DiscoveryResponse;

  struct Callbacks {
    std::function<void()> on_established;
    std::function<void(Response)> on_response;
    std::function<void(const grpc::Status&)> on_closed;
  };

  // `target` is a gRPC target such as "ipv4:127.0.0.1:15010".
  GrpcStream(std::string target, Callbacks callbacks);
  ~GrpcStream();

  void start();
  void stop();
  // From any thread; dropped (returns false) when no stream is up: the mux resends its state
  // on the next on_established anyway.
  bool send(const Request& request);

 private:
  void run();

  std::string target_;
  Callbacks callbacks_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<envoy::service::discovery::v3::AggregatedDiscoveryService::Stub> stub_;
  Backoff backoff_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  grpc::ClientContext* context_ = nullptr;
  std::unique_ptr<grpc::ClientReaderWriter<Request, Response>> stream_;
};

}  // namespace trellis::xds::client
