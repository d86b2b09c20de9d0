// The Terraform front-end (terraform.h): .tf through trellis-hcl2json, .tf.json, and terraform
// show -json; variables, locals, references and count; every rejection with its message; the
// converter's cache. The cross-format fixtures are formats_terraform_test's.
#include "config/appmesh/terraform.h"

#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "config/appmesh/loader.h"
#include "config/appmesh/terraform_hcl.h"

namespace trellis::config::appmesh {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

constexpr char kMesh[] = R"(
resource "aws_appmesh_mesh" "main" {
  name = "m"
}
)";

LoadResult load(const std::vector<InputFile>& files, const LoadOptions& options = {}) {
  return loadMeshFiles(files, nullptr, options);
}

// Loads files that must have exactly one error, and returns it.
std::string onlyError(const std::vector<InputFile>& files, const LoadOptions& options = {}) {
  LoadResult result = load(files, options);
  EXPECT_THAT(result.errors, SizeIs(1)) << absl::StrJoin(result.errors, "\n");
  return result.errors.empty() ? "" : result.errors[0];
}

std::string node(const std::string& name, const std::string& body) {
  return "resource \"aws_appmesh_virtual_node\" \"" + name + "\" {\n" + body + "\n}\n";
}

constexpr char kListener[] = R"(
  spec {
    listener {
      port_mapping {
        port     = 8080
        protocol = "http"
      }
    }
  }
)";

TEST(Terraform, TfFileBecomesCliInput) {
  LoadResult result = load({{"main.tf", std::string(kMesh) + node("front", std::string(R"(
  name      = "front"
  mesh_name = aws_appmesh_mesh.main.id
  mesh_owner = "123456789012"
  tags = { team = "web" }
)") + kListener)}});
  ASSERT_THAT(result.errors, IsEmpty());
  ASSERT_THAT(result.mesh.virtualNodes, SizeIs(1));
  const VirtualNode& front = result.mesh.virtualNodes[0];
  EXPECT_EQ(front.mesh, "m");  // a mesh's id is its name
  EXPECT_EQ(front.name, "front");
  EXPECT_EQ(front.meshOwner, "123456789012");
  ASSERT_THAT(front.tags, SizeIs(1));
  EXPECT_EQ(front.tags[0].key, "team");
  EXPECT_EQ(front.tags[0].value, "web");
  EXPECT_EQ(front.spec.listeners[0].portMapping.port, 8080);
  EXPECT_EQ(front.source.format, InputFormat::kTerraform);
  EXPECT_EQ(front.source.file, "main.tf");
  EXPECT_EQ(front.source.resource, "aws_appmesh_virtual_node.front");
}

TEST(Terraform, TfJsonAcceptsBlocksAsObjectsOrLists) {
  LoadResult result = load({{"main.tf.json", R"({
    "resource": {
      "aws_appmesh_mesh": {"main": {"name": "m"}},
      "aws_appmesh_virtual_node": {
        "a": {"name": "a", "mesh_name": "${aws_appmesh_mesh.main.name}",
              "spec": {"listener": {"port_mapping": {"port": 80, "protocol": "http"}}}},
        "b": [{"name": "b", "mesh_name": "m",
               "spec": [{"listener": [{"port_mapping": [{"port": 81, "protocol": "http"}]},
                                      {"port_mapping": [{"port": 82, "protocol": "tcp"}]}]}]}]
      }
    }
  })"}});
  ASSERT_THAT(result.errors, IsEmpty());
  ASSERT_THAT(result.mesh.virtualNodes, SizeIs(2));
  EXPECT_EQ(result.mesh.virtualNodes[0].mesh, "m");
  EXPECT_THAT(result.mesh.virtualNodes[0].spec.listeners, SizeIs(1));
  ASSERT_THAT(result.mesh.virtualNodes[1].spec.listeners, SizeIs(2));
  EXPECT_EQ(result.mesh.virtualNodes[1].spec.listeners[1].portMapping.protocol, PortProtocol::kTcp);
}

TEST(Terraform, VariablesFromDefaultsTfvarsAndCommandLine) {
  const std::vector<InputFile> files = {
      {"main.tf", std::string(kMesh) + node("n", std::string(R"(
  name      = "${var.prefix}-${var.suffix}-${var.flag}"
  mesh_name = "m"
)") + kListener)},
      {"variables.tf", R"(
variable "prefix" { default = "app" }
variable "suffix" { default = "x" }
variable "flag" {}
)"},
      {"terraform.tfvars", "suffix = \"from-tfvars\"\nflag = \"t\"\n"},
      {"z.auto.tfvars", "flag = \"auto\"\n"},
  };
  LoadResult result = load(files);
  ASSERT_THAT(result.errors, IsEmpty());
  EXPECT_EQ(result.mesh.virtualNodes[0].name, "app-from-tfvars-auto");

  LoadOptions options;
  options.variables["prefix"] = "cli";
  options.variables["flag"] = "f";
  result = load(files, options);
  ASSERT_THAT(result.errors, IsEmpty());
  EXPECT_EQ(result.mesh.virtualNodes[0].name, "cli-from-tfvars-f");
}

TEST(Terraform, LocalsFunctionsAndCount) {
  LoadResult result = load({{"main.tf", std::string(kMesh) + R"(
variable "colors" { default = ["red", "blue"] }
locals {
  mesh  = aws_appmesh_mesh.main.name
  names = { web = "Web-Node" }
}
)" + node("color", std::string(R"(
  count     = 2
  name      = format("%s-%d", var.colors[count.index], count.index)
  mesh_name = local.mesh
)") + kListener) + node("web", std::string(R"(
  name      = lower(local.names["web"])
  mesh_name = upper(join("", ["", "m"]))
)") + kListener)}});
  ASSERT_THAT(result.errors, IsEmpty());
  std::vector<std::string> names;
  for (const VirtualNode& n : result.mesh.virtualNodes) names.push_back(n.mesh + "/" + n.name);
  EXPECT_THAT(names, ElementsAre("m/red-0", "m/blue-1", "M/web-node"));
  EXPECT_EQ(result.mesh.virtualNodes[1].source.resource, "aws_appmesh_virtual_node.color[1]");
}

TEST(Terraform, OtherBlocksAndResourcesAreSkippedAndCounted) {
  LoadResult result = load({{"main.tf", std::string(kMesh) + R"(
provider "aws" { region = "us-west-2" }
terraform { required_version = ">= 1.0" }
output "x" { value = 1 }
data "aws_caller_identity" "me" {}
resource "aws_ecs_service" "a" { name = "a" }
resource "aws_ecs_service" "b" { name = "b" }
)"}});
  ASSERT_THAT(result.errors, IsEmpty());
  EXPECT_THAT(result.notes,
              ElementsAre("main.tf: 4 blocks skipped (data 1, output 1, provider 1, terraform 1); "
                          "2 resources of other types skipped (aws_ecs_service 2)"));
}

TEST(Terraform, ShowJsonStateDropsComputedAndUnsetValues) {
  LoadResult result = load({{"state.json", R"({
    "format_version": "1.0",
    "values": {"root_module": {"resources": [
      {"address": "aws_appmesh_virtual_node.n", "mode": "managed", "type": "aws_appmesh_virtual_node",
       "name": "n", "values": {
         "id": "f00", "arn": "arn:aws:appmesh:us-west-2:1:mesh/m/virtualNode/n", "mesh_owner": "1",
         "resource_owner": "1", "created_date": "x", "last_updated_date": "x", "tags": null,
         "tags_all": {}, "name": "n", "mesh_name": "m",
         "spec": [{"backend": [], "logging": [], "listener": [{
           "port_mapping": [{"port": 8080, "protocol": "http"}],
           "health_check": [{"protocol": "tcp", "path": "", "port": 0, "healthy_threshold": 2,
                             "unhealthy_threshold": 2, "interval_millis": 5000,
                             "timeout_millis": 2000}],
           "connection_pool": [{"http": [{"max_connections": 10, "max_pending_requests": 0}]}]}]}]}}
    ], "child_modules": [{"resources": [
      {"address": "module.x.aws_appmesh_mesh.m", "mode": "managed", "type": "aws_appmesh_mesh",
       "name": "m", "values": {"id": "m", "name": "m", "spec": []}}]}]}}
  })"}});
  ASSERT_THAT(result.errors, IsEmpty());
  ASSERT_THAT(result.mesh.meshes, SizeIs(1));
  EXPECT_EQ(result.mesh.meshes[0].source.resource, "module.x.aws_appmesh_mesh.m");
  ASSERT_THAT(result.mesh.virtualNodes, SizeIs(1));
  const Listener& listener = result.mesh.virtualNodes[0].spec.listeners[0];
  ASSERT_TRUE(listener.healthCheck.has_value());
  EXPECT_FALSE(listener.healthCheck->path.has_value());
  EXPECT_FALSE(listener.healthCheck->port.has_value());
  EXPECT_FALSE(result.mesh.virtualNodes[0].meshOwner.has_value());  // computed in a state
}

TEST(Terraform, ShowJsonPlanReadsPlannedValues) {
  LoadResult result = load({{"plan.json", R"({"format_version": "1.2", "planned_values":
    {"root_module": {"resources": [{"address": "aws_appmesh_mesh.m", "mode": "managed",
      "type": "aws_appmesh_mesh", "name": "m", "values": {"name": "planned", "spec": []}}]}}})"}});
  ASSERT_THAT(result.errors, IsEmpty());
  ASSERT_THAT(result.mesh.meshes, SizeIs(1));
  EXPECT_EQ(result.mesh.meshes[0].name, "planned");
}

TEST(Terraform, ModuleCallsAndOtherTfvarsAreWarnings) {
  LoadResult result = load({
      {"main.tf", std::string(kMesh) + "module \"nodes\" {\n  source = \"./nodes\"\n}\n"},
      {"prod.tfvars", "x = 1\n"},
  });
  ASSERT_THAT(result.errors, IsEmpty());
  EXPECT_THAT(result.warnings,
              ElementsAre(HasSubstr("main.tf (module nodes): module calls are not followed"),
                          HasSubstr("prod.tfvars: not read (Terraform loads only terraform.tfvars "
                                    "and *.auto.tfvars by itself)")));
  EXPECT_THAT(result.notes, ElementsAre("main.tf: 1 block skipped (module 1)"));
}

// ---- rejections: each names the file, the resource, the attribute and the expression.

TEST(TerraformErrors, SyntaxErrorNamesFileLineAndColumn) {
  EXPECT_THAT(onlyError({{"broken.tf", "resource \"aws_appmesh_mesh\" \"m\" {\n  name =\n}\n"}}),
              HasSubstr("broken.tf:2,9: Invalid expression"));
}

TEST(TerraformErrors, VariableWithoutValueNamesTheFlag) {
  EXPECT_EQ(onlyError({{"main.tf", std::string("variable \"mesh\" {}\n") +
                                       "resource \"aws_appmesh_mesh\" \"m\" { name = var.mesh }\n"}}),
            "main.tf (resource aws_appmesh_mesh.m): name: ${var.mesh}: variable \"mesh\" (main.tf) "
            "has no default; give --var mesh=VALUE or set it in terraform.tfvars");
}

TEST(TerraformErrors, UndeclaredVariable) {
  EXPECT_THAT(onlyError({{"main.tf", "resource \"aws_appmesh_mesh\" \"m\" { name = var.nope }\n"}}),
              HasSubstr("main.tf (resource aws_appmesh_mesh.m): name: ${var.nope}: variable "
                        "\"nope\" is not declared"));
}

TEST(TerraformErrors, DataSource) {
  EXPECT_THAT(
      onlyError({{"main.tf",
                  "resource \"aws_appmesh_mesh\" \"m\" { name = data.aws_x.y.name }\n"}}),
      HasSubstr("main.tf (resource aws_appmesh_mesh.m): name: ${data.aws_x.y.name}: "
                "data.aws_x.y.name: data sources are not read"));
}

TEST(TerraformErrors, UnsupportedFunction) {
  EXPECT_THAT(onlyError({{"main.tf",
                          "resource \"aws_appmesh_mesh\" \"m\" { name = replace(\"a\", \"a\", \"b\") }\n"}}),
              HasSubstr("main.tf (resource aws_appmesh_mesh.m): name: ${replace(\"a\", \"a\", \"b\")}: "
                        "function replace() is not supported (supported: format, join, lower, upper)"));
}

TEST(TerraformErrors, OperatorsAndConditionals) {
  EXPECT_THAT(onlyError({{"main.tf", "variable \"x\" { default = 1 }\n"
                                     "resource \"aws_appmesh_mesh\" \"m\" { name = var.x > 0 ? \"a\" : \"b\" }\n"}}),
              HasSubstr("name: ${var.x > 0 ? \"a\" : \"b\"}: unsupported expression syntax"));
}

TEST(TerraformErrors, IdOfANodeIsKnownOnlyAfterApply) {
  EXPECT_THAT(onlyError({{"main.tf", std::string(kMesh) +
                                         node("a", std::string("name = \"a\"\nmesh_name = \"m\"\n") + kListener) +
                                         node("b", std::string("name = aws_appmesh_virtual_node.a.id\nmesh_name = \"m\"\n") + kListener)}}),
              HasSubstr("main.tf (resource aws_appmesh_virtual_node.b): name: "
                        "${aws_appmesh_virtual_node.a.id}: aws_appmesh_virtual_node.a.id: id is "
                        "known only after App Mesh creates the resource"));
}

TEST(TerraformErrors, MissingResource) {
  EXPECT_THAT(onlyError({{"main.tf", "resource \"aws_appmesh_mesh\" \"m\" { name = aws_appmesh_mesh.other.name }\n"}}),
              HasSubstr("no resource aws_appmesh_mesh.other in this folder"));
}

TEST(TerraformErrors, CountedResourceNeedsAnIndex) {
  EXPECT_THAT(onlyError({{"main.tf", std::string(kMesh) +
                                         node("a", std::string("count = 1\nname = \"a\"\nmesh_name = \"m\"\n") + kListener) +
                                         node("b", std::string("name = aws_appmesh_virtual_node.a.name\nmesh_name = \"m\"\n") + kListener)}}),
              HasSubstr("aws_appmesh_virtual_node.a sets count; name one instance "
                        "(aws_appmesh_virtual_node.a[0])"));
}

TEST(TerraformErrors, CountIndexWithoutCount) {
  EXPECT_THAT(onlyError({{"main.tf", "resource \"aws_appmesh_mesh\" \"m\" { name = \"m${count.index}\" }\n"}}),
              HasSubstr("main.tf (resource aws_appmesh_mesh.m): name: ${count.index}: count.index "
                        "is only valid in a resource that sets count"));
}

TEST(TerraformErrors, ForEach) {
  EXPECT_EQ(onlyError({{"main.tf", "resource \"aws_appmesh_mesh\" \"m\" {\n  for_each = {}\n  name = \"m\"\n}\n"}}),
            "main.tf (resource aws_appmesh_mesh.m): for_each: for_each is not supported; use count "
            "= N with count.index");
}

TEST(TerraformErrors, UnknownArgument) {
  EXPECT_EQ(onlyError({{"main.tf", "resource \"aws_appmesh_mesh\" \"m\" {\n  name = \"m\"\n  colour = \"red\"\n}\n"}}),
            "main.tf (resource aws_appmesh_mesh.m): colour: unknown argument of aws_appmesh_mesh "
            "(allowed: name, spec, tags)");
}

TEST(TerraformErrors, SingleBlockGivenTwice) {
  EXPECT_THAT(onlyError({{"main.tf", std::string(kMesh) + node("n", R"(
  name = "n"
  mesh_name = "m"
  spec {
    listener {
      port_mapping {
        port = 1
        protocol = "http"
      }
      port_mapping {
        port = 2
        protocol = "http"
      }
    }
  }
)")}}),
              HasSubstr("main.tf (resource aws_appmesh_virtual_node.n): spec.listener[0].port_mapping: "
                        "block \"port_mapping\" appears 2 times; App Mesh's portMapping is a single "
                        "object"));
}

TEST(TerraformErrors, TemplateDirective) {
  EXPECT_THAT(onlyError({{"main.tf", "resource \"aws_appmesh_mesh\" \"m\" { name = \"%{if true}m%{endif}\" }\n"}}),
              HasSubstr("name: template directives (%{...}) are not supported"));
}

TEST(TerraformErrors, LocalThatRefersToItself) {
  EXPECT_THAT(onlyError({{"main.tf", "locals { a = local.a }\nresource \"aws_appmesh_mesh\" \"m\" { name = local.a }\n"}}),
              HasSubstr("local value \"a\" refers to itself"));
}

TEST(TerraformErrors, SpecErrorsComeFromTheSpecParser) {
  EXPECT_THAT(onlyError({{"main.tf", std::string(kMesh) + node("n", R"(
  name = "n"
  mesh_name = "m"
  spec {
    listener {
      port_mapping {
        port = 8080
        protocol = "htp"
      }
    }
  }
)")}}),
              HasSubstr("main.tf (resource aws_appmesh_virtual_node.n): spec.listeners[0].portMapping.protocol"));
}

TEST(TerraformErrors, MissingConverterSaysWhereItLooked) {
  const char* saved = std::getenv("TRELLIS_HCL2JSON");
  const std::string keep = saved ? saved : "";
  setenv("TRELLIS_HCL2JSON", "/nonexistent/trellis-hcl2json", 1);
  const std::string error = onlyError({{"fresh-name.tf", "# not in the cache\n"}});
  setenv("TRELLIS_HCL2JSON", keep.c_str(), 1);
  EXPECT_THAT(error, HasSubstr("fresh-name.tf: TRELLIS_HCL2JSON=/nonexistent/trellis-hcl2json is "
                               "not an executable file"));
}

// ---- the converter's cache.

TEST(TerraformConverter, RunsOncePerContent) {
  const std::vector<InputFile> files = {
      {"cached.tf", std::string(kMesh) + "# cache test\n"},
      {"other.yaml", "meshName: other\n"},
  };
  const size_t before = terraform::hclConverterRuns();
  ASSERT_THAT(load(files).errors, IsEmpty());
  EXPECT_EQ(terraform::hclConverterRuns(), before + 1);
  // An unrelated edit: the .tf file is not converted again.
  std::vector<InputFile> edited = files;
  edited[1].content = "meshName: renamed\n";
  ASSERT_THAT(load(edited).errors, IsEmpty());
  EXPECT_EQ(terraform::hclConverterRuns(), before + 1);
  // An edit of the .tf file is.
  edited[0].content += "# edited\n";
  ASSERT_THAT(load(edited).errors, IsEmpty());
  EXPECT_EQ(terraform::hclConverterRuns(), before + 2);
}

}  // namespace
}  // namespace trellis::config::appmesh
