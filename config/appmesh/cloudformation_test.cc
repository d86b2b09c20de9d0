// The CloudFormation front-end through the loader: templates in both YAML spellings and JSON,
// every intrinsic function in its short (!Ref) and long ({"Ref": ...}) form, what CloudFormation
// returns for Ref and Fn::GetAtt of App Mesh and Cloud Map resources, and every rejection with
// its exact message.
#include "config/appmesh/cloudformation.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "config/appmesh/loader.h"
#include "config/appmesh/validate.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace trellis::config::appmesh {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr char kFile[] = "mesh.yaml";

LoadResult load(const std::string& text, const LoadOptions& options = {},
                const std::string& name = kFile) {
  return loadMeshFiles({{name, text}}, nullptr, options);
}

// A template whose Mesh is named by `expression`, with `sections` (Parameters, Conditions,
// Mappings) before Resources and `resources` after the Mesh.
std::string meshNamed(const std::string& expression, const std::string& sections = "",
                      const std::string& resources = "") {
  return absl::StrCat(sections, R"(
Resources:
  Mesh:
    Type: AWS::AppMesh::Mesh
    Properties:
      MeshName: )",
                      expression, "\n", resources);
}

// What `expression` evaluates to, read back as the mesh's name; "" after an error.
std::string valueOf(const std::string& expression, const std::string& sections = "",
                    const LoadOptions& options = {}, const std::string& resources = "") {
  LoadResult result = load(meshNamed(expression, sections, resources), options);
  EXPECT_THAT(result.errors, IsEmpty()) << expression;
  if (result.mesh.meshes.empty()) return "";
  return result.mesh.meshes.front().name;
}

// The errors of a template naming its mesh with `expression`.
std::vector<std::string> errorsOf(const std::string& expression, const std::string& sections = "",
                                  const LoadOptions& options = {},
                                  const std::string& resources = "") {
  return load(meshNamed(expression, sections, resources), options).errors;
}

std::string meshError(const std::string& message) {
  return absl::StrCat("mesh.yaml (resource Mesh): Resources.Mesh.Properties.MeshName: ", message);
}

LoadOptions regionAndAccount() {
  LoadOptions options;
  options.parameters = {{"AWS::Region", "eu-west-1"}, {"AWS::AccountId", "111122223333"}};
  return options;
}

std::vector<std::string> validationErrors(const MeshSet& mesh) {
  std::vector<std::string> out;
  for (const ValidationError& e : validate(mesh)) out.push_back(e.toString());
  return out;
}

// ------------------------------------------------------------------------ the typical template

// What people write: a mesh, a node with a health check and Cloud Map, a router and a route
// splitting 90/10 between two versions that another template (or nobody yet) defines.
constexpr char kTypical[] = R"(
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Mesh:
    Type: AWS::AppMesh::Mesh
    Properties:
      MeshName: my-mesh
      Spec:
        EgressFilter:
          Type: DROP_ALL
  AppNode:
    Type: AWS::AppMesh::VirtualNode
    Properties:
      MeshName: !GetAtt Mesh.MeshName
      VirtualNodeName: my-app
      Spec:
        Listeners:
          - PortMapping:
              Port: 8080
              Protocol: http
            HealthCheck:
              HealthyThreshold: 2
              IntervalMillis: 5000
              Path: /health
              Port: 8080
              Protocol: http
              TimeoutMillis: 2000
              UnhealthyThreshold: 3
        ServiceDiscovery:
          AWSCloudMap:
            NamespaceName: my-namespace.local
            ServiceName: my-app
        Backends:
          - VirtualService:
              VirtualServiceName: !GetAtt BackendService.VirtualServiceName
  BackendService:
    Type: AWS::AppMesh::VirtualService
    Properties:
      MeshName: !GetAtt Mesh.MeshName
      VirtualServiceName: my-app.my-namespace.local
      Spec:
        Provider:
          VirtualRouter:
            VirtualRouterName: !GetAtt Router.VirtualRouterName
  Router:
    Type: AWS::AppMesh::VirtualRouter
    Properties:
      MeshName: !GetAtt Mesh.MeshName
      VirtualRouterName: my-app-router
      Spec:
        Listeners:
          - PortMapping:
              Port: 8080
              Protocol: http
  Route:
    Type: AWS::AppMesh::Route
    Properties:
      MeshName: !GetAtt Mesh.MeshName
      VirtualRouterName: !GetAtt Router.VirtualRouterName
      RouteName: my-app-route
      Spec:
        HttpRoute:
          Match:
            Prefix: /
          Action:
            WeightedTargets:
              - VirtualNode: my-app-v1
                Weight: 90
              - VirtualNode: my-app-v2
                Weight: 10
)";

constexpr char kVersionNodes[] = R"(
  V1:
    Type: AWS::AppMesh::VirtualNode
    Properties:
      MeshName: my-mesh
      VirtualNodeName: my-app-v1
      Spec:
        Listeners: [{PortMapping: {Port: 8080, Protocol: http}}]
        ServiceDiscovery: {DNS: {Hostname: v1.my-namespace.local}}
  V2:
    Type: AWS::AppMesh::VirtualNode
    Properties:
      MeshName: my-mesh
      VirtualNodeName: my-app-v2
      Spec:
        Listeners: [{PortMapping: {Port: 8080, Protocol: http}}]
        ServiceDiscovery: {DNS: {Hostname: v2.my-namespace.local}}
)";

TEST(CloudFormationTypical, LoadsEveryResource) {
  LoadResult result = load(kTypical);
  ASSERT_THAT(result.errors, IsEmpty());
  const MeshSet& set = result.mesh;
  ASSERT_EQ(set.meshes.size(), 1u);
  EXPECT_EQ(set.meshes[0].name, "my-mesh");
  EXPECT_EQ(set.meshes[0].spec.egressFilter, EgressFilterType::kDropAll);
  EXPECT_EQ(set.meshes[0].source.format, InputFormat::kCloudFormation);
  EXPECT_EQ(set.meshes[0].source.resource, "Mesh");

  ASSERT_EQ(set.virtualNodes.size(), 1u);
  const VirtualNode& node = set.virtualNodes[0];
  EXPECT_EQ(node.mesh, "my-mesh");
  EXPECT_EQ(node.name, "my-app");
  ASSERT_EQ(node.spec.listeners.size(), 1u);
  EXPECT_EQ(node.spec.listeners[0].portMapping.port, 8080);
  EXPECT_EQ(node.spec.listeners[0].portMapping.protocol, PortProtocol::kHttp);
  ASSERT_TRUE(node.spec.listeners[0].healthCheck);
  const HealthCheckPolicy& check = *node.spec.listeners[0].healthCheck;
  EXPECT_EQ(check.healthyThreshold, 2);
  EXPECT_EQ(check.intervalMillis, 5000);
  EXPECT_EQ(check.path, "/health");
  EXPECT_EQ(check.port, 8080);
  EXPECT_EQ(check.protocol, PortProtocol::kHttp);
  EXPECT_EQ(check.timeoutMillis, 2000);
  EXPECT_EQ(check.unhealthyThreshold, 3);
  ASSERT_TRUE(node.spec.serviceDiscovery.awsCloudMap);
  EXPECT_EQ(node.spec.serviceDiscovery.awsCloudMap->namespaceName, "my-namespace.local");
  EXPECT_EQ(node.spec.serviceDiscovery.awsCloudMap->serviceName, "my-app");
  ASSERT_EQ(node.spec.backends.size(), 1u);
  EXPECT_EQ(node.spec.backends[0].virtualServiceName, "my-app.my-namespace.local");

  ASSERT_EQ(set.virtualRouters.size(), 1u);
  EXPECT_EQ(set.virtualRouters[0].name, "my-app-router");
  ASSERT_EQ(set.routes.size(), 1u);
  const Route& route = set.routes[0];
  EXPECT_EQ(route.name, "my-app-route");
  EXPECT_EQ(route.virtualRouter, "my-app-router");
  ASSERT_TRUE(route.spec.httpRoute);
  EXPECT_EQ(route.spec.httpRoute->match.prefix, "/");
  const std::vector<WeightedTarget>& targets = route.spec.weightedTargets();
  ASSERT_EQ(targets.size(), 2u);
  EXPECT_EQ(targets[0].virtualNode, "my-app-v1");
  EXPECT_EQ(targets[0].weight, 90);
  EXPECT_EQ(targets[1].virtualNode, "my-app-v2");
  EXPECT_EQ(targets[1].weight, 10);
}

TEST(CloudFormationTypical, NamesEachMissingTargetNode) {
  LoadResult result = load(kTypical);
  ASSERT_THAT(result.errors, IsEmpty());
  EXPECT_THAT(
      validationErrors(result.mesh),
      ElementsAre("mesh.yaml (resource Route): my-mesh/VirtualRouter/my-app-router/Route/"
                  "my-app-route: spec.httpRoute.action.weightedTargets[0].virtualNode: no "
                  "VirtualNode \"my-app-v1\" in mesh \"my-mesh\" (defined: my-app)",
                  "mesh.yaml (resource Route): my-mesh/VirtualRouter/my-app-router/Route/"
                  "my-app-route: spec.httpRoute.action.weightedTargets[1].virtualNode: no "
                  "VirtualNode \"my-app-v2\" in mesh \"my-mesh\" (defined: my-app)"));
}

TEST(CloudFormationTypical, ValidWithTheVersionNodes) {
  LoadResult result = load(absl::StrCat(kTypical, kVersionNodes));
  ASSERT_THAT(result.errors, IsEmpty());
  EXPECT_EQ(result.mesh.virtualNodes.size(), 3u);
  EXPECT_THAT(validationErrors(result.mesh), IsEmpty());
}

TEST(CloudFormationTypical, JsonTemplate) {
  constexpr char kJson[] = R"({
  "AWSTemplateFormatVersion": "2010-09-09",
  "Parameters": {"Port": {"Type": "Number", "Default": 8080}},
  "Resources": {
    "Mesh": {"Type": "AWS::AppMesh::Mesh", "Properties": {"MeshName": "json-mesh"}},
    "Node": {
      "Type": "AWS::AppMesh::VirtualNode",
      "Properties": {
        "MeshName": {"Fn::GetAtt": ["Mesh", "MeshName"]},
        "VirtualNodeName": {"Fn::Join": ["-", ["node", {"Ref": "Port"}]]},
        "Spec": {
          "Listeners": [{"PortMapping": {"Port": {"Ref": "Port"}, "Protocol": "http"}}],
          "ServiceDiscovery": {"DNS": {"Hostname": {"Fn::Sub": "node.${Mesh.MeshName}.local"}}}
        },
        "Tags": [{"Key": "team", "Value": "blue"}]
      }
    }
  }
})";
  LoadResult result = load(kJson, {}, "mesh.json");
  ASSERT_THAT(result.errors, IsEmpty());
  ASSERT_EQ(result.mesh.virtualNodes.size(), 1u);
  const VirtualNode& node = result.mesh.virtualNodes[0];
  EXPECT_EQ(node.mesh, "json-mesh");
  EXPECT_EQ(node.name, "node-8080");
  EXPECT_EQ(node.spec.listeners[0].portMapping.port, 8080);
  ASSERT_TRUE(node.spec.serviceDiscovery.dns);
  EXPECT_EQ(node.spec.serviceDiscovery.dns->hostname, "node.json-mesh.local");
  ASSERT_EQ(node.tags.size(), 1u);
  EXPECT_EQ(node.tags[0].key, "team");
  EXPECT_EQ(node.tags[0].value, "blue");
  EXPECT_EQ(node.source.file, "mesh.json");
  EXPECT_EQ(node.source.resource, "Node");
}

// -------------------------------------------------------------------------------- Ref

constexpr char kParameters[] = R"(
Parameters:
  Name: {Type: String, Default: from-default}
  Port: {Type: Number, Default: 8080}
  NoDefault: {Type: String}
  Stage: {Type: String, Default: test, AllowedValues: [test, prod]}
  Names: {Type: CommaDelimitedList, Default: "a, b,c"}
  Image: {Type: "AWS::SSM::Parameter::Value<String>", Default: /images/latest}
)";

TEST(CloudFormationRef, ParameterDefaultAndOverride) {
  EXPECT_EQ(valueOf("!Ref Name", kParameters), "from-default");
  EXPECT_EQ(valueOf("{Ref: Name}", kParameters), "from-default");
  LoadOptions options;
  options.parameters["Name"] = "from-flag";
  EXPECT_EQ(valueOf("!Ref Name", kParameters, options), "from-flag");
  EXPECT_EQ(valueOf("!Ref Port", kParameters), "8080");  // a Number parameter is a string
  EXPECT_EQ(valueOf("!Select [2, !Ref Names]", kParameters), "c");
}

TEST(CloudFormationRef, ParameterRejections) {
  EXPECT_THAT(errorsOf("!Ref NoDefault", kParameters),
              ElementsAre(meshError("Ref NoDefault: parameter NoDefault has no Default; give it "
                                    "with --parameter NoDefault=VALUE")));
  LoadOptions prod;
  prod.parameters["Stage"] = "staging";
  EXPECT_THAT(errorsOf("!Ref Stage", kParameters, prod),
              ElementsAre(meshError("Ref Stage: \"staging\" is not one of the parameter's "
                                    "AllowedValues (test, prod)")));
  LoadOptions port;
  port.parameters["Port"] = "eighty";
  EXPECT_THAT(errorsOf("!Ref Port", kParameters, port),
              ElementsAre(meshError("Ref Port: \"eighty\" is not a number (the parameter's Type "
                                    "is Number)")));
  EXPECT_THAT(errorsOf("!Ref Image", kParameters),
              ElementsAre(meshError(
                  "Ref Image: the parameter's value is read from Systems Manager when the stack "
                  "is created, which cannot be done offline; give it with --parameter "
                  "Image=VALUE")));
  EXPECT_THAT(errorsOf("!Ref Nothing", kParameters),
              ElementsAre(meshError("Ref Nothing: the template has no parameter or resource "
                                    "Nothing (parameters: Name, Port, NoDefault, Stage, Names, "
                                    "Image)")));
  EXPECT_THAT(errorsOf("{Ref: [a, b]}"),
              ElementsAre(meshError("Ref: takes the name of a parameter or resource, not a "
                                    "list")));
}

TEST(CloudFormationRef, PseudoParameters) {
  LoadOptions options = regionAndAccount();
  options.parameters["AWS::StackName"] = "colors";
  EXPECT_EQ(valueOf("!Ref AWS::Region", "", options), "eu-west-1");
  EXPECT_EQ(valueOf("{Ref: AWS::AccountId}", "", options), "111122223333");
  EXPECT_EQ(valueOf("!Ref AWS::StackName", "", options), "colors");
  EXPECT_EQ(valueOf("!Ref AWS::Partition", "", options), "aws");
  EXPECT_EQ(valueOf("!Ref AWS::URLSuffix", "", options), "amazonaws.com");
  LoadOptions china;
  china.parameters["AWS::Region"] = "cn-north-1";
  EXPECT_EQ(valueOf("!Sub ${AWS::Partition}/${AWS::URLSuffix}", "", china),
            "aws-cn/amazonaws.com.cn");

  EXPECT_THAT(errorsOf("!Ref AWS::Region"),
              ElementsAre(meshError("Ref AWS::Region: the stack's region is not known offline; "
                                    "give it with --parameter AWS::Region=VALUE")));
  EXPECT_THAT(errorsOf("!Ref AWS::AccountId"),
              ElementsAre(meshError("Ref AWS::AccountId: the stack's account is not known "
                                    "offline; give it with --parameter AWS::AccountId=VALUE")));
  EXPECT_THAT(errorsOf("!Ref AWS::StackName"),
              ElementsAre(meshError("Ref AWS::StackName: the stack's name is not known "
                                    "offline; give it with --parameter AWS::StackName=VALUE")));
  EXPECT_THAT(errorsOf("!Ref AWS::Partition"),
              ElementsAre(meshError(
                  "Ref AWS::Partition: the stack's partition follows from its region, which is "
                  "not known offline; give it with --parameter AWS::Region=VALUE (or --parameter "
                  "AWS::Partition=VALUE)")));
  EXPECT_THAT(errorsOf("!Ref AWS::StackId"),
              ElementsAre(meshError("Ref AWS::StackId: the stack's id is assigned when the stack "
                                    "is created; give it with --parameter AWS::StackId=VALUE")));
}

TEST(CloudFormationRef, NoValueRemovesTheProperty) {
  for (const char* noValue : {"!Ref AWS::NoValue", "{Ref: AWS::NoValue}"}) {
    LoadResult result = load(absl::StrCat(R"(
Resources:
  Mesh:
    Type: AWS::AppMesh::Mesh
    Properties:
      MeshName: m
      Spec:
        EgressFilter: )",
                                          noValue, "\n"));
    ASSERT_THAT(result.errors, IsEmpty()) << noValue;
    ASSERT_EQ(result.mesh.meshes.size(), 1u);
    EXPECT_FALSE(result.mesh.meshes[0].spec.egressFilter) << noValue;
  }
}

// ---------------------------------------------------------- Ref and Fn::GetAtt of resources

constexpr char kNode[] = R"(
  Node:
    Type: AWS::AppMesh::VirtualNode
    Properties:
      MeshName: m
      VirtualNodeName: n
      Spec: {}
  Router:
    Type: AWS::AppMesh::VirtualRouter
    Properties:
      MeshName: m
      VirtualRouterName: r
      MeshOwner: "444455556666"
      Spec: {Listeners: [{PortMapping: {Port: 80, Protocol: http}}]}
  Route:
    Type: AWS::AppMesh::Route
    Properties:
      MeshName: m
      VirtualRouterName: r
      RouteName: rt
      MeshOwner: "444455556666"
      Spec: {HttpRoute: {Match: {Prefix: /}, Action: {WeightedTargets: [{VirtualNode: n, Weight: 1}]}}}
  Unnamed:
    Type: AWS::AppMesh::VirtualNode
    Properties:
      MeshName: m
      Spec: {}
  Discovery:
    Type: AWS::ServiceDiscovery::Service
    Properties: {Name: colorteller}
  Namespace:
    Type: AWS::ServiceDiscovery::PrivateDnsNamespace
    Properties: {Name: color.local, Vpc: vpc-1}
  Cluster:
    Type: AWS::ECS::Cluster
)";

// The node's name, read from the Mesh's name via an attribute of another resource.
std::string attributeOf(const std::string& expression, const LoadOptions& options = {}) {
  LoadResult result = load(meshNamed(expression, "", kNode), options);
  std::vector<std::string> errors;
  for (const std::string& e : result.errors) {
    if (e.find("(resource Unnamed)") == std::string::npos) errors.push_back(e);
  }
  EXPECT_THAT(errors, IsEmpty()) << expression;
  for (const Mesh& mesh : result.mesh.meshes) return mesh.name;
  return "";
}

std::vector<std::string> attributeErrors(const std::string& expression,
                                         const LoadOptions& options = {}) {
  std::vector<std::string> errors;
  for (const std::string& e : load(meshNamed(expression, "", kNode), options).errors) {
    if (e.find("(resource Unnamed)") == std::string::npos) errors.push_back(e);
  }
  return errors;
}

TEST(CloudFormationGetAtt, AppMeshAttributes) {
  EXPECT_EQ(attributeOf("!GetAtt Node.VirtualNodeName"), "n");
  EXPECT_EQ(attributeOf("{\"Fn::GetAtt\": [Node, VirtualNodeName]}"), "n");
  EXPECT_EQ(attributeOf("{\"Fn::GetAtt\": Node.MeshName}"), "m");
  EXPECT_EQ(attributeOf("!GetAtt [Route, RouteName]"), "rt");
  EXPECT_EQ(attributeOf("!GetAtt Route.VirtualRouterName"), "r");
  EXPECT_EQ(attributeOf("!GetAtt Router.MeshOwner"), "444455556666");
  LoadOptions options = regionAndAccount();
  EXPECT_EQ(attributeOf("!GetAtt Node.MeshOwner", options), "111122223333");
  EXPECT_EQ(attributeOf("!GetAtt Router.ResourceOwner", options), "111122223333");
}

TEST(CloudFormationGetAtt, RefOfAnAppMeshResourceIsItsArn) {
  LoadOptions options = regionAndAccount();
  EXPECT_EQ(attributeOf("!Ref Node", options),
            "arn:aws:appmesh:eu-west-1:111122223333:mesh/m/virtualNode/n");
  EXPECT_EQ(attributeOf("!GetAtt Route.Arn", options),
            "arn:aws:appmesh:eu-west-1:444455556666:mesh/m/virtualRouter/r/route/rt");
  EXPECT_THAT(attributeErrors("!Ref Node"),
              ElementsAre(meshError(
                  "Ref Node: the stack's account is not known offline; give it with "
                  "--parameter AWS::AccountId=VALUE")));
  LoadOptions accountOnly;
  accountOnly.parameters["AWS::AccountId"] = "111122223333";
  EXPECT_THAT(attributeErrors("!Ref Node", accountOnly),
              ElementsAre(meshError(
                  "Ref Node: the stack's partition follows from its region, which is not known "
                  "offline; give it with --parameter AWS::Region=VALUE (or --parameter "
                  "AWS::Partition=VALUE)")));
}

TEST(CloudFormationGetAtt, Rejections) {
  EXPECT_THAT(attributeErrors("!GetAtt Node.Uid"),
              ElementsAre(meshError("Fn::GetAtt Node.Uid: the Uid of AWS::AppMesh::VirtualNode "
                                    "Node is assigned by App Mesh when it creates the resource "
                                    "and cannot be known offline")));
  EXPECT_THAT(attributeErrors("!GetAtt Node.Name"),
              ElementsAre(meshError("Fn::GetAtt Node.Name: AWS::AppMesh::VirtualNode has no "
                                    "attribute Name (attributes: Arn, MeshName, MeshOwner, "
                                    "ResourceOwner, Uid, VirtualNodeName)")));
  EXPECT_THAT(attributeErrors("!GetAtt Unnamed.VirtualNodeName"),
              ElementsAre(meshError(
                  "Fn::GetAtt Unnamed.VirtualNodeName: Resources.Unnamed.Properties."
                  "VirtualNodeName: not set, so CloudFormation would generate a name when it "
                  "creates the stack, which cannot be known offline; set VirtualNodeName in the "
                  "template")));
  EXPECT_THAT(attributeErrors("!GetAtt Missing.Name"),
              ElementsAre(meshError("Fn::GetAtt Missing.Name: the template has no resource "
                                    "Missing")));
  EXPECT_THAT(attributeErrors("!GetAtt NoDot"),
              ElementsAre(meshError("Fn::GetAtt: \"NoDot\" is not RESOURCE.ATTRIBUTE")));
  EXPECT_THAT(attributeErrors("!GetAtt Mesh.MeshName"),
              ElementsAre(meshError("Fn::GetAtt Mesh.MeshName: Resources.Mesh.Properties."
                                    "MeshName refers back to itself")));
}

TEST(CloudFormationGetAtt, OtherResourceTypes) {
  EXPECT_EQ(attributeOf("!GetAtt Discovery.Name"), "colorteller");
  EXPECT_EQ(attributeOf("{\"Fn::GetAtt\": [Discovery, Name]}"), "colorteller");
  EXPECT_THAT(attributeErrors("!GetAtt Discovery.Id"),
              ElementsAre(meshError(
                  "Fn::GetAtt Discovery.Id: the attribute Id of AWS::ServiceDiscovery::Service "
                  "Discovery is assigned by Cloud Map when the stack is created and cannot be "
                  "known offline; write the value instead")));
  EXPECT_THAT(attributeErrors("!GetAtt Namespace.Name"),
              ElementsAre(meshError(
                  "Fn::GetAtt Namespace.Name: AWS::ServiceDiscovery::PrivateDnsNamespace has no "
                  "attribute Name in CloudFormation (attributes: Arn, HostedZoneId, Id); write "
                  "the namespace's name (\"color.local\") instead")));
  EXPECT_THAT(attributeErrors("!Ref Cluster"),
              ElementsAre(meshError(
                  "Ref Cluster: the Ref of AWS::ECS::Cluster Cluster is known only once AWS "
                  "creates it; Trellis resolves App Mesh resources and the Name of an "
                  "AWS::ServiceDiscovery::Service")));
}

// ------------------------------------------------------------------------- Fn:: functions

TEST(CloudFormationFunctions, Sub) {
  EXPECT_EQ(valueOf("!Sub ${Name}-mesh", kParameters), "from-default-mesh");
  EXPECT_EQ(valueOf("{\"Fn::Sub\": \"${Name}-mesh\"}", kParameters), "from-default-mesh");
  EXPECT_EQ(valueOf("!Sub [\"${A}-${Name}\", {A: !Ref Port}]", kParameters), "8080-from-default");
  EXPECT_EQ(valueOf("{\"Fn::Sub\": [\"${A}\", {A: x}]}"), "x");
  EXPECT_EQ(valueOf("!Sub \"${!Literal}-${Name}\"", kParameters), "${Literal}-from-default");
  EXPECT_EQ(attributeOf("!Sub \"${Node.VirtualNodeName}.${Discovery.Name}\""), "n.colorteller");
  EXPECT_THAT(errorsOf("!Sub \"${Name\"", kParameters),
              ElementsAre(meshError("Fn::Sub: \"${Name\": \"${\" at offset 0 has no closing "
                                    "\"}\"")));
  EXPECT_THAT(errorsOf("!Sub [a, b]"),
              ElementsAre(meshError("Fn::Sub: takes a string or [STRING, {NAME: VALUE, ...}], "
                                    "not a list")));
  EXPECT_THAT(errorsOf("!Sub ${Names}", kParameters),
              ElementsAre(meshError("Fn::Sub: ${Names} is a list; Fn::Sub needs a string")));
}

TEST(CloudFormationFunctions, JoinSelectSplit) {
  EXPECT_EQ(valueOf("!Join [\"-\", [a, !Ref Name, c]]", kParameters), "a-from-default-c");
  EXPECT_EQ(valueOf("{\"Fn::Join\": [\"\", [a, b]]}"), "ab");
  EXPECT_EQ(valueOf("!Join [\"+\", !Ref Names]", kParameters), "a+b+c");
  EXPECT_EQ(valueOf("!Select [1, [x, y, z]]"), "y");
  EXPECT_EQ(valueOf("{\"Fn::Select\": [\"0\", [x, y]]}"), "x");
  EXPECT_EQ(valueOf("!Select [1, !Split [\".\", a.b.c]]"), "b");
  EXPECT_EQ(valueOf("{\"Fn::Select\": [2, {\"Fn::Split\": [\",\", \"p,q,r\"]}]}"), "r");
  EXPECT_THAT(errorsOf("!Select [3, [x, y]]"),
              ElementsAre(meshError("Fn::Select: index 3 is out of range (the list has 2 "
                                    "values)")));
  EXPECT_THAT(errorsOf("!Select [one, [x, y]]"),
              ElementsAre(meshError("Fn::Select: the index \"one\" is not a number from 0")));
  EXPECT_THAT(errorsOf("!Join [\"-\", a]"),
              ElementsAre(meshError("Fn::Join: the values must be a list, not \"a\"")));
  EXPECT_THAT(errorsOf("!Join [\"-\", [[a]]]"),
              ElementsAre(meshError("Fn::Join: the values[0] must be a string, not a list")));
  EXPECT_THAT(errorsOf("!Split [\",\"]"),
              ElementsAre(meshError("Fn::Split: takes [DELIMITER, STRING], not a list")));
}

constexpr char kConditions[] = R"(
Parameters:
  Stage: {Type: String, Default: test}
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
  IsTest: {"Fn::Equals": [{Ref: Stage}, test]}
  NotProd: !Not [!Condition IsProd]
  NotTest: {"Fn::Not": [{Condition: IsTest}]}
  Both: !And [!Condition IsTest, !Condition NotProd]
  Either: {"Fn::Or": [{Condition: IsProd}, !Equals [a, b]]}
  Loop: !Not [!Condition Loop]
  Broken: !Ref Stage
)";

TEST(CloudFormationFunctions, IfAndConditions) {
  EXPECT_EQ(valueOf("!If [IsProd, yes, no]", kConditions), "no");
  EXPECT_EQ(valueOf("{\"Fn::If\": [IsTest, yes, no]}", kConditions), "yes");
  EXPECT_EQ(valueOf("!If [NotProd, yes, no]", kConditions), "yes");
  EXPECT_EQ(valueOf("!If [NotTest, yes, no]", kConditions), "no");
  EXPECT_EQ(valueOf("!If [Both, yes, no]", kConditions), "yes");
  EXPECT_EQ(valueOf("!If [Either, yes, no]", kConditions), "no");
  LoadOptions prod;
  prod.parameters["Stage"] = "prod";
  EXPECT_EQ(valueOf("!If [IsProd, yes, no]", kConditions, prod), "yes");
  EXPECT_EQ(valueOf("!If [Either, yes, no]", kConditions, prod), "yes");
  // Only the chosen branch is evaluated: the other may need what is not known offline.
  EXPECT_EQ(valueOf("!If [IsProd, !Ref AWS::Region, local]", kConditions), "local");

  EXPECT_THAT(errorsOf("!If [Nope, a, b]", kConditions),
              ElementsAre(meshError("Fn::If Nope: the template has no condition Nope "
                                    "(Conditions: IsProd, IsTest, NotProd, NotTest, Both, "
                                    "Either, Loop, Broken)")));
  EXPECT_THAT(errorsOf("!If [Loop, a, b]", kConditions),
              ElementsAre("mesh.yaml (resource Mesh): Conditions.Loop: Condition Loop: "
                          "condition Loop refers to itself"));
  EXPECT_THAT(errorsOf("!If [Broken, a, b]", kConditions),
              ElementsAre("mesh.yaml (resource Mesh): Conditions.Broken: Ref: is not a "
                          "condition function (allowed: Fn::Equals, Fn::Not, Fn::And, Fn::Or, "
                          "Condition)"));
  EXPECT_THAT(errorsOf("!If [IsProd, a]", kConditions),
              ElementsAre(meshError("Fn::If: takes [CONDITION_NAME, VALUE_IF_TRUE, "
                                    "VALUE_IF_FALSE], not a list")));
  EXPECT_THAT(errorsOf("!Equals [a, a]", kConditions),
              ElementsAre(meshError("Fn::Equals: is a condition function: it is allowed in the "
                                    "template's Conditions section only (use Fn::If with a named "
                                    "condition here)")));
}

TEST(CloudFormationFunctions, ResourceConditionSkipsTheResource) {
  const std::string text = absl::StrCat(kConditions, R"(
Resources:
  Mesh:
    Type: AWS::AppMesh::Mesh
    Properties: {MeshName: m}
  ProdOnly:
    Type: AWS::AppMesh::VirtualNode
    Condition: IsProd
    Properties: {MeshName: m, VirtualNodeName: prod-only, Spec: {}}
  TestOnly:
    Type: AWS::AppMesh::VirtualNode
    Condition: IsTest
    Properties:
      MeshName: m
      VirtualNodeName: test-only
      Spec:
        ServiceDiscovery: {DNS: {Hostname: !GetAtt ProdOnly.VirtualNodeName}}
)");
  LoadResult result = load(text);
  EXPECT_THAT(result.notes,
              ElementsAre("mesh.yaml: resource ProdOnly skipped: its Condition IsProd is false"));
  EXPECT_THAT(result.errors,
              ElementsAre("mesh.yaml (resource TestOnly): Resources.TestOnly.Properties.Spec."
                          "ServiceDiscovery.DNS.Hostname: Fn::GetAtt ProdOnly.VirtualNodeName: resource ProdOnly is not created "
                          "(its Condition IsProd is false)"));
  EXPECT_TRUE(result.mesh.virtualNodes.empty());
}

TEST(CloudFormationFunctions, ImportValue) {
  LoadOptions options;
  options.importValues["shared-mesh"] = "imported";
  EXPECT_EQ(valueOf("!ImportValue shared-mesh", "", options), "imported");
  EXPECT_EQ(valueOf("{\"Fn::ImportValue\": shared-mesh}", "", options), "imported");
  EXPECT_EQ(valueOf("{\"Fn::ImportValue\": !Sub \"shared-${Name}\"}",
                    "Parameters: {Name: {Type: String, Default: mesh}}", options),
            "imported");
  EXPECT_THAT(errorsOf("!ImportValue other-export"),
              ElementsAre(meshError("Fn::ImportValue other-export: another stack's export is "
                                    "not known offline; give it with --import-value "
                                    "other-export=VALUE")));
}

constexpr char kMappings[] = R"(
Mappings:
  Regions:
    eu-west-1: {Mesh: europe, Sizes: [s, m]}
)";

TEST(CloudFormationFunctions, FindInMap) {
  EXPECT_EQ(valueOf("!FindInMap [Regions, eu-west-1, Mesh]", kMappings), "europe");
  EXPECT_EQ(valueOf("{\"Fn::FindInMap\": [Regions, !Ref AWS::Region, Mesh]}", kMappings,
                    regionAndAccount()),
            "europe");
  EXPECT_EQ(valueOf("!Select [1, !FindInMap [Regions, eu-west-1, Sizes]]", kMappings), "m");
  EXPECT_THAT(errorsOf("!FindInMap [Regions, us-east-1, Mesh]", kMappings),
              ElementsAre(meshError("Fn::FindInMap [Regions, us-east-1, Mesh]: mapping Regions "
                                    "has no key us-east-1 (keys: eu-west-1)")));
  EXPECT_THAT(errorsOf("!FindInMap [Regions, eu-west-1, Name]", kMappings),
              ElementsAre(meshError("Fn::FindInMap [Regions, eu-west-1, Name]: mapping "
                                    "Regions.eu-west-1 has no key Name (keys: Mesh, Sizes)")));
  EXPECT_THAT(errorsOf("!FindInMap [Zones, a, b]", kMappings),
              ElementsAre(meshError("Fn::FindInMap [Zones, a, b]: the template has no mapping "
                                    "Zones (Mappings: Regions)")));
}

TEST(CloudFormationFunctions, Unsupported) {
  EXPECT_THAT(errorsOf("!Base64 abc"),
              ElementsAre(meshError("Fn::Base64: encodes EC2 user data; no App Mesh property "
                                    "takes it (write the value itself)")));
  EXPECT_THAT(errorsOf("{\"Fn::Base64\": abc}"),
              ElementsAre(meshError("Fn::Base64: encodes EC2 user data; no App Mesh property "
                                    "takes it (write the value itself)")));
  EXPECT_THAT(errorsOf("!GetAZs \"\""),
              ElementsAre(meshError("Fn::GetAZs: is not supported offline (supported: Ref, "
                                    "Fn::GetAtt, Fn::Sub, Fn::Join, Fn::Select, Fn::Split, "
                                    "Fn::If, Fn::ImportValue, Fn::FindInMap)")));
}

// ------------------------------------------------------------------------ template shape

TEST(CloudFormationTemplate, RecognisedOnlyWithResourcesOrVersion) {
  // A CLI input document is not a template.
  LoadResult cli = load("meshName: m\n");
  EXPECT_THAT(cli.errors, IsEmpty());
  EXPECT_EQ(cli.mesh.meshes.size(), 1u);
  EXPECT_EQ(cli.mesh.meshes[0].source.format, InputFormat::kCliInput);
  LoadResult versionOnly = load("AWSTemplateFormatVersion: \"2010-09-09\"\n");
  EXPECT_THAT(versionOnly.errors,
              ElementsAre("mesh.yaml: Resources: required: a map of at least one resource"));
}

TEST(CloudFormationTemplate, SkipsOtherTypesWithANote) {
  LoadResult result = load(R"(
Resources:
  Mesh: {Type: AWS::AppMesh::Mesh, Properties: {MeshName: m}}
  A: {Type: AWS::ECS::Service, Properties: {}}
  B: {Type: AWS::ECS::Service}
  Role: {Type: AWS::IAM::Role, DependsOn: A, DeletionPolicy: Retain, Metadata: {x: 1},
         UpdateReplacePolicy: Retain}
)");
  EXPECT_THAT(result.errors, IsEmpty());
  EXPECT_THAT(result.notes, ElementsAre("mesh.yaml: 3 resources of other types skipped "
                                        "(AWS::ECS::Service 2, AWS::IAM::Role 1)"));
}

TEST(CloudFormationTemplate, Rejections) {
  LoadResult result = load(R"(
Resources:
  Mesh:
    Type: AWS::AppMesh::Mesh
    Propertes: {MeshName: m}
  Gadget: {Type: AWS::AppMesh::Gadget}
  Untyped: {Properties: {}}
  Extra:
    Type: AWS::AppMesh::VirtualNode
    Properties: {MeshName: m, VirtualNodeName: n, Spec: {}, Description: x}
  Camel:
    Type: AWS::AppMesh::VirtualNode
    Properties:
      MeshName: m
      VirtualNodeName: c
      Spec: {Listeners: [{portMapping: {Port: 80, Protocol: http}}], ServiceDiscovery: {dns: {Hostname: h}}}
  Generated: {Type: AWS::AppMesh::Mesh}
  Orphan:
    Type: AWS::AppMesh::Route
    Properties: {MeshName: m, RouteName: r, Spec: {}}
Output: {}
)");
  EXPECT_THAT(
      result.errors,
      ElementsAre(
          "mesh.yaml: Output: unknown template section (allowed: AWSTemplateFormatVersion, "
          "Description, Metadata, Parameters, Rules, Mappings, Conditions, Transform, Resources, "
          "Outputs)",
          "mesh.yaml (resource Mesh): Resources.Mesh.Propertes: unknown resource attribute "
          "(allowed: Type, Properties, Condition, DependsOn, DeletionPolicy, Metadata, "
          "UpdateReplacePolicy, CreationPolicy, UpdatePolicy)",
          "mesh.yaml (resource Gadget): Resources.Gadget.Type: \"AWS::AppMesh::Gadget\" is not an "
          "App Mesh resource type (allowed: AWS::AppMesh::Mesh, AWS::AppMesh::VirtualNode, "
          "AWS::AppMesh::VirtualService, AWS::AppMesh::VirtualRouter, AWS::AppMesh::Route, "
          "AWS::AppMesh::VirtualGateway, AWS::AppMesh::GatewayRoute)",
          "mesh.yaml (resource Untyped): Resources.Untyped.Type: required: the resource type, "
          "e.g. AWS::AppMesh::VirtualNode",
          "mesh.yaml (resource Extra): Resources.Extra.Properties.Description: unknown property "
          "of AWS::AppMesh::VirtualNode (allowed: MeshName, MeshOwner, VirtualNodeName, Spec, "
          "Tags)",
          "mesh.yaml (resource Camel): Resources.Camel.Properties.Spec.Listeners[0].portMapping: "
          "CloudFormation spells this property PortMapping (property names are PascalCase in a "
          "template)",
          "mesh.yaml (resource Camel): Resources.Camel.Properties.Spec.ServiceDiscovery.dns: "
          "CloudFormation spells this property DNS (property names are PascalCase in a "
          "template)",
          "mesh.yaml (resource Generated): Resources.Generated.Properties.MeshName: not set, so "
          "CloudFormation would generate a name when it creates the stack, which cannot be known "
          "offline; set MeshName in the template",
          "mesh.yaml (resource Orphan): Resources.Orphan.Properties.VirtualRouterName: required "
          "property missing"));
  EXPECT_TRUE(result.mesh.meshes.empty());
  EXPECT_TRUE(result.mesh.virtualNodes.empty());
}

TEST(CloudFormationTemplate, SpecErrorsComeFromTheSpecParser) {
  LoadResult result = load(R"(
Resources:
  Node:
    Type: AWS::AppMesh::VirtualNode
    Properties:
      MeshName: m
      VirtualNodeName: n
      Spec: {Listeners: [{PortMaping: {Port: 80, Protocol: http}}]}
)");
  EXPECT_THAT(result.errors,
              ElementsAre("mesh.yaml (resource Node): spec.listeners[0].portMaping: unknown "
                          "field (allowed: portMapping, healthCheck, outlierDetection, "
                          "connectionPool, timeout, tls)",
                          "mesh.yaml (resource Node): spec.listeners[0].portMapping: required "
                          "field missing"));
}

TEST(CloudFormationTemplate, OneDocumentAndTransformWarning) {
  LoadResult result = load(R"(
Transform: AWS::Serverless-2016-10-31
Resources:
  Mesh: {Type: AWS::AppMesh::Mesh, Properties: {MeshName: m}}
---
meshName: other
)");
  EXPECT_THAT(result.errors,
              ElementsAre("mesh.yaml (document 2): a CloudFormation template is one document; "
                          "move this one to a file of its own"));
  EXPECT_THAT(result.warnings,
              ElementsAre("mesh.yaml: Transform: macros (AWS::Serverless-2016-10-31) are not "
                          "expanded offline; the resources are read as written"));
  EXPECT_EQ(result.mesh.meshes.size(), 1u);
}

TEST(CloudFormationTemplate, PropertyNames) {
  EXPECT_EQ(apiPropertyName("PortMapping"), "portMapping");
  EXPECT_EQ(apiPropertyName("DNS"), "dns");
  EXPECT_EQ(apiPropertyName("AWSCloudMap"), "awsCloudMap");
  EXPECT_EQ(apiPropertyName("ACM"), "acm");
  EXPECT_EQ(apiPropertyName("SDS"), "sds");
  EXPECT_EQ(apiPropertyName("TLS"), "tls");
  EXPECT_EQ(apiPropertyName("HTTP"), "http");
  EXPECT_EQ(apiPropertyName("HTTP2"), "http2");
  EXPECT_EQ(apiPropertyName("GRPC"), "grpc");
  EXPECT_EQ(apiPropertyName("TCP"), "tcp");
  EXPECT_EQ(apiPropertyName("CertificateAuthorityArns"), "certificateAuthorityArns");
}

TEST(CloudFormationTemplate, TlsAndConnectionPoolSpelling) {
  LoadResult result = load(R"(
Resources:
  Node:
    Type: AWS::AppMesh::VirtualNode
    Properties:
      MeshName: m
      VirtualNodeName: n
      Spec:
        Listeners:
          - PortMapping: {Port: 443, Protocol: http2}
            TLS:
              Mode: STRICT
              Certificate: {ACM: {CertificateArn: "arn:aws:acm:eu-west-1:111122223333:certificate/x"}}
            ConnectionPool: {HTTP2: {MaxRequests: 10}}
            Timeout: {HTTP2: {PerRequest: {Unit: s, Value: 5}}}
        BackendDefaults:
          ClientPolicy:
            TLS:
              Validation:
                Trust: {SDS: {SecretName: ca}}
)");
  ASSERT_THAT(result.errors, IsEmpty());
  ASSERT_EQ(result.mesh.virtualNodes.size(), 1u);
  const Listener& listener = result.mesh.virtualNodes[0].spec.listeners[0];
  EXPECT_TRUE(listener.tls);
  EXPECT_TRUE(listener.connectionPool);
  EXPECT_TRUE(listener.timeout);
  EXPECT_TRUE(result.mesh.virtualNodes[0].spec.backendDefaults);
}

TEST(CloudFormationTemplate, ShapeRejections) {
  LoadResult result = load(R"(
Conditions:
  Lonely: !Not [!Equals [a, a], !Equals [b, b]]
  Few: !And [!Equals [a, a]]
  Pair: !Equals [a]
  Plain: yes
Resources:
  Scalar: just-a-string
  BadProperties: {Type: AWS::AppMesh::Mesh, Properties: [MeshName]}
  BadCondition: {Type: AWS::AppMesh::Mesh, Condition: [x], Properties: {MeshName: m}}
  BadTags:
    Type: AWS::AppMesh::Mesh
    Properties: {MeshName: m, Tags: [{Key: a, Value: b, Extra: c}, plain]}
  NotAList:
    Type: AWS::AppMesh::Mesh
    Properties: {MeshName: m, Tags: {Key: a}}
  C1: {Type: AWS::AppMesh::Mesh, Condition: Lonely, Properties: {MeshName: m}}
  C2: {Type: AWS::AppMesh::Mesh, Condition: Few, Properties: {MeshName: m}}
  C3: {Type: AWS::AppMesh::Mesh, Condition: Pair, Properties: {MeshName: m}}
  C4: {Type: AWS::AppMesh::Mesh, Condition: Plain, Properties: {MeshName: m}}
  ListName: {Type: AWS::AppMesh::Mesh, Properties: {MeshName: [a]}}
)");
  EXPECT_THAT(
      result.errors,
      ElementsAre(
          "mesh.yaml (resource Scalar): Resources.Scalar: a resource must be a map with Type and "
          "Properties",
          "mesh.yaml (resource BadProperties): Resources.BadProperties.Properties: must be a map "
          "of the resource's properties",
          "mesh.yaml (resource BadCondition): Resources.BadCondition.Condition: must be the name "
          "of a condition",
          "mesh.yaml (resource BadTags): Resources.BadTags.Properties.Tags[0].Extra: unknown "
          "(allowed: Key, Value)",
          "mesh.yaml (resource BadTags): Resources.BadTags.Properties.Tags[1]: must be a map "
          "{Key, Value}",
          "mesh.yaml (resource NotAList): Resources.NotAList.Properties.Tags: must be a list of "
          "{Key, Value}",
          "mesh.yaml (resource C1): Conditions.Lonely: Fn::Not: takes [CONDITION], not a list",
          "mesh.yaml (resource C2): Conditions.Few: Fn::And: takes a list of 2 to 10 conditions, "
          "not a list",
          "mesh.yaml (resource C3): Conditions.Pair: Fn::Equals: takes [VALUE, VALUE], not a "
          "list",
          "mesh.yaml (resource C4): Conditions.Plain: Condition: expected Fn::Equals, Fn::Not, "
          "Fn::And, Fn::Or or Condition, not \"yes\"",
          "mesh.yaml (resource ListName): Resources.ListName.Properties.MeshName: must be a "
          "string"));
}

TEST(CloudFormationFunctions, ArgumentRejections) {
  EXPECT_THAT(errorsOf("!GetAtt [a, b, c]"),
              ElementsAre(meshError("Fn::GetAtt: takes [RESOURCE, ATTRIBUTE] or "
                                    "\"RESOURCE.ATTRIBUTE\", not a list")));
  EXPECT_THAT(errorsOf("!FindInMap [a, b]"),
              ElementsAre(meshError("Fn::FindInMap: takes [MAP_NAME, TOP_LEVEL_KEY, "
                                    "SECOND_LEVEL_KEY], not a list")));
  EXPECT_THAT(errorsOf("{\"Fn::ImportValue\": [a]}"),
              ElementsAre(meshError("Fn::ImportValue: takes the name of an export, not a list")));
  EXPECT_THAT(errorsOf("!Sub [\"${A}\", {A: [x]}]"),
              ElementsAre(meshError("Fn::Sub: variable A must be a string, not a list")));
  EXPECT_THAT(errorsOf("!Sub \"${AWS::NoValue}\""),
              ElementsAre(meshError("Fn::Sub: ${AWS::NoValue} cannot be part of a string")));
  EXPECT_THAT(errorsOf("!Split [\"\", abc]"),
              ElementsAre(meshError("Fn::Split: the delimiter is empty")));
  EXPECT_THAT(errorsOf("!Join [[a], [b]]"),
              ElementsAre(meshError("Fn::Join: the delimiter must be a string, not a list")));
}

TEST(CloudFormationTemplate, ParseCacheKeepsTheEvaluationWhileContentAndOptionsHold) {
  const std::string text = meshNamed("!Ref Name", "Parameters: {Name: {Type: String, Default: a}}");
  ParseCache cache;
  EXPECT_EQ(loadMeshFiles({{kFile, text}}, &cache).mesh.meshes.at(0).name, "a");
  const InputFile file{kFile, text};
  const std::optional<FrontendResult>& first = cache.frontend(file, {});
  ASSERT_TRUE(first);
  const YAML::Node firstNode = first->documents.at(0).node;
  // Unchanged: the same evaluated documents, not an evaluation again.
  EXPECT_TRUE(cache.frontend(file, {})->documents.at(0).node.is(firstNode));
  // Other options: evaluated again.
  LoadOptions b;
  b.parameters["Name"] = "b";
  EXPECT_EQ(loadMeshFiles({{kFile, text}}, &cache, b).mesh.meshes.at(0).name, "b");
  EXPECT_FALSE(cache.frontend(file, b)->documents.at(0).node.is(firstNode));
  // Other content: parsed and evaluated again.
  const std::string edited = meshNamed("!Sub ${Name}-2", "Parameters: {Name: {Type: String, Default: a}}");
  EXPECT_EQ(loadMeshFiles({{kFile, edited}}, &cache).mesh.meshes.at(0).name, "a-2");
}

// ---------------------------------------------------------------------- the gateway fixture

TEST(CloudFormationFixtures, GatewayModel) {
  LoadResult result =
      loadMeshDirWithErrors("config/appmesh/testdata/formats/gateway/cloudformation");
  ASSERT_THAT(result.errors, IsEmpty());
  const MeshSet& set = result.mesh;
  ASSERT_EQ(set.meshes.size(), 1u);
  EXPECT_EQ(set.meshes[0].name, "color-mesh");
  ASSERT_EQ(set.virtualGateways.size(), 1u);
  const VirtualGateway& gateway = set.virtualGateways[0];
  EXPECT_EQ(gateway.mesh, "color-mesh");
  EXPECT_EQ(gateway.name, "color-gateway");
  ASSERT_EQ(gateway.spec.listeners.size(), 1u);
  EXPECT_EQ(gateway.spec.listeners[0].portMapping.port, 8080);
  EXPECT_EQ(gateway.spec.listeners[0].portMapping.protocol, PortProtocol::kHttp);
  ASSERT_TRUE(gateway.spec.listeners[0].healthCheck);
  EXPECT_EQ(gateway.spec.listeners[0].healthCheck->path, "/healthz");
  ASSERT_EQ(set.gatewayRoutes.size(), 1u);
  const GatewayRoute& gatewayRoute = set.gatewayRoutes[0];
  EXPECT_EQ(gatewayRoute.name, "color-gateway-route");
  EXPECT_EQ(gatewayRoute.virtualGateway, "color-gateway");
  ASSERT_TRUE(gatewayRoute.spec.httpRoute);
  EXPECT_EQ(gatewayRoute.spec.httpRoute->match.prefix, "/color");
  EXPECT_EQ(gatewayRoute.spec.httpRoute->target.virtualServiceName, "color.local");
  ASSERT_EQ(set.virtualServices.size(), 1u);
  EXPECT_EQ(set.virtualServices[0].name, "color.local");
  ASSERT_EQ(set.virtualRouters.size(), 1u);
  EXPECT_EQ(set.virtualRouters[0].name, "color-router");
  EXPECT_EQ(set.virtualRouters[0].spec.listeners[0].port, 9080);
  ASSERT_EQ(set.routes.size(), 1u);
  EXPECT_EQ(set.routes[0].name, "color-route");
  EXPECT_EQ(set.routes[0].spec.httpRoute->match.prefix, "/");
  const std::vector<WeightedTarget>& targets = set.routes[0].spec.weightedTargets();
  ASSERT_EQ(targets.size(), 2u);
  EXPECT_EQ(targets[0].virtualNode, "color-v1");
  EXPECT_EQ(targets[0].weight, 90);
  EXPECT_EQ(targets[1].virtualNode, "color-v2");
  EXPECT_EQ(targets[1].weight, 10);
  ASSERT_EQ(set.virtualNodes.size(), 2u);
  EXPECT_EQ(set.virtualNodes[0].name, "color-v1");
  EXPECT_EQ(set.virtualNodes[0].spec.serviceDiscovery.dns->hostname, "color-v1.color.local");
  EXPECT_EQ(set.virtualNodes[1].name, "color-v2");
  EXPECT_EQ(set.virtualNodes[1].spec.serviceDiscovery.dns->hostname, "color-v2.color.local");
  EXPECT_THAT(validationErrors(set), IsEmpty());
}

TEST(CloudFormationFixtures, ColorappNotes) {
  LoadResult result =
      loadMeshDirWithErrors("config/appmesh/testdata/formats/colorapp/cloudformation");
  ASSERT_THAT(result.errors, IsEmpty());
  EXPECT_THAT(result.notes,
              ElementsAre("colorapp.yaml: 5 resources of other types skipped (AWS::ECS::Service "
                          "2, AWS::IAM::Role 1, AWS::ServiceDiscovery::PrivateDnsNamespace 1, "
                          "AWS::ServiceDiscovery::Service 1)"));
}

}  // namespace
}  // namespace trellis::config::appmesh
