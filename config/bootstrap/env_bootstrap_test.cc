// The environment bootstrap, rule by rule: what an App Mesh task definition's variables become,
// the exact error for each bad value, and which variables are reported as ignored or refused.
// The host resolver is a fake that knows two names, so nothing here touches the network.
#include "config/bootstrap/env_bootstrap.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace trellis::config {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

absl::StatusOr<std::string> fakeResolve(const std::string& host) {
  if (host == "trellis-cp") return std::string("10.0.0.7");
  if (host == "cp.mesh.internal") return std::string("10.9.8.7");
  if (host.find_first_not_of("0123456789.:abcdef") == std::string::npos) return host;  // IP literals
  return absl::NotFoundError("Name or service not known");
}

const Environment kNode = {{"APPMESH_RESOURCE_ARN", "arn:aws:appmesh:us-west-2:111122223333:mesh/color-mesh/virtualNode/front"}};

Environment with(Environment env, const std::string& name, const std::string& value) {
  env[name] = value;
  return env;
}

std::string errorOf(const Environment& env) {
  auto r = bootstrapFromEnvironment(env, fakeResolve);
  EXPECT_FALSE(r.ok());
  return r.ok() ? "" : std::string(r.status().message());
}

TEST(EnvBootstrap, DefaultsAreAppMeshs) {
  auto r = bootstrapFromEnvironment(kNode, fakeResolve);
  ASSERT_TRUE(r.ok()) << r.status();
  const auto& b = r->bootstrap;
  EXPECT_EQ(b.node().id(), "arn:aws:appmesh:us-west-2:111122223333:mesh/color-mesh/virtualNode/front");
  EXPECT_EQ(b.node().cluster(), "front");
  EXPECT_EQ(b.admin().address().socket_address().address(), "0.0.0.0");
  EXPECT_EQ(b.admin().address().socket_address().port_value(), 9901u);
  EXPECT_EQ(r->log_level, "info");
  EXPECT_FALSE(r->concurrency.has_value());
  EXPECT_TRUE(r->ignored.empty());
  // One ADS stream to the static cluster trellis-cp, at the default name's address.
  const auto& dr = b.dynamic_resources();
  ASSERT_EQ(dr.ads_config().grpc_services_size(), 1);
  EXPECT_EQ(dr.ads_config().grpc_services(0).envoy_grpc().cluster_name(), "trellis-cp");
  EXPECT_TRUE(dr.lds_config().has_ads());
  EXPECT_TRUE(dr.cds_config().has_ads());
  EXPECT_EQ(dr.lds_config().initial_fetch_timeout().seconds(), 0);  // App Mesh's default: wait
  ASSERT_EQ(b.static_resources().clusters_size(), 1);
  const auto& cluster = b.static_resources().clusters(0);
  EXPECT_EQ(cluster.name(), "trellis-cp");
  EXPECT_EQ(cluster.type(), envoy::config::cluster::v3::Cluster::STATIC);
  const auto& socket = cluster.load_assignment().endpoints(0).lb_endpoints(0).endpoint().address().socket_address();
  EXPECT_EQ(socket.address(), "10.0.0.7");
  EXPECT_EQ(socket.port_value(), 15010u);
}

TEST(EnvBootstrap, EverySupportedVariableApplies) {
  Environment env = {{"APPMESH_VIRTUAL_NODE_NAME", "mesh/m/virtualNode/colorteller-red"},
                     {"TRELLIS_CP_ADDRESS", "cp.mesh.internal:20000"},
                     {"ENVOY_ADMIN_ACCESS_PORT", "9000"},
                     {"ENVOY_ADMIN_ACCESS_ENABLE_IPV6", "true"},
                     {"ENVOY_LOG_LEVEL", "warn"},
                     {"ENVOY_INITIAL_FETCH_TIMEOUT", "30"},
                     {"ENVOY_CONCURRENCY", "2"},
                     {"ENVOY_ADMIN_ACCESS_LOG_FILE", "/dev/null"}};
  auto r = bootstrapFromEnvironment(env, fakeResolve);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->bootstrap.node().id(), "mesh/m/virtualNode/colorteller-red");
  EXPECT_EQ(r->bootstrap.node().cluster(), "colorteller-red");
  EXPECT_EQ(r->bootstrap.admin().address().socket_address().address(), "::");
  EXPECT_EQ(r->bootstrap.admin().address().socket_address().port_value(), 9000u);
  EXPECT_EQ(r->log_level, "warning");
  EXPECT_EQ(r->concurrency, 2u);
  EXPECT_EQ(r->bootstrap.dynamic_resources().lds_config().initial_fetch_timeout().seconds(), 30);
  const auto& socket =
      r->bootstrap.static_resources().clusters(0).load_assignment().endpoints(0).lb_endpoints(0).endpoint().address().socket_address();
  EXPECT_EQ(socket.address(), "10.9.8.7");
  EXPECT_EQ(socket.port_value(), 20000u);
  EXPECT_TRUE(r->ignored.empty()) << r->ignored[0];  // /dev/null asks for no log
}

TEST(EnvBootstrap, AppMeshXdsEndpointAndIpv6Literal) {
  auto r = bootstrapFromEnvironment(with(kNode, "APPMESH_XDS_ENDPOINT", "[fd00::5]:15010"), fakeResolve);
  ASSERT_TRUE(r.ok()) << r.status();
  const auto& socket =
      r->bootstrap.static_resources().clusters(0).load_assignment().endpoints(0).lb_endpoints(0).endpoint().address().socket_address();
  EXPECT_EQ(socket.address(), "fd00::5");
  // Both names with the same value are fine; different values are refused.
  Environment both = with(with(kNode, "APPMESH_XDS_ENDPOINT", "10.1.1.1:15010"), "TRELLIS_CP_ADDRESS", "10.1.1.1:15010");
  EXPECT_TRUE(bootstrapFromEnvironment(both, fakeResolve).ok());
  EXPECT_EQ(errorOf(with(both, "TRELLIS_CP_ADDRESS", "10.1.1.2:15010")),
            "TRELLIS_CP_ADDRESS='10.1.1.2:15010' and APPMESH_XDS_ENDPOINT='10.1.1.1:15010' differ: set one of them");
}

TEST(EnvBootstrap, MissingNodeIsAnErrorNamingTheVariable) {
  EXPECT_THAT(errorOf({}), HasSubstr("APPMESH_RESOURCE_ARN: required when trellis-proxy starts without -c"));
  // The shared identity parser (config/identity) words it, naming the variable and the value.
  EXPECT_THAT(errorOf({{"APPMESH_RESOURCE_ARN", "arn:aws:s3:::bucket"}}),
              HasSubstr("APPMESH_RESOURCE_ARN=\"arn:aws:s3:::bucket\": service \"s3\" (allowed: appmesh)"));
}

TEST(EnvBootstrap, BadValuesNameVariableValueAndWhatIsAllowed) {
  EXPECT_EQ(errorOf(with(kNode, "ENVOY_ADMIN_ACCESS_PORT", "99999")),
            "ENVOY_ADMIN_ACCESS_PORT='99999': the port must be a number from 1 to 65535");
  EXPECT_EQ(errorOf(with(kNode, "ENVOY_ADMIN_ACCESS_PORT", "0")),
            "ENVOY_ADMIN_ACCESS_PORT='0': the port must be a number from 1 to 65535");
  EXPECT_EQ(errorOf(with(kNode, "ENVOY_ADMIN_ACCESS_ENABLE_IPV6", "yes")),
            "ENVOY_ADMIN_ACCESS_ENABLE_IPV6='yes': expected true or false (or 1 or 0)");
  EXPECT_EQ(errorOf(with(kNode, "ENVOY_LOG_LEVEL", "verbose")),
            "ENVOY_LOG_LEVEL='verbose': expected trace, debug, info, warn (or warning), error, critical or off");
  EXPECT_EQ(errorOf(with(kNode, "ENVOY_CONCURRENCY", "0")),
            "ENVOY_CONCURRENCY='0': expected a number of workers from 1 to 1024");
  EXPECT_EQ(errorOf(with(kNode, "ENVOY_INITIAL_FETCH_TIMEOUT", "15s")),
            "ENVOY_INITIAL_FETCH_TIMEOUT='15s': expected whole seconds from 0 (wait forever) to 86400");
  EXPECT_EQ(errorOf(with(kNode, "TRELLIS_CP_ADDRESS", "trellis-cp")),
            "TRELLIS_CP_ADDRESS='trellis-cp': expected HOST:PORT (e.g. trellis-cp:15010, 10.0.0.5:15010 or "
            "[fd00::5]:15010)");
  EXPECT_EQ(errorOf(with(kNode, "TRELLIS_CP_ADDRESS", "trellis-cp:http")),
            "TRELLIS_CP_ADDRESS='trellis-cp:http': the port must be a number from 1 to 65535");
  EXPECT_EQ(errorOf(with(kNode, "APPMESH_XDS_ENDPOINT", "nowhere:15010")),
            "APPMESH_XDS_ENDPOINT='nowhere:15010': cannot resolve 'nowhere': Name or service not known");
}

TEST(EnvBootstrap, UnresolvableDefaultSaysItIsTheDefault) {
  auto nothing = [](const std::string&) -> absl::StatusOr<std::string> { return absl::NotFoundError("no DNS"); };
  auto r = bootstrapFromEnvironment(kNode, nothing);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "TRELLIS_CP_ADDRESS (unset, so the default trellis-cp:15010): cannot resolve 'trellis-cp': no DNS");
}

TEST(EnvBootstrap, TelemetryAndPreviewAreReportedIgnoredInTableOrder) {
  Environment env = kNode;
  env["ENABLE_ENVOY_XRAY_TRACING"] = "1";
  env["APPMESH_PREVIEW"] = "1";
  env["ENVOY_STATS_SINKS_CFG_FILE"] = "/etc/sinks.yaml";
  env["ENVOY_ADMIN_ACCESS_LOG_FILE"] = "/tmp/envoy_admin_access.log";
  env["ENVOY_TYPO_LEVEL"] = "x";
  env["APPMESH_APP_PORTS"] = "8080";  // trellis-init's: not reported
  env["HOME"] = "/root";              // not ours: not reported
  auto r = bootstrapFromEnvironment(env, fakeResolve);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->ignored.size(), 5u);
  EXPECT_THAT(r->ignored[0], HasSubstr("ENVOY_ADMIN_ACCESS_LOG_FILE=/tmp/envoy_admin_access.log: ignored: "));
  EXPECT_THAT(r->ignored[1], HasSubstr("APPMESH_PREVIEW=1: ignored: "));
  EXPECT_THAT(r->ignored[2], HasSubstr("ENABLE_ENVOY_XRAY_TRACING=1: ignored: trellis-proxy exports no traces"));
  EXPECT_THAT(r->ignored[3], HasSubstr("ENVOY_STATS_SINKS_CFG_FILE=/etc/sinks.yaml: ignored: "));
  EXPECT_EQ(r->ignored[4], "ENVOY_TYPO_LEVEL=x: ignored: not a variable trellis-proxy reads");
}

TEST(EnvBootstrap, SdsIsRefusedBecauseItWouldDropMtls) {
  EXPECT_THAT(errorOf(with(kNode, "APPMESH_SDS_SOCKET_PATH", "/run/spire/sockets/agent.sock")),
              HasSubstr("APPMESH_SDS_SOCKET_PATH='/run/spire/sockets/agent.sock': mutual TLS certificates over SDS"));
}

TEST(EnvBootstrap, EmptyValuesCountAsUnset) {
  Environment env = with(kNode, "ENVOY_ADMIN_ACCESS_PORT", "");
  env["APPMESH_PREVIEW"] = "";
  auto r = bootstrapFromEnvironment(env, fakeResolve);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->bootstrap.admin().address().socket_address().port_value(), 9901u);
  EXPECT_TRUE(r->ignored.empty());
}

TEST(EnvBootstrap, TableHasEveryHandledName) {
  std::vector<std::string> used;
  for (const auto& v : environmentVariables()) {
    if (v.handling == EnvHandling::kUsed) used.push_back(v.name);
  }
  EXPECT_THAT(used, ElementsAre("APPMESH_RESOURCE_ARN", "APPMESH_VIRTUAL_NODE_NAME", "TRELLIS_CP_ADDRESS",
                                "APPMESH_XDS_ENDPOINT", "ENVOY_ADMIN_ACCESS_PORT", "ENVOY_ADMIN_ACCESS_ENABLE_IPV6",
                                "ENVOY_LOG_LEVEL", "ENVOY_INITIAL_FETCH_TIMEOUT", "ENVOY_CONCURRENCY"));
}

}  // namespace
}  // namespace trellis::config
