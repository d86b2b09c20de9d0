// App Mesh task definitions (register input and describe output) through `trellis-inject ecs`:
// exactly the listed changes, everything else identical, the result valid for ECS; task
// definitions without App Mesh get the sidecar; bad input is refused with the field and value.
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "deploy/ecs/taskdef_rules.h"
#include "deploy/inject/ecs_file.h"
#include "deploy/inject/ecs_plan.h"

namespace trellis::deploy::inject {
namespace {

constexpr char kDir[] = "deploy/inject/testdata/";
constexpr char kEnvoyImage[] = "840364872350.dkr.ecr.us-west-2.amazonaws.com/aws-appmesh-envoy:v1.29.12.1-prod";

std::string read(const std::string& name) {
  std::ifstream in(std::string(kDir) + name);
  EXPECT_TRUE(in) << name;
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

EcsOptions defaults() {
  EcsOptions o;
  o.image = "trellis/trellis-proxy:0.1.0";
  o.init_image = "trellis/trellis-init:0.1.0";
  return o;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string all;
  for (const auto& l : lines) all += l + "\n";
  return all;
}

// The App Mesh container's changes undone on the output, so the rest can be compared whole.
void undoWalkthroughChanges(Json& td) {
  Json& envoy = td["containerDefinitions"][2];
  envoy["image"] = kEnvoyImage;
  Json& env = envoy["environment"];
  ASSERT_EQ(env.back()["name"], "TRELLIS_CP_ADDRESS");
  ASSERT_EQ(env.back()["value"], "trellis-cp:15010");
  env.erase(env.size() - 1);
  env.insert(env.begin() + 3, Json::parse(R"({"name": "APPMESH_PREVIEW", "value": "0"})"));
}

TEST(EcsTaskDefinition, WalkthroughConvertsWithOnlyTheListedChanges) {
  const std::string input = read("appmesh-colorteller.json");
  auto file = convertEcsFile("appmesh-colorteller.json", input, defaults());
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_TRUE(file->changed);
  EXPECT_EQ(joined(file->changes),
            "appmesh-colorteller.json: containerDefinitions[2] (envoy): image " + std::string(kEnvoyImage) +
                " -> trellis/trellis-proxy:0.1.0\n"
                "appmesh-colorteller.json: containerDefinitions[2] (envoy).environment[3] (APPMESH_PREVIEW): "
                "removed, it selected App Mesh's preview service endpoint\n"
                "appmesh-colorteller.json: containerDefinitions[2] (envoy).environment: added "
                "TRELLIS_CP_ADDRESS=trellis-cp:15010\n");
  EXPECT_EQ(joined(file->notes),
            "appmesh-colorteller.json: containerDefinitions[2] (envoy).environment[1] (ENABLE_ENVOY_XRAY_TRACING): "
            "kept, but the Trellis sidecar does not read it\n");

  Json out = Json::parse(file->output);
  EXPECT_EQ(file->output, out.dump(2) + "\n") << "written with 2-space indent";
  EXPECT_EQ(out["containerDefinitions"][2]["image"], "trellis/trellis-proxy:0.1.0");
  auto errors = ecs::checkTaskDefinition(out);
  EXPECT_TRUE(errors.empty()) << joined(errors);

  Json original = Json::parse(input);
  undoWalkthroughChanges(out);
  // ordered_json compares key order too: every other container, port, secret, log
  // configuration, tag, key order and value is as it was.
  EXPECT_EQ(out, original) << out.dump(2);
}

TEST(EcsTaskDefinition, ConvertingTheOutputAgainChangesNothing) {
  auto first = convertEcsFile("a.json", read("appmesh-colorteller.json"), defaults());
  ASSERT_TRUE(first.ok()) << first.status();
  auto second = convertEcsFile("a.json", first->output, defaults());
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_FALSE(second->changed);
  EXPECT_TRUE(second->changes.empty()) << joined(second->changes);
  EXPECT_EQ(second->output, first->output);
}

TEST(EcsTaskDefinition, DescribeOutputKeepsItsEnvelope) {
  const std::string input = read("appmesh-colorteller-describe.json");
  auto file = convertEcsFile("d.json", input, defaults());
  ASSERT_TRUE(file.ok()) << file.status();
  Json out = Json::parse(file->output);
  ASSERT_TRUE(out.contains("taskDefinition"));
  EXPECT_EQ(out["taskDefinition"]["containerDefinitions"][2]["image"], "trellis/trellis-proxy:0.1.0");
  ASSERT_EQ(file->notes.size(), 2u) << joined(file->notes);
  EXPECT_NE(file->notes[1].find("read-only fields (taskDefinitionArn, revision, status, requiresAttributes, "
                                "compatibilities, registeredAt, registeredBy)"),
            std::string::npos)
      << file->notes[1];
  EXPECT_EQ(file->changes[0].rfind("d.json: taskDefinition.containerDefinitions[2] (envoy): image ", 0), 0u)
      << file->changes[0];
  Json original = Json::parse(input);
  undoWalkthroughChanges(out["taskDefinition"]);
  EXPECT_EQ(out, original);
}

TEST(EcsTaskDefinition, ShortNameInResourceArnMovesToVirtualNodeName) {
  Json td = Json::parse(read("appmesh-colorteller.json"));
  td["containerDefinitions"][2]["environment"][0]["value"] = "mesh/appmesh-mesh/virtualNode/colorteller-white-vn";
  auto plan = planTaskDefinition(td, FieldCase::kCamel, defaults(), true);
  ASSERT_TRUE(plan.ok()) << plan.status();
  applyEdits(td, plan->edits, FieldCase::kCamel);
  EXPECT_EQ(td["containerDefinitions"][2]["environment"][0],
            Json::parse(R"({"name": "APPMESH_VIRTUAL_NODE_NAME",
                            "value": "mesh/appmesh-mesh/virtualNode/colorteller-white-vn"})"));
}

TEST(EcsTaskDefinition, CpAddressFlagReplacesAnExistingOne) {
  EcsOptions o = defaults();
  o.cp_address = "cp.internal:7000";
  o.cp_address_given = true;
  auto first = convertEcsFile("a.json", read("appmesh-colorteller.json"), defaults());
  ASSERT_TRUE(first.ok());
  auto second = convertEcsFile("a.json", first->output, o);
  ASSERT_TRUE(second.ok()) << second.status();
  ASSERT_EQ(second->changes.size(), 1u) << joined(second->changes);
  EXPECT_EQ(second->changes[0],
            "a.json: containerDefinitions[2] (envoy).environment[3] (TRELLIS_CP_ADDRESS): trellis-cp:15010 -> "
            "cp.internal:7000");
}

TEST(EcsTaskDefinition, WithoutAppMeshTheSidecarIsAddedWithProxyConfiguration) {
  EcsOptions o = defaults();
  o.node = "mesh/shop/virtualNode/orders";
  const std::string input = read("plain-taskdef.json");
  auto file = convertEcsFile("p.json", input, o);
  ASSERT_TRUE(file.ok()) << file.status();
  Json out = Json::parse(file->output);
  auto errors = ecs::checkTaskDefinition(out);
  EXPECT_TRUE(errors.empty()) << joined(errors);
  ASSERT_EQ(out["containerDefinitions"].size(), 2u);
  const Json& envoy = out["containerDefinitions"][1];
  EXPECT_EQ(envoy["name"], "envoy");
  EXPECT_EQ(envoy["image"], "trellis/trellis-proxy:0.1.0");
  EXPECT_EQ(envoy["user"], "1337");
  EXPECT_EQ(envoy["environment"], Json::parse(R"([{"name": "APPMESH_VIRTUAL_NODE_NAME", "value": "mesh/shop/virtualNode/orders"},
                                                  {"name": "TRELLIS_CP_ADDRESS", "value": "trellis-cp:15010"}])"));
  EXPECT_EQ(envoy["logConfiguration"]["options"]["awslogs-stream-prefix"], "envoy");
  EXPECT_EQ(envoy["logConfiguration"]["options"]["awslogs-group"], "orders");
  EXPECT_EQ(out["proxyConfiguration"], Json::parse(R"({"type": "APPMESH", "containerName": "envoy", "properties": [
      {"name": "AppPorts", "value": "8080,8443"}, {"name": "ProxyIngressPort", "value": "15000"},
      {"name": "ProxyEgressPort", "value": "15001"}, {"name": "IgnoredUID", "value": "1337"},
      {"name": "EgressIgnoredIPs", "value": "169.254.170.2,169.254.169.254"}]})"));
  // The app container: only the dependency added.
  Json app = out["containerDefinitions"][0];
  EXPECT_EQ(app["dependsOn"], Json::parse(R"([{"containerName": "envoy", "condition": "HEALTHY"}])"));
  app.erase("dependsOn");
  EXPECT_EQ(app, Json::parse(input)["containerDefinitions"][0]);
}

TEST(EcsTaskDefinition, InitCaptureAddsTrellisInitOnEc2) {
  EcsOptions o = defaults();
  o.node = "arn:aws:appmesh:eu-west-1:111122223333:mesh/shop/virtualNode/orders";
  o.capture = Capture::kInit;
  auto file = convertEcsFile("p.json", read("plain-taskdef.json"), o);
  ASSERT_TRUE(file.ok()) << file.status();
  Json out = Json::parse(file->output);
  auto errors = ecs::checkTaskDefinition(out);
  EXPECT_TRUE(errors.empty()) << joined(errors);
  EXPECT_FALSE(out.contains("proxyConfiguration"));
  const Json& init = out["containerDefinitions"][1];
  EXPECT_EQ(init["name"], "trellis-init");
  EXPECT_EQ(init["essential"], false);
  EXPECT_EQ(init["linuxParameters"], Json::parse(R"({"capabilities": {"add": ["NET_ADMIN"]}})"));
  EXPECT_EQ(init["environment"][0], Json::parse(R"({"name": "APPMESH_APP_PORTS", "value": "8080,8443"})"));
  EXPECT_EQ(out["containerDefinitions"][0]["dependsOn"],
            Json::parse(R"([{"containerName": "trellis-init", "condition": "SUCCESS"},
                            {"containerName": "envoy", "condition": "HEALTHY"}])"));
  EXPECT_EQ(out["containerDefinitions"][2]["environment"][0]["name"], "APPMESH_RESOURCE_ARN");
}

TEST(EcsTaskDefinition, InitCaptureIsRefusedOnFargateAndBridgeIsRefused) {
  EcsOptions o = defaults();
  o.node = "mesh/shop/virtualNode/orders";
  o.capture = Capture::kInit;
  Json td = Json::parse(read("plain-taskdef.json"));
  td["requiresCompatibilities"] = Json::array({"FARGATE"});
  auto plan = planTaskDefinition(td, FieldCase::kCamel, o, true);
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().message(),
            "requiresCompatibilities: FARGATE grants no NET_ADMIN, so --capture init cannot work there; use "
            "--capture proxy-configuration");
  td["networkMode"] = "bridge";
  plan = planTaskDefinition(td, FieldCase::kCamel, o, true);
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().message(),
            "networkMode: \"bridge\": the sidecar's traffic capture needs awsvpc, where every container shares the "
            "task's network namespace");
}

TEST(EcsRejections, NoEnvoyAndNoNode) {
  auto file = convertEcsFile("plain.json", read("plain-taskdef.json"), defaults());
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.status().message(),
            "plain.json: containerDefinitions: no App Mesh Envoy container (an image *aws-appmesh-envoy*, or "
            "APPMESH_RESOURCE_ARN / APPMESH_VIRTUAL_NODE_NAME in a container's environment) and no --node; give "
            "--node mesh/MESH/virtualNode/NODE to add the Trellis sidecar");
}

TEST(EcsRejections, FieldsOfTheWrongType) {
  Json td = Json::parse(read("appmesh-colorteller.json"));
  td["containerDefinitions"][2]["environment"] = Json::parse(R"({"APPMESH_RESOURCE_ARN": "x"})");
  auto file = convertEcsFile("t.json", td.dump(), defaults());
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.status().message(),
            "t.json: containerDefinitions[2] (envoy).environment: must be a list of {name, value}, got an object");

  td = Json::parse(read("appmesh-colorteller.json"));
  td["containerDefinitions"][0]["image"] = 42;
  file = convertEcsFile("t.json", td.dump(), defaults());
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.status().message(), "t.json: containerDefinitions[0] (app).image: must be a string, got the number 42");

  td = Json::parse(read("appmesh-colorteller.json"));
  td["containerDefinitions"][2]["environment"][0]["value"] = "arn:aws:s3:::bucket";
  file = convertEcsFile("t.json", td.dump(), defaults());
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.status().message(),
            "t.json: containerDefinitions[2] (envoy).environment[0] (APPMESH_RESOURCE_ARN): \"arn:aws:s3:::bucket\" "
            "is neither arn:aws:appmesh:REGION:ACCOUNT:mesh/MESH/virtualNode/NODE nor mesh/MESH/virtualNode/NODE");

  file = convertEcsFile("t.json", R"({"containerDefinitions": {"name": "app"}})", defaults());
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.status().message(), "t.json: containerDefinitions: must be a list of container definitions, got an object");
}

TEST(EcsRejections, MalformedFiles) {
  auto file = convertEcsFile("broken.json", "{\"family\": \"x\",\n  \"containerDefinitions\": [}\n", defaults());
  ASSERT_FALSE(file.ok());
  const std::string message(file.status().message());
  EXPECT_EQ(message.rfind("broken.json: not valid JSON: ", 0), 0u) << message;
  EXPECT_NE(message.find("line 2"), std::string::npos) << message;

  file = convertEcsFile("broken.yaml", "Resources:\n  A: [1, 2\n", defaults());
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(std::string(file.status().message()).rfind("broken.yaml:3:1: not valid YAML: ", 0), 0u)
      << file.status().message();

  file = convertEcsFile("other.json", R"({"services": []})", defaults());
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.status().message(),
            "other.json: neither a task definition (containerDefinitions), describe-task-definition output "
            "(taskDefinition) nor a CloudFormation template (Resources)");
}

TEST(EcsRejections, TwoEnvoyContainers) {
  Json td = Json::parse(read("appmesh-colorteller.json"));
  Json second = td["containerDefinitions"][2];
  second["name"] = "envoy-2";
  td["containerDefinitions"].push_back(second);
  auto plan = planTaskDefinition(td, FieldCase::kCamel, defaults(), true);
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().message(),
            "containerDefinitions: two App Mesh Envoy containers, containerDefinitions[2] (envoy) and "
            "containerDefinitions[3] (envoy-2) (a task has one sidecar)");
}

}  // namespace
}  // namespace trellis::deploy::inject
