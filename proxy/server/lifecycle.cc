// Lifecycle transitions; see lifecycle.h for why the override is a separate flag.
#include "proxy/server/lifecycle.h"

namespace trellis::proxy {

std::string_view serverStateName(ServerState state) {
  switch (state) {
    case ServerState::Live:
      return "LIVE";
    case ServerState::Draining:
      return "DRAINING";
    case ServerState::PreInitializing:
      return "PRE_INITIALIZING";
    case ServerState::Initializing:
      return "INITIALIZING";
  }
  return "UNKNOWN";
}

ServerState Lifecycle::reported() const {
  if (phase_ == ServerState::Live && hc_failed_) return ServerState::Draining;
  return phase_;
}

bool Lifecycle::on(Event event) {
  const ServerState before = reported();
  switch (event) {
    case Event::Start:
      if (phase_ == ServerState::PreInitializing) phase_ = ServerState::Initializing;
      break;
    case Event::ConfigApplied:
      // Later updates find the server Live (nothing to do) or Draining (it stays so).
      if (phase_ == ServerState::PreInitializing || phase_ == ServerState::Initializing) phase_ = ServerState::Live;
      break;
    case Event::Drain:
      phase_ = ServerState::Draining;
      break;
    case Event::HealthCheckFail:
      hc_failed_ = true;
      break;
    case Event::HealthCheckOk:
      hc_failed_ = false;
      break;
  }
  return reported() != before;
}

}  // namespace trellis::proxy
