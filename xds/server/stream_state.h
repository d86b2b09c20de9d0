// The state-of-the-world xDS protocol of one ADS stream, per type URL, without any I/O: what the
// client subscribed to, what was sent with which nonce, and whether a request is an ACK, a NACK or
// stale. AdsStream feeds it requests and asks it for the next response; tests can drive it directly.
//
// Rules (Envoy's xDS protocol, state of the world):
// - The first request of a type subscribes. Its version_info is the version the client already
//   holds (a reconnecting client): if that equals the current version, nothing is sent until the
//   content or the subscription changes.
// - Every response carries a fresh nonce. A request whose response_nonce is not the latest nonce
//   sent for its type is stale and ignored entirely, its resource_names included: a client always
//   repeats its whole subscription in the request that answers the latest response, so a change
//   carried by a stale request is seen again then (go-control-plane's state-of-the-world server also
//   drops such requests). Before anything was sent for a type, any nonce is accepted.
// - At most one response per type awaits an answer (ACK or NACK); changes made meanwhile are
//   coalesced and the latest content is sent when the answer arrives.
// - A NACK leaves the rejected version recorded as sent, so it is not sent again; the next content
//   change produces a new version, which is sent. A subscription change is answered even at the
//   same version, since the set of resources differs.
// - LDS and CDS with no names, or any type with "*", get every resource of the type; otherwise only
//   the requested names that exist are sent.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>

#include "envoy/service/discovery/v3/discovery.pb.h"
#include "xds/server/node_snapshot.h"

namespace trellis::xds::server {

class StreamState {
 public:
  enum class Kind {
    kSubscribe,  // the first request of its type on this stream
    kAck,        // answers the latest response, no error_detail
    kNack,       // answers the latest response with error_detail
    kUpdate,     // not stale, but no response awaited an answer (a repeat or subscription change)
    kStale,      // response_nonce is not the latest nonce sent for the type: ignored
  };
  struct Outcome {
    Kind kind = Kind::kUpdate;
    // kAck: the accepted version; kNack: the rejected version; kSubscribe: the version the client
    // says it holds (may be empty).
    std::string version;
    std::string error;  // kNack: error_detail.message
  };

  // `request.type_url()` must be a served type (see isServedType).
  Outcome onRequest(const envoy::service::discovery::v3::DiscoveryRequest& request);

  // If a response is due for some subscribed type of `snapshot`, fills `response` with the one of
  // lowest push rank, records it as sent (and awaiting an answer) and returns true.
  bool nextResponse(const NodeSnapshot& snapshot, envoy::service::discovery::v3::DiscoveryResponse& response);

  // The version last sent (or, after a reconnect, held by the client) for `type_url`.
  std::string sentVersion(const std::string& type_url) const;

 private:
  struct Scope {
    bool wildcard = false;
    std::set<std::string> names;
    bool operator==(const Scope&) const = default;
  };
  struct TypeState {
    Scope requested;
    Scope sent;                // the scope of the last response (or the client's initial claim)
    std::string sent_version;  // "" never equals a real version, so it means "send"
    std::string nonce;         // of the last response; "" before the first
    bool awaiting_answer = false;
  };

  static Scope scopeOf(const envoy::service::discovery::v3::DiscoveryRequest& request);

  std::map<std::string, TypeState> types_;
  uint64_t next_nonce_ = 1;
};

}  // namespace trellis::xds::server
