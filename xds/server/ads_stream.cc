// One ADS stream on gRPC's callback API; see ads_stream.h.
#include "xds/server/ads_stream.h"

#include <spdlog/spdlog.h>

namespace trellis::xds::server {

AdsStream* AdsStream::start(SnapshotCache& cache, std::string peer) {
  auto stream = std::make_shared<AdsStream>(cache, std::move(peer));
  stream->self_ = stream;
  // gRPC queues operations started before the reactor is returned to it.
  stream->StartRead(&stream->request_);
  return stream.get();
}

AdsStream::AdsStream(SnapshotCache& cache, std::string peer) : cache_(cache), peer_(std::move(peer)) {}

void AdsStream::onSnapshot(std::shared_ptr<const NodeSnapshot> snapshot, uint64_t generation) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (finished_ || generation <= generation_) return;
    snapshot_ = std::move(snapshot);
    generation_ = generation;
  }
  pump();
}

void AdsStream::OnReadDone(bool ok) {
  if (!ok) {
    // The client half-closed or the call was cancelled (including by server shutdown).
    {
      std::lock_guard<std::mutex> lock(mu_);
      read_closed_ = true;
    }
    maybeFinish();
    return;
  }
  std::vector<Ack> acks;
  bool keep_reading = true;
  {
    std::lock_guard<std::mutex> lock(mu_);
    keep_reading = handleRequest(acks);
    if (!keep_reading) {
      read_closed_ = true;
      finish_status_ = grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                    "the first DiscoveryRequest of a stream must carry node.id");
    }
  }
  for (const Ack& ack : acks) cache_.recordAck(node_id_, ack.type_url, ack.version);
  if (keep_reading) StartRead(&request_);
  pump();
  maybeFinish();
}

bool AdsStream::handleRequest(std::vector<Ack>& acks) {
  if (node_id_.empty()) {
    if (request_.node().id().empty()) {
      spdlog::warn("xds: stream from {}: first request has no node.id; closing it", peer_);
      return false;
    }
    node_id_ = cache_.nodeKey(request_.node().id());
    snapshot_ = cache_.attach(node_id_, weak_from_this(), generation_);
    attached_ = true;
    spdlog::info("xds: node '{}' connected from {}", node_id_, peer_);
  }
  const std::string& type_url = request_.type_url();
  if (!isServedType(type_url)) {
    if (cache_.firstSightOfUnknownType(type_url)) {
      spdlog::warn("xds: node '{}' asked for type '{}', which this server does not serve; not answering", node_id_,
                   type_url);
    }
    return true;
  }
  StreamState::Outcome outcome = state_.onRequest(request_);
  switch (outcome.kind) {
    case StreamState::Kind::kAck:
      acks.push_back(Ack{type_url, outcome.version});
      break;
    case StreamState::Kind::kNack:
      cache_.recordNack(node_id_, type_url, outcome.version, outcome.error);
      break;
    case StreamState::Kind::kStale:
      cache_.recordStale(node_id_, type_url);
      break;
    case StreamState::Kind::kSubscribe:
      spdlog::debug("xds: node '{}' subscribed to {} holding version '{}'", node_id_, type_url, outcome.version);
      break;
    case StreamState::Kind::kUpdate:
      break;
  }
  return true;
}

void AdsStream::pump() {
  std::string type_url;
  std::string version;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (writing_ || write_failed_ || read_closed_ || finished_ || snapshot_ == nullptr) return;
    if (!state_.nextResponse(*snapshot_, response_)) return;
    writing_ = true;
    type_url = response_.type_url();
    version = response_.version_info();
  }
  // node_id_ is set once, before the stream can have a snapshot, and never changes.
  cache_.recordSent(node_id_, type_url, version);
  StartWrite(&response_);
}

void AdsStream::OnWriteDone(bool ok) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    writing_ = false;
    if (!ok) write_failed_ = true;
  }
  pump();
  maybeFinish();
}

void AdsStream::maybeFinish() {
  grpc::Status status;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!read_closed_ || writing_ || finished_) return;
    finished_ = true;
    status = finish_status_;
  }
  Finish(status);
}

void AdsStream::OnDone() {
  if (attached_) {
    cache_.detach(node_id_, this);
    spdlog::info("xds: node '{}' disconnected ({})", node_id_, peer_);
  }
  // Drops the stream's own reference last: this may destroy the object.
  std::shared_ptr<AdsStream> self = std::move(self_);
}

}  // namespace trellis::xds::server
