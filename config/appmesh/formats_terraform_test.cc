// The same meshes in Terraform's three forms (testdata/formats/<mesh>/terraform, terraform-json,
// terraform-show) load and translate exactly as their aws appmesh CLI input form does: every
// proxy's xDS resources compared as text, and the translation's errors and warnings by count
// (their wording names each format's file). The gateway mesh has no CLI form on this branch, so
// its loaded model is checked field by field.
#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "config/appmesh/loader.h"
#include "config/appmesh/translate.h"
#include "config/appmesh/validate.h"

namespace trellis::config::appmesh {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::SizeIs;

constexpr char kFormats[] = "config/appmesh/testdata/formats/";

// Every hostname resolves to one fixed address, as in translate_test.
absl::StatusOr<std::vector<std::string>> fixedDns(const std::string&) {
  return std::vector<std::string>{"10.0.0.1"};
}

MeshSet loadValid(const std::string& folder) {
  LoadResult loaded = loadMeshDirWithErrors(absl::StrCat(kFormats, folder));
  EXPECT_THAT(loaded.errors, IsEmpty()) << folder;
  std::vector<std::string> invalid;
  for (const ValidationError& e : validate(loaded.mesh)) invalid.push_back(e.toString());
  EXPECT_THAT(invalid, IsEmpty()) << folder;
  return std::move(loaded.mesh);
}

template <typename Message>
void print(const std::vector<Message>& messages, std::string& out) {
  for (const Message& message : messages) {
    std::string text;
    google::protobuf::TextFormat::PrintToString(message, &text);
    out += text;
    out += "---\n";
  }
}

std::string serialize(const TranslateResult& result) {
  std::string out;
  for (const auto& [key, proxy] : result.proxies) {
    absl::StrAppend(&out, "=== ", key, "\n");
    print(proxy.listeners, out);
    print(proxy.routes, out);
    print(proxy.clusters, out);
    print(proxy.endpoints, out);
  }
  return out;
}

void expectSameTranslation(const std::string& mesh, const std::string& format) {
  SCOPED_TRACE(absl::StrCat(mesh, "/", format));
  const MeshSet cli = loadValid(absl::StrCat(mesh, "/cli"));
  const MeshSet other = loadValid(absl::StrCat(mesh, "/", format));
  ASSERT_FALSE(cli.virtualNodes.empty());
  EXPECT_EQ(other.meshes.size(), cli.meshes.size());
  EXPECT_EQ(other.virtualNodes.size(), cli.virtualNodes.size());
  EXPECT_EQ(other.virtualServices.size(), cli.virtualServices.size());
  EXPECT_EQ(other.virtualRouters.size(), cli.virtualRouters.size());
  EXPECT_EQ(other.routes.size(), cli.routes.size());
  const TranslateResult expected = translate(cli, fixedDns);
  const TranslateResult actual = translate(other, fixedDns);
  EXPECT_EQ(serialize(actual), serialize(expected));
  EXPECT_EQ(actual.errors.size(), expected.errors.size()) << absl::StrJoin(actual.errors, "\n");
  EXPECT_EQ(actual.warnings.size(), expected.warnings.size())
      << absl::StrJoin(actual.warnings, "\n");
}

TEST(FormatsTerraform, ColorappTf) { expectSameTranslation("colorapp", "terraform"); }
TEST(FormatsTerraform, ColorappTfJson) { expectSameTranslation("colorapp", "terraform-json"); }
TEST(FormatsTerraform, ColorappShowJson) { expectSameTranslation("colorapp", "terraform-show"); }
TEST(FormatsTerraform, TcpTf) { expectSameTranslation("tcp", "terraform"); }
TEST(FormatsTerraform, TcpTfJson) { expectSameTranslation("tcp", "terraform-json"); }
TEST(FormatsTerraform, TcpShowJson) { expectSameTranslation("tcp", "terraform-show"); }

TEST(FormatsTerraform, GatewayTf) { expectSameTranslation("gateway", "terraform"); }
TEST(FormatsTerraform, GatewayTfJson) { expectSameTranslation("gateway", "terraform-json"); }
TEST(FormatsTerraform, GatewayShowJson) { expectSameTranslation("gateway", "terraform-show"); }

// The three Terraform forms of the gateway mesh also translate identically to each other.
TEST(FormatsTerraform, GatewayFormsTranslateAlike) {
  const std::string tf = serialize(translate(loadValid("gateway/terraform"), fixedDns));
  EXPECT_EQ(serialize(translate(loadValid("gateway/terraform-json"), fixedDns)), tf);
  EXPECT_EQ(serialize(translate(loadValid("gateway/terraform-show"), fixedDns)), tf);
}

}  // namespace
}  // namespace trellis::config::appmesh
