// The server's life as one small state machine, apart from sockets and timers so its
// transitions can be tested as a table.
//
// Before, two booleans meant several things at once: "the first config arrived" and "no
// /healthcheck/fail" shared one flag, so an xDS update undid a failed health check and
// /healthcheck/ok made /ready answer 200 before any config. Here the phase (Envoy's
// envoy.admin.v3.ServerInfo.State) and the operator's health-check override are kept apart:
// only /healthcheck/ok clears the override, and only the first full config makes the phase Live.
#pragma once

#include <cstdint>
#include <string_view>

namespace trellis::proxy {

// Envoy's envoy.admin.v3.ServerInfo.State, with its numbers (the value of `server.state`).
enum class ServerState : int64_t {
  Live = 0,
  Draining = 1,
  PreInitializing = 2,
  Initializing = 3,
};

std::string_view serverStateName(ServerState state);

class Lifecycle {
 public:
  enum class Event {
    Start,          // listeners bound, admin up: waiting for the first full config
    ConfigApplied,  // the first full config is applied and its clusters are warm
    Drain,          // SIGTERM, /quitquitquit: from here on the proxy only winds down
    HealthCheckFail,
    HealthCheckOk,
  };

  // Applies `event`; returns whether what the server reports (reported()) changed.
  bool on(Event event);

  // The phase alone, ignoring the health-check override.
  ServerState phase() const { return phase_; }
  bool healthCheckFailed() const { return hc_failed_; }
  // What /server_info, `server.state` and /ready report. As Envoy does, a Live server whose
  // health check was failed by hand reports DRAINING.
  ServerState reported() const;
  // /ready answers 200 only then.
  bool ready() const { return reported() == ServerState::Live; }

 private:
  ServerState phase_ = ServerState::PreInitializing;
  bool hc_failed_ = false;
};

}  // namespace trellis::proxy
