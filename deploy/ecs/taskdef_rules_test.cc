// The shipped ECS files pass the register-task-definition rules, carry the Trellis sidecar's
// wiring, and each rule refuses what ECS refuses.
#include "deploy/ecs/taskdef_rules.h"

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

namespace trellis::deploy::ecs {
namespace {

using nlohmann::ordered_json;

ordered_json load(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in) << path;
  std::stringstream s;
  s << in.rdbuf();
  return ordered_json::parse(s.str());
}

const ordered_json* container(const ordered_json& td, const std::string& name) {
  for (const auto& c : td["containerDefinitions"]) {
    if (c["name"] == name) return &c;
  }
  return nullptr;
}

std::string env(const ordered_json& c, const std::string& name) {
  for (const auto& e : c["environment"]) {
    if (e["name"] == name) return e["value"];
  }
  return "";
}

bool hasError(const std::vector<std::string>& errors, const std::string& text) {
  for (const auto& e : errors) {
    if (e == text) return true;
  }
  return false;
}

std::string joined(const std::vector<std::string>& errors) {
  std::string all;
  for (const auto& e : errors) all += e + "\n";
  return all;
}

TEST(ShippedTaskDefinitions, PassTheRules) {
  for (const char* file : {"deploy/ecs/colorteller-fargate.json", "deploy/ecs/colorteller-ec2-init.json",
                           "deploy/ecs/trellis-cp-service.json"}) {
    auto errors = checkTaskDefinition(load(file));
    EXPECT_TRUE(errors.empty()) << file << ":\n" << joined(errors);
  }
  auto errors = checkServiceDefinition(load("deploy/ecs/trellis-cp-service-def.json"));
  EXPECT_TRUE(errors.empty()) << joined(errors);
}

TEST(ShippedTaskDefinitions, FargateUsesProxyConfigurationAndTheSidecarWiring) {
  auto td = load("deploy/ecs/colorteller-fargate.json");
  EXPECT_EQ(td["requiresCompatibilities"], ordered_json::array({"FARGATE"}));
  const auto* envoy = container(td, "envoy");
  ASSERT_NE(envoy, nullptr);
  EXPECT_EQ((*envoy)["user"], "1337");
  EXPECT_EQ((*envoy)["essential"], true);
  EXPECT_EQ((*envoy)["healthCheck"]["command"],
            ordered_json::array({"CMD-SHELL", "curl -s http://localhost:9901/server_info | grep state | grep -q LIVE"}));
  EXPECT_EQ(env(*envoy, "TRELLIS_CP_ADDRESS"), "trellis-cp:15010");
  EXPECT_EQ(env(*envoy, "APPMESH_RESOURCE_ARN"),
            "arn:aws:appmesh:us-west-2:111122223333:mesh/color-mesh/virtualNode/colorteller-red");
  std::vector<int> ports;
  for (const auto& pm : (*envoy)["portMappings"]) ports.push_back(pm["containerPort"]);
  EXPECT_EQ(ports, (std::vector<int>{9901, 15000, 15001}));
  EXPECT_EQ(td["proxyConfiguration"]["containerName"], "envoy");
  const auto* app = container(td, "app");
  ASSERT_NE(app, nullptr);
  EXPECT_EQ((*app)["dependsOn"], ordered_json::parse(R"([{"containerName": "envoy", "condition": "HEALTHY"}])"));
  EXPECT_TRUE((*app)["secrets"][0]["valueFrom"].get<std::string>().rfind("arn:aws:ssm:", 0) == 0);
  EXPECT_EQ((*app)["logConfiguration"]["logDriver"], "awslogs");
  for (const auto& c : td["containerDefinitions"]) EXPECT_FALSE(c.contains("linuxParameters")) << c["name"];
}

TEST(ShippedTaskDefinitions, Ec2InitRunsTrellisInitFirst) {
  auto td = load("deploy/ecs/colorteller-ec2-init.json");
  EXPECT_FALSE(td.contains("proxyConfiguration"));
  EXPECT_EQ(td["requiresCompatibilities"], ordered_json::array({"EC2"}));
  const auto* init = container(td, "trellis-init");
  ASSERT_NE(init, nullptr);
  EXPECT_EQ((*init)["essential"], false);
  EXPECT_EQ((*init)["linuxParameters"]["capabilities"]["add"], ordered_json::array({"NET_ADMIN"}));
  EXPECT_EQ(env(*init, "APPMESH_IGNORE_UID"), "1337");
  const auto* app = container(td, "app");
  ASSERT_NE(app, nullptr);
  EXPECT_EQ((*app)["dependsOn"], ordered_json::parse(R"([{"containerName": "trellis-init", "condition": "SUCCESS"},
                                                          {"containerName": "envoy", "condition": "HEALTHY"}])"));
}

TEST(ShippedTaskDefinitions, ServiceConnectNamesThePortOfTheControlPlane) {
  auto td = load("deploy/ecs/trellis-cp-service.json");
  auto service = load("deploy/ecs/trellis-cp-service-def.json");
  const auto& sc = service["serviceConnectConfiguration"]["services"][0];
  bool found = false;
  for (const auto& pm : td["containerDefinitions"][0]["portMappings"]) {
    if (pm.value("name", "") == sc["portName"]) {
      found = true;
      EXPECT_EQ(pm["containerPort"], 15010);
    }
  }
  EXPECT_TRUE(found) << "portName " << sc["portName"] << " names no port mapping of trellis-cp";
  EXPECT_EQ(sc["clientAliases"][0], ordered_json::parse(R"({"port": 15010, "dnsName": "trellis-cp"})"));
  EXPECT_EQ(service["taskDefinition"], td["family"]);
  EXPECT_EQ(td["containerDefinitions"][0]["healthCheck"]["command"][1], "wget -q -O /dev/null http://localhost:15011/ready");
}

class Rules : public ::testing::Test {
 protected:
  void SetUp() override { td = load("deploy/ecs/colorteller-fargate.json"); }
  std::vector<std::string> check() { return checkTaskDefinition(td); }
  ordered_json& app() { return td["containerDefinitions"][0]; }
  ordered_json& envoy() { return td["containerDefinitions"][1]; }
  ordered_json td;
};

TEST_F(Rules, RequiredFields) {
  td.erase("family");
  app().erase("image");
  auto errors = check();
  EXPECT_TRUE(hasError(errors, "family: required")) << joined(errors);
  EXPECT_TRUE(hasError(errors, "containerDefinitions[0] (app).image: required")) << joined(errors);
  td.erase("containerDefinitions");
  EXPECT_TRUE(hasError(check(), "containerDefinitions: required"));
}

TEST_F(Rules, ContainerNamesAreUnique) {
  envoy()["name"] = "app";
  EXPECT_TRUE(hasError(check(), "containerDefinitions[1] (app).name: \"app\" is used by two containers"))
      << joined(check());
}

TEST_F(Rules, DependsOnNamesAContainerWithAKnownCondition) {
  app()["dependsOn"][0]["containerName"] = "proxy";
  app()["dependsOn"].push_back({{"containerName", "envoy"}, {"condition", "READY"}});
  auto errors = check();
  EXPECT_TRUE(hasError(errors, "containerDefinitions[0] (app).dependsOn[0].containerName: \"proxy\" names no "
                               "container of this task"))
      << joined(errors);
  EXPECT_TRUE(hasError(errors, "containerDefinitions[0] (app).dependsOn[1].condition: \"READY\" is not START, "
                               "COMPLETE, SUCCESS or HEALTHY"))
      << joined(errors);
}

TEST_F(Rules, AnEssentialContainerCannotBeWaitedForToExit) {
  app()["dependsOn"][0]["condition"] = "SUCCESS";
  EXPECT_TRUE(hasError(check(), "containerDefinitions[0] (app).dependsOn[0].condition: SUCCESS cannot be set on an "
                                "essential container (\"envoy\" is essential)"))
      << joined(check());
  envoy()["essential"] = false;
  app()["essential"] = true;
  EXPECT_TRUE(check().empty()) << joined(check());
}

TEST_F(Rules, ProxyConfiguration) {
  td["proxyConfiguration"]["containerName"] = "sidecar";
  td["proxyConfiguration"]["properties"].push_back({{"name", "IgnoredPorts"}, {"value", "22"}});
  td["proxyConfiguration"]["properties"][0]["value"] = 9080;
  auto errors = check();
  EXPECT_TRUE(hasError(errors, "proxyConfiguration.containerName: \"sidecar\" names no container of this task"))
      << joined(errors);
  EXPECT_TRUE(hasError(errors, "proxyConfiguration.properties[5].name: \"IgnoredPorts\" is not one of IgnoredUID, "
                               "IgnoredGID, AppPorts, ProxyIngressPort, ProxyEgressPort, EgressIgnoredPorts, "
                               "EgressIgnoredIPs"))
      << joined(errors);
  EXPECT_TRUE(hasError(errors, "proxyConfiguration.properties[0].value: must be a string, got the number 9080"))
      << joined(errors);
}

TEST_F(Rules, FargateNeedsAwsvpcAndAnAllowedSize) {
  td["networkMode"] = "bridge";
  td["memory"] = "3072";
  auto errors = check();
  EXPECT_TRUE(hasError(errors, "networkMode: FARGATE requires awsvpc, got \"bridge\"")) << joined(errors);
  bool size_error = false;
  for (const auto& e : errors) size_error = size_error || e.rfind("memory: 3072 MiB is not allowed with cpu 256", 0) == 0;
  EXPECT_TRUE(size_error) << joined(errors);
  td["networkMode"] = "awsvpc";
  td["cpu"] = "1 vCPU";
  td["memory"] = "3GB";
  EXPECT_TRUE(check().empty()) << joined(check());
  app()["linuxParameters"] = {{"capabilities", {{"add", {"NET_ADMIN"}}}}};
  EXPECT_TRUE(hasError(check(), "containerDefinitions[0] (app).linuxParameters.capabilities.add: the string "
                                "\"NET_ADMIN\" cannot be added on FARGATE (only SYS_PTRACE)"))
      << joined(check());
}

TEST_F(Rules, HealthCheckFormAndRanges) {
  auto& hc = envoy()["healthCheck"];
  hc["command"][0] = "SHELL";
  hc["interval"] = 4;
  hc["timeout"] = 61;
  hc["retries"] = 11;
  hc["startPeriod"] = 301;
  auto errors = check();
  const std::string p = "containerDefinitions[1] (envoy).healthCheck.";
  EXPECT_TRUE(hasError(errors, p + "command[0]: \"SHELL\" is not CMD or CMD-SHELL")) << joined(errors);
  EXPECT_TRUE(hasError(errors, p + "interval: 4 is outside 5-300 seconds")) << joined(errors);
  EXPECT_TRUE(hasError(errors, p + "timeout: 61 is outside 2-60 seconds")) << joined(errors);
  EXPECT_TRUE(hasError(errors, p + "retries: 11 is outside 1-10")) << joined(errors);
  EXPECT_TRUE(hasError(errors, p + "startPeriod: 301 is outside 0-300 seconds")) << joined(errors);
}

TEST_F(Rules, PortMappingsAndUser) {
  envoy()["portMappings"][0]["containerPort"] = 70000;
  envoy()["portMappings"][1]["protocol"] = "sctp";
  envoy()["user"] = 1337;
  auto errors = check();
  const std::string p = "containerDefinitions[1] (envoy).";
  EXPECT_TRUE(hasError(errors, p + "portMappings[0].containerPort: 70000 is outside 0-65535")) << joined(errors);
  EXPECT_TRUE(hasError(errors, p + "portMappings[1].protocol: the string \"sctp\" is not tcp or udp")) << joined(errors);
  EXPECT_TRUE(hasError(errors, p + "user: must be a string, got the number 1337")) << joined(errors);
}

TEST(ServiceRules, RequiredAndAliases) {
  auto errors = checkServiceDefinition(ordered_json::parse(
      R"({"launchType": "LAMBDA", "serviceConnectConfiguration": {"enabled": true,
          "services": [{"portName": "ads", "clientAliases": [{"port": 70000}]}]}})"));
  EXPECT_TRUE(hasError(errors, "serviceName: required")) << joined(errors);
  EXPECT_TRUE(hasError(errors, "taskDefinition: required")) << joined(errors);
  EXPECT_TRUE(hasError(errors, "launchType: the string \"LAMBDA\" is not EC2, FARGATE or EXTERNAL")) << joined(errors);
  EXPECT_TRUE(hasError(errors, "serviceConnectConfiguration.services[0].clientAliases[0].port: 70000 is outside "
                               "0-65535"))
      << joined(errors);
}

}  // namespace
}  // namespace trellis::deploy::ecs
