// readOverloadSettings: the global limit from the overload manager or the runtime, listener
// limits from static layers (nested or dotted, numbers or numeric strings, later layers winning),
// and what is refused or only warned about.
#include "proxy/server/overload_settings.h"

#include <gtest/gtest.h>

#include "config/bootstrap/bootstrap.h"

namespace trellis::proxy {
namespace {

// The sections every bootstrap needs, then `yaml`'s.
std::string withAdmin(const std::string& yaml) {
  return "admin: {address: {socket_address: {address: 127.0.0.1, port_value: 0}}}\n"
         "static_resources: {}\n" +
         yaml;
}

OverloadSettings read(const std::string& yaml) {
  auto bootstrap = config::parseBootstrap(withAdmin(yaml), "bootstrap.yaml");
  EXPECT_TRUE(bootstrap.ok()) << bootstrap.status();
  auto settings = readOverloadSettings(*bootstrap);
  EXPECT_TRUE(settings.ok()) << settings.status();
  return settings.ok() ? *settings : OverloadSettings{};
}

std::string errorOf(const std::string& yaml) {
  auto bootstrap = config::parseBootstrap(withAdmin(yaml), "bootstrap.yaml");
  if (!bootstrap.ok()) return std::string(bootstrap.status().message());
  auto settings = readOverloadSettings(*bootstrap);
  return settings.ok() ? "" : std::string(settings.status().message());
}

TEST(OverloadSettingsTest, NothingConfiguredMeansNoLimits) {
  OverloadSettings s = read("");
  EXPECT_EQ(s.global_max_connections, 0);
  EXPECT_TRUE(s.listener_connection_limits.empty());
  EXPECT_TRUE(s.warnings.empty());
}

TEST(OverloadSettingsTest, RuntimeLayersNestedOrDottedLaterLayersWin) {
  OverloadSettings s = read(R"(
layered_runtime:
  layers:
  - name: base
    static_layer:
      envoy:
        resource_limits:
          listener:
            ingress:
              connection_limit: 100
      overload.global_downstream_max_connections: 5000
  - name: override
    static_layer:
      envoy.resource_limits.listener.ingress.connection_limit: "250"
      envoy.resource_limits.listener.egress.connection_limit: 7
      re2.max_program_size.error_level: 200
)");
  EXPECT_EQ(s.global_max_connections, 5000);
  ASSERT_EQ(s.listener_connection_limits.size(), 2u);
  EXPECT_EQ(s.listener_connection_limits.at("ingress"), 250);
  EXPECT_EQ(s.listener_connection_limits.at("egress"), 7);
  ASSERT_EQ(s.warnings.size(), 1u);
  EXPECT_EQ(s.warnings[0],
            "layered_runtime.layers[1].static_layer[\"re2.max_program_size.error_level\"]: runtime key not used by "
            "Trellis (ignored)");
}

TEST(OverloadSettingsTest, TheResourceMonitorWinsOverTheRuntimeKey) {
  OverloadSettings s = read(R"(
overload_manager:
  resource_monitors:
  - name: envoy.resource_monitors.global_downstream_max_connections
    typed_config:
      "@type": type.googleapis.com/envoy.extensions.resource_monitors.downstream_connections.v3.DownstreamConnectionsConfig
      max_active_downstream_connections: 900
layered_runtime:
  layers:
  - name: s
    static_layer: {overload.global_downstream_max_connections: 10}
)");
  EXPECT_EQ(s.global_max_connections, 900);
  ASSERT_EQ(s.warnings.size(), 1u);
  EXPECT_NE(s.warnings[0].find("ignored: the envoy.resource_monitors.global_downstream_max_connections resource "
                               "monitor sets the limit"),
            std::string::npos)
      << s.warnings[0];
}

TEST(OverloadSettingsTest, RefusalsNameTheFieldAndTheValue) {
  EXPECT_EQ(errorOf(R"(
overload_manager:
  resource_monitors:
  - name: envoy.resource_monitors.global_downstream_max_connections
)"),
            "overload_manager.resource_monitors[0].typed_config: expected an "
            "envoy.extensions.resource_monitors.downstream_connections.v3.DownstreamConnectionsConfig");
  EXPECT_EQ(errorOf(R"(
layered_runtime:
  layers:
  - name: s
    static_layer: {envoy.resource_limits.listener.x.connection_limit: 1.5}
)"),
            "layered_runtime.layers[0].static_layer[\"envoy.resource_limits.listener.x.connection_limit\"]: expected "
            "a whole number of connections from 0, got 1.5");
  EXPECT_EQ(errorOf(R"(
layered_runtime:
  layers:
  - name: s
    static_layer: {overload.global_downstream_max_connections: lots}
)"),
            "layered_runtime.layers[0].static_layer[\"overload.global_downstream_max_connections\"]: expected a "
            "number of connections, got \"lots\"");
}

}  // namespace
}  // namespace trellis::proxy
