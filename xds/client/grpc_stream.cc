// The stream thread: one connection attempt after another, with backoff in between.
#include "xds/client/grpc_stream.h"

#include <spdlog/spdlog.h>

namespace trellis::xds::client {

GrpcStream::GrpcStream(std::string target, Callbacks callbacks)
    : target_(std::move(target)), callbacks_(std::move(callbacks)) {
  grpc::ChannelArguments args;
  // Detect a dead control plane even when no update is flowing.
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 30000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10000);
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  // Reconnect timing is ours (Backoff), not the channel's.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 500);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  args.SetInt(GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH, 64 * 1024 * 1024);
  channel_ = grpc::CreateCustomChannel(target_, grpc::InsecureChannelCredentials(), args);
  stub_ = envoy::service::discovery::v3::AggregatedDiscoveryService::NewStub(channel_);
}

GrpcStream::~GrpcStream() { stop(); }

void GrpcStream::start() { thread_ = std::thread([this] { run(); }); }

void GrpcStream::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
    if (context_) context_->TryCancel();
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool GrpcStream::send(const Request& request) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!stream_) return false;
  return stream_->Write(request);
}

void GrpcStream::run() {
  for (;;) {
    grpc::ClientContext context;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
      context_ = &context;
    }
    // Fail fast: a control plane that is down ends the attempt at once, and our backoff
    // decides when to try again.
    auto stream = stub_->StreamAggregatedResources(&context);
    {
      std::lock_guard<std::mutex> lock(mu_);
      stream_ = std::move(stream);
    }
    callbacks_.on_established();
    Response response;
    // The reader is this thread alone; writers take mu_ only to reach stream_.
    grpc::ClientReaderWriter<Request, Response>* reader;
    {
      std::lock_guard<std::mutex> lock(mu_);
      reader = stream_.get();
    }
    while (reader->Read(&response)) {
      backoff_.reset();
      callbacks_.on_response(std::move(response));
      response.Clear();
    }
    grpc::Status status;
    {
      std::lock_guard<std::mutex> lock(mu_);
      reader->WritesDone();
      status = stream_->Finish();
      stream_.reset();
      context_ = nullptr;
    }
    callbacks_.on_closed(status);
    auto delay = backoff_.next();
    std::unique_lock<std::mutex> lock(mu_);
    if (stopping_) return;
    spdlog::warn("xDS stream to {} closed ({}: {}); reconnecting in {} ms", target_, static_cast<int>(status.error_code()),
                 status.error_message(), delay.count());
    cv_.wait_for(lock, delay, [this] { return stopping_; });
  }
}

}  // namespace trellis::xds::client
