// CloudFormation templates through `trellis-inject ecs`: the App Mesh task definition changes,
// short-form tags (!Sub, !Ref, !GetAtt X.Y, !Join [...]) and long-form intrinsics survive, the
// other resources are unchanged, and a template with nothing to change is returned byte for byte.
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "deploy/inject/ecs_file.h"
#include "deploy/inject/ecs_yaml.h"

namespace trellis::deploy::inject {
namespace {

std::string read(const std::string& name) {
  std::ifstream in("deploy/inject/testdata/" + name);
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

// Same type, tag, scalar, style and children, in the same order; "" when equal, else the path.
std::string difference(const YAML::Node& a, const YAML::Node& b, const std::string& path = "") {
  if (a.Type() != b.Type()) return path + ": type differs";
  if (a.Tag() != b.Tag()) return path + ": tag " + a.Tag() + " vs " + b.Tag();
  switch (a.Type()) {
    case YAML::NodeType::Scalar:
      return a.Scalar() == b.Scalar() ? "" : path + ": " + a.Scalar() + " vs " + b.Scalar();
    case YAML::NodeType::Sequence: {
      if (a.size() != b.size()) return path + ": length differs";
      if (a.Style() != b.Style()) return path + ": flow/block style differs";
      for (size_t i = 0; i < a.size(); ++i) {
        auto d = difference(a[i], b[i], path + "[" + std::to_string(i) + "]");
        if (!d.empty()) return d;
      }
      return "";
    }
    case YAML::NodeType::Map: {
      if (a.size() != b.size()) return path + ": size differs";
      if (a.Style() != b.Style()) return path + ": flow/block style differs";
      auto ia = a.begin();
      auto ib = b.begin();
      for (; ia != a.end(); ++ia, ++ib) {
        if (ia->first.Scalar() != ib->first.Scalar()) return path + ": key " + ia->first.Scalar() + " vs " + ib->first.Scalar();
        auto d = difference(ia->second, ib->second, path + "." + ia->first.Scalar());
        if (!d.empty()) return d;
      }
      return "";
    }
    default:
      return "";
  }
}

TEST(EmitYaml, ShortFormTagsRoundTrip) {
  const std::string text =
      "A: !Sub '${AWS::StackName}-x'\n"
      "B: !Ref Param\n"
      "C: !GetAtt Role.Arn\n"
      "D: !Join [',', [a, !Ref B]]\n"
      "E: !Sub\n  - '${X}-y'\n  - {X: !Ref Z}\n"
      "F: !Select [0, !GetAZs '']\n"
      "G: '8080'\n"
      "H: 8080\n"
      "I: |\n  line one\n  line two\n";
  YAML::Node original = YAML::Load(text);
  const std::string emitted = emitYaml(original);
  for (const char* expected : {"A: !Sub ${AWS::StackName}-x", "B: !Ref Param", "C: !GetAtt Role.Arn",
                               "D: !Join [\",\", [a, !Ref B]]", "E: !Sub", "F: !Select [0, !GetAZs \"\"]",
                               "G: \"8080\"", "H: 8080"}) {
    EXPECT_NE(emitted.find(expected), std::string::npos) << expected << " not in:\n" << emitted;
  }
  EXPECT_EQ(emitted.find("!<"), std::string::npos) << "tags must be written short, not verbatim:\n" << emitted;
  YAML::Node again = YAML::Load(emitted);
  EXPECT_EQ(difference(original, again), "") << emitted;
  EXPECT_EQ(again["I"].Scalar(), "line one\nline two\n");
}

TEST(EmitYaml, ViewSpellsTagsAsIntrinsics) {
  YAML::Node n = YAML::Load("A: !Sub 'x-${Y}'\nB: !Ref P\nC: !GetAtt R.Arn\nD: !Condition IsProd\nE: plain\n");
  Json view = yamlView(n);
  EXPECT_EQ(view, Json::parse(R"({"A": {"Fn::Sub": "x-${Y}"}, "B": {"Ref": "P"}, "C": {"Fn::GetAtt": "R.Arn"},
                                  "D": {"Condition": "IsProd"}, "E": "plain"})"));
}

TEST(EcsCloudFormation, YamlTemplateConverts) {
  const std::string input = read("colorapp-cfn.yaml");
  auto file = convertEcsFile("t.yaml", input, defaults());
  ASSERT_TRUE(file.ok()) << file.status();
  ASSERT_TRUE(file->changed);
  const std::string prefix = "t.yaml: resource ColorTellerTaskDef: Properties.ContainerDefinitions[1] (envoy)";
  ASSERT_EQ(file->changes.size(), 3u);
  EXPECT_EQ(file->changes[0], prefix + ": Image {\"Ref\":\"EnvoyImage\"} -> trellis/trellis-proxy:0.1.0");
  EXPECT_EQ(file->changes[1].rfind(prefix + ".Environment[0] (APPMESH_RESOURCE_ARN): renamed APPMESH_VIRTUAL_NODE_NAME", 0), 0u)
      << file->changes[1];
  EXPECT_EQ(file->changes[2], prefix + ".Environment: added TRELLIS_CP_ADDRESS=trellis-cp:15010");
  bool comment_note = false;
  for (const auto& n : file->notes) comment_note = comment_note || n.rfind("t.yaml: comments are not kept (1 lines", 0) == 0;
  EXPECT_TRUE(comment_note);

  YAML::Node before = YAML::Load(input);
  YAML::Node after = YAML::Load(file->output);
  for (const char* key : {"AWSTemplateFormatVersion", "Description", "Parameters", "Outputs"}) {
    EXPECT_EQ(difference(before[key], after[key], key), "");
  }
  for (const char* resource : {"LogGroup", "TaskRole"}) {
    EXPECT_EQ(difference(before["Resources"][resource], after["Resources"][resource], resource), "");
  }
  YAML::Node envoy = after["Resources"]["ColorTellerTaskDef"]["Properties"]["ContainerDefinitions"][1];
  EXPECT_EQ(envoy["Image"].Scalar(), "trellis/trellis-proxy:0.1.0");
  EXPECT_EQ(envoy["Image"].Tag(), "?");
  EXPECT_EQ(envoy["Environment"][0]["Name"].Scalar(), "APPMESH_VIRTUAL_NODE_NAME");
  EXPECT_EQ(envoy["Environment"][0]["Value"].Tag(), "!Sub");
  EXPECT_EQ(envoy["Environment"][0]["Value"].Scalar(), "mesh/${MeshName}/virtualNode/colorteller-white-vn");
  EXPECT_EQ(envoy["Environment"][2]["Value"].Scalar(), "trellis-cp:15010");

  // Undo the three changes: the task definition is then the one read.
  YAML::Node undone = YAML::Load(file->output);
  YAML::Node props = undone["Resources"]["ColorTellerTaskDef"]["Properties"];
  YAML::Node envoy_undone = props["ContainerDefinitions"][1];
  envoy_undone["Image"] = before["Resources"]["ColorTellerTaskDef"]["Properties"]["ContainerDefinitions"][1]["Image"];
  envoy_undone["Environment"][0]["Name"] = "APPMESH_RESOURCE_ARN";
  YAML::Node env(YAML::NodeType::Sequence);
  env.SetStyle(envoy_undone["Environment"].Style());
  env.SetTag(envoy_undone["Environment"].Tag());
  env.push_back(envoy_undone["Environment"][0]);
  env.push_back(envoy_undone["Environment"][1]);
  envoy_undone["Environment"] = env;
  EXPECT_EQ(difference(YAML::Load(input)["Resources"]["ColorTellerTaskDef"], undone["Resources"]["ColorTellerTaskDef"]), "");
}

TEST(EcsCloudFormation, TemplateWithoutAppMeshIsReturnedByteForByte) {
  const std::string input =
      "# no mesh here\nResources:\n  Web:\n    Type: AWS::ECS::TaskDefinition\n    Properties:\n"
      "      ContainerDefinitions:\n        - Name: web\n          Image: !Sub '${Repo}:1'   # pinned\n";
  auto file = convertEcsFile("web.yaml", input, defaults());
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_FALSE(file->changed);
  EXPECT_EQ(file->output, input);
}

TEST(EcsCloudFormation, JsonTemplateConverts) {
  const std::string input = read("colorapp-cfn.json");
  auto file = convertEcsFile("t.json", input, defaults());
  ASSERT_TRUE(file.ok()) << file.status();
  ASSERT_EQ(file->changes.size(), 2u);
  EXPECT_EQ(file->changes[0],
            "t.json: resource GatewayTaskDef: Properties.ContainerDefinitions[0] (envoy): Image "
            "{\"Fn::Sub\":\"840364872350.dkr.ecr.${AWS::Region}.amazonaws.com/aws-appmesh-envoy:v1.29.12.1-prod\"} -> "
            "trellis/trellis-proxy:0.1.0");
  Json before = Json::parse(input);
  Json after = Json::parse(file->output);
  EXPECT_EQ(after["Resources"]["Cluster"], before["Resources"]["Cluster"]);
  EXPECT_EQ(after["Parameters"], before["Parameters"]);
  Json& envoy = after["Resources"]["GatewayTaskDef"]["Properties"]["ContainerDefinitions"][0];
  EXPECT_EQ(envoy["Environment"].back(), Json::parse(R"({"Name": "TRELLIS_CP_ADDRESS", "Value": "trellis-cp:15010"})"));
  envoy["Environment"].erase(envoy["Environment"].size() - 1);
  envoy["Image"] = before["Resources"]["GatewayTaskDef"]["Properties"]["ContainerDefinitions"][0]["Image"];
  EXPECT_EQ(after, before) << "the ARN's Fn::Sub and every other value kept";
}

TEST(EcsCloudFormation, DroppedVariableLeavesTheOthersInOrder) {
  const std::string input =
      "Resources:\n  T:\n    Type: AWS::ECS::TaskDefinition\n    Properties:\n      ContainerDefinitions:\n"
      "        - Name: envoy\n          Image: !Sub '840364872350.dkr.ecr.${AWS::Region}.amazonaws.com/aws-appmesh-envoy:v1'\n"
      "          Environment:\n"
      "            - {Name: APPMESH_PREVIEW, Value: '1'}\n"
      "            - {Name: APPMESH_RESOURCE_ARN, Value: !Ref ColorTellerNode}\n"
      "            - {Name: ENVOY_LOG_LEVEL, Value: debug}\n";
  auto file = convertEcsFile("t.yaml", input, defaults());
  ASSERT_TRUE(file.ok()) << file.status();
  YAML::Node env = YAML::Load(file->output)["Resources"]["T"]["Properties"]["ContainerDefinitions"][0]["Environment"];
  ASSERT_EQ(env.size(), 3u) << file->output;
  EXPECT_EQ(env[0]["Name"].Scalar(), "APPMESH_RESOURCE_ARN");
  EXPECT_EQ(env[0]["Value"].Tag(), "!Ref");
  EXPECT_EQ(env[0]["Value"].Scalar(), "ColorTellerNode");
  EXPECT_EQ(env[0].Style(), YAML::EmitterStyle::Flow);
  EXPECT_EQ(env[1]["Name"].Scalar(), "ENVOY_LOG_LEVEL");
  EXPECT_EQ(env[2]["Name"].Scalar(), "TRELLIS_CP_ADDRESS");
}

TEST(EcsCloudFormation, ErrorsNameTheResource) {
  std::string input = read("colorapp-cfn.yaml");
  const std::string from = "            - Name: ENABLE_ENVOY_XRAY_TRACING\n              Value: '1'\n";
  ASSERT_NE(input.find(from), std::string::npos);
  input.replace(input.find(from), from.size(), "            - ENABLE_ENVOY_XRAY_TRACING\n");
  auto file = convertEcsFile("t.yaml", input, defaults());
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.status().message(),
            "t.yaml: resource ColorTellerTaskDef: Properties.ContainerDefinitions[1] (envoy).Environment[1]: must be "
            "{Name, Value}, got the string \"ENABLE_ENVOY_XRAY_TRACING\"");
}

}  // namespace
}  // namespace trellis::deploy::inject
