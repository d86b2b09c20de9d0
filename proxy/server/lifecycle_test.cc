// The lifecycle's transitions as a table: from each reachable situation, each event, and what
// the server then reports. The three faults the machine was written for have their own rows.
#include "proxy/server/lifecycle.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace trellis::proxy {
namespace {

using E = Lifecycle::Event;
using S = ServerState;

struct Row {
  std::vector<E> before;  // how the machine got where it is
  E event;
  S phase;
  bool hc_failed;
  S reported;
  bool ready;
};

TEST(LifecycleTest, TransitionTable) {
  const std::vector<Row> rows = {
      // From PreInitializing.
      {{}, E::Start, S::Initializing, false, S::Initializing, false},
      {{}, E::ConfigApplied, S::Live, false, S::Live, true},  // a static config needs no wait
      {{}, E::Drain, S::Draining, false, S::Draining, false},
      {{}, E::HealthCheckOk, S::PreInitializing, false, S::PreInitializing, false},
      {{}, E::HealthCheckFail, S::PreInitializing, true, S::PreInitializing, false},
      // From Initializing: /healthcheck/ok before the first config does not make it ready.
      {{E::Start}, E::HealthCheckOk, S::Initializing, false, S::Initializing, false},
      {{E::Start}, E::ConfigApplied, S::Live, false, S::Live, true},
      {{E::Start}, E::Drain, S::Draining, false, S::Draining, false},
      {{E::Start, E::HealthCheckFail}, E::ConfigApplied, S::Live, true, S::Draining, false},
      // From Live.
      {{E::Start, E::ConfigApplied}, E::Start, S::Live, false, S::Live, true},
      {{E::Start, E::ConfigApplied}, E::ConfigApplied, S::Live, false, S::Live, true},
      {{E::Start, E::ConfigApplied}, E::HealthCheckFail, S::Live, true, S::Draining, false},
      {{E::Start, E::ConfigApplied}, E::Drain, S::Draining, false, S::Draining, false},
      // Live with the health check failed: the next xDS update does not undo it; only ok does.
      {{E::Start, E::ConfigApplied, E::HealthCheckFail}, E::ConfigApplied, S::Live, true, S::Draining, false},
      {{E::Start, E::ConfigApplied, E::HealthCheckFail}, E::Start, S::Live, true, S::Draining, false},
      {{E::Start, E::ConfigApplied, E::HealthCheckFail}, E::HealthCheckOk, S::Live, false, S::Live, true},
      // Draining is final.
      {{E::Start, E::ConfigApplied, E::Drain}, E::ConfigApplied, S::Draining, false, S::Draining, false},
      {{E::Start, E::ConfigApplied, E::Drain}, E::Start, S::Draining, false, S::Draining, false},
      {{E::Start, E::ConfigApplied, E::Drain}, E::HealthCheckOk, S::Draining, false, S::Draining, false},
      {{E::Start, E::Drain}, E::ConfigApplied, S::Draining, false, S::Draining, false},
  };
  for (size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];
    Lifecycle lc;
    for (E e : r.before) lc.on(e);
    lc.on(r.event);
    SCOPED_TRACE("row " + std::to_string(i));
    EXPECT_EQ(lc.phase(), r.phase);
    EXPECT_EQ(lc.healthCheckFailed(), r.hc_failed);
    EXPECT_EQ(lc.reported(), r.reported);
    EXPECT_EQ(lc.ready(), r.ready);
  }
}

TEST(LifecycleTest, OnSaysWhetherTheReportedStateChanged) {
  Lifecycle lc;
  EXPECT_TRUE(lc.on(E::Start));
  EXPECT_FALSE(lc.on(E::Start));
  EXPECT_FALSE(lc.on(E::HealthCheckOk));
  EXPECT_TRUE(lc.on(E::ConfigApplied));
  EXPECT_FALSE(lc.on(E::ConfigApplied));
  EXPECT_TRUE(lc.on(E::HealthCheckFail));  // LIVE -> DRAINING as reported
  EXPECT_FALSE(lc.on(E::Drain));           // already reported DRAINING
}

TEST(LifecycleTest, EnvoyNumbersAndNames) {
  // envoy.admin.v3.ServerInfo.State: the value `server.state` carries.
  EXPECT_EQ(static_cast<int64_t>(S::Live), 0);
  EXPECT_EQ(static_cast<int64_t>(S::Draining), 1);
  EXPECT_EQ(static_cast<int64_t>(S::PreInitializing), 2);
  EXPECT_EQ(static_cast<int64_t>(S::Initializing), 3);
  EXPECT_EQ(serverStateName(S::Live), "LIVE");
  EXPECT_EQ(serverStateName(S::Draining), "DRAINING");
  EXPECT_EQ(serverStateName(S::PreInitializing), "PRE_INITIALIZING");
  EXPECT_EQ(serverStateName(S::Initializing), "INITIALIZING");
}

}  // namespace
}  // namespace trellis::proxy
