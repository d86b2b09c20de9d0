// trellis-inject k8s on multi-document files: which documents change and how, byte-identical
// pass-through of the rest, key order and scalar types after re-emission, errors that name the
// file, document, object and field, and that nothing is written when anything fails.
#include "deploy/inject/k8s_command.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "deploy/inject/yaml_json.h"

namespace trellis::deploy {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using Json = nlohmann::ordered_json;

const std::string kTestdata = "deploy/inject/testdata/";

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string tempDir() {
  const char* base = std::getenv("TEST_TMPDIR");
  std::string dir = std::string(base ? base : "/tmp") + "/k8s_command_test_" +
                    ::testing::UnitTest::GetInstance()->current_test_info()->name();
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

struct CommandRun {
  int code;
  std::string out;
  std::string err;
};

CommandRun run(std::vector<std::string> args) {
  std::ostringstream out, err;
  int code = runK8sCommand(args, out, err);
  return CommandRun{code, out.str(), err.str()};
}

std::vector<std::string> documents(const std::string& text) {
  std::vector<std::string> docs(1);
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("---", 0) == 0) {
      docs.emplace_back();
    } else {
      docs.back() += line + "\n";
    }
  }
  return docs;
}

Json tree(const std::string& doc) { return *yamlToJson(YAML::Load(doc)); }

TEST(K8sCommand, InjectsWorkloadsAndPassesOtherDocumentsThroughByteForByte) {
  std::string input = readFile(kTestdata + "workloads.yaml");
  CommandRun r = run({kTestdata + "workloads.yaml", "--image", "trellis/trellis-proxy:1.2.3"});
  ASSERT_EQ(r.code, 0) << r.err;
  std::vector<std::string> in_docs = documents(input);
  std::vector<std::string> out_docs = documents(r.out);
  ASSERT_EQ(out_docs.size(), 5u) << r.out;
  EXPECT_EQ(out_docs[0], in_docs[0]);  // Namespace, with its comment header
  EXPECT_EQ(out_docs[1], in_docs[1]);  // ConfigMap, flow style and comment intact
  EXPECT_EQ(out_docs[3], in_docs[3]);  // Service

  Json deployment = tree(out_docs[2]);
  std::vector<std::string> keys;
  for (const auto& [key, value] : deployment.items()) keys.push_back(key);
  EXPECT_EQ(keys, (std::vector<std::string>{"apiVersion", "kind", "metadata", "spec"}));
  const Json& pod = deployment["spec"]["template"]["spec"];
  ASSERT_EQ(pod["initContainers"].size(), 2u);
  EXPECT_EQ(pod["initContainers"][1]["image"], "trellis/trellis-proxy:1.2.3");
  // The mesh comes from the Namespace document's mesh label.
  EXPECT_EQ(pod["initContainers"][1]["env"][0]["value"], "mesh/color-mesh/virtualNode/front");
  // Strings that look like other types stay strings.
  EXPECT_EQ(pod["containers"][0]["env"][0]["value"], "8080");
  EXPECT_EQ(pod["containers"][0]["env"][1]["value"], "yes");
  EXPECT_EQ(pod["containers"][0]["env"][2]["value"], "0.5");
  EXPECT_EQ(deployment["spec"]["replicas"], 2);
  EXPECT_EQ(deployment["spec"]["template"]["metadata"]["annotations"]["appmesh.k8s.aws/virtualNode"], "front");

  Json cronjob = tree(out_docs[4]);
  const Json& job_pod = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"];
  EXPECT_EQ(job_pod["initContainers"][0]["name"], "trellis-init");
  EXPECT_EQ(job_pod["restartPolicy"], "OnFailure");
  EXPECT_EQ(cronjob["spec"]["schedule"], "*/5 * * * *");

  EXPECT_THAT(r.err, HasSubstr("document 3 (Deployment colorapp/front): spec.template.spec.initContainers[0]: added trellis-init"));
  EXPECT_THAT(r.err, HasSubstr("document 3 (Deployment colorapp/front): re-emitted without its comments"));
  EXPECT_THAT(r.err, Not(HasSubstr("document 2 (ConfigMap")));
}

TEST(K8sCommand, UnchangedInputComesOutIdentical) {
  std::string input = readFile(kTestdata + "opted_out.yaml");
  CommandRun r = run({kTestdata + "opted_out.yaml", "--mesh", "m"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, input);
  EXPECT_THAT(r.err, HasSubstr("opted_out.yaml: document 1 (Deployment batch)"));
  EXPECT_THAT(r.err, HasSubstr("not injected: the pod opts out"));
}

TEST(K8sCommand, InjectingTwiceChangesNothingTheSecondTime) {
  std::string dir = tempDir();
  CommandRun first = run({kTestdata + "workloads.yaml", "-o", dir + "/once.yaml"});
  ASSERT_EQ(first.code, 0) << first.err;
  CommandRun second = run({dir + "/once.yaml"});
  ASSERT_EQ(second.code, 0) << second.err;
  EXPECT_EQ(second.out, readFile(dir + "/once.yaml"));
  EXPECT_THAT(second.err, HasSubstr("already injected"));
}

TEST(K8sCommand, ListItemsAndVirtualNodeMapAndPlainMode) {
  CommandRun r = run({kTestdata + "pods.yaml", "--virtual-node-map", kTestdata + "virtual-node-map.yaml", "--mode", "plain"});
  ASSERT_EQ(r.code, 0) << r.err;
  Json list = tree(r.out);
  const Json& red = list["items"][0]["spec"];
  ASSERT_EQ(red["containers"].size(), 2u);
  EXPECT_EQ(red["containers"][1]["name"], "trellis-proxy");
  EXPECT_EQ(red["containers"][1]["env"][0]["value"], "mesh/color-mesh/virtualNode/colorteller-red");
  EXPECT_EQ(list["items"][1]["spec"]["template"]["spec"]["containers"][1]["env"][0]["value"],
            "mesh/color-mesh/virtualNode/store");
}

TEST(K8sCommand, ErrorsNameFileDocumentObjectAndFieldAndWriteNothing) {
  std::string dir = tempDir();
  std::string bad = dir + "/bad.yaml";
  std::string good = dir + "/good.yaml";
  std::ofstream(bad) << "kind: ConfigMap\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\n"
                        "spec:\n  template:\n    metadata:\n      annotations:\n        appmesh.k8s.aws/virtualNode: web\n"
                        "        appmesh.k8s.aws/ports: \"80,http\"\n    spec:\n      containers: [{name: web, image: w}]\n";
  std::string good_text = readFile(kTestdata + "workloads.yaml");
  std::ofstream(good) << good_text;
  std::string bad_text = readFile(bad);

  CommandRun out_file = run({good, bad, "--mesh", "m", "-o", dir + "/out.yaml"});
  EXPECT_EQ(out_file.code, 1);
  EXPECT_THAT(out_file.err, HasSubstr(bad + ": document 2 (Deployment shop/web): spec.template.metadata.annotations[\"appmesh.k8s.aws/ports\"]: \"80,http\""));
  EXPECT_THAT(out_file.err, HasSubstr("nothing written"));
  EXPECT_FALSE(std::filesystem::exists(dir + "/out.yaml"));

  CommandRun in_place = run({good, bad, "--mesh", "m", "--in-place"});
  EXPECT_EQ(in_place.code, 1);
  EXPECT_EQ(readFile(good), good_text);
  EXPECT_EQ(readFile(bad), bad_text);

  std::ofstream(dir + "/broken.yaml") << "kind: Pod\nspec: [unclosed\n";
  CommandRun broken = run({dir + "/broken.yaml"});
  EXPECT_EQ(broken.code, 1);
  EXPECT_THAT(broken.err, HasSubstr("broken.yaml: document 1: not YAML"));

  std::ofstream(dir + "/nospec.yaml") << "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec: {replicas: 1}\n";
  CommandRun nospec = run({dir + "/nospec.yaml"});
  EXPECT_EQ(nospec.code, 1);
  EXPECT_THAT(nospec.err, HasSubstr("document 1 (Deployment x): spec.template: required"));
}

TEST(K8sCommand, InPlaceRewritesOnlyChangedFiles) {
  std::string dir = tempDir();
  std::string changed = dir + "/workloads.yaml";
  std::string unchanged = dir + "/opted_out.yaml";
  std::filesystem::copy_file(kTestdata + "workloads.yaml", changed);
  std::filesystem::copy_file(kTestdata + "opted_out.yaml", unchanged);
  auto before = std::filesystem::last_write_time(unchanged);
  CommandRun r = run({changed, unchanged, "--in-place"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_THAT(readFile(changed), HasSubstr("trellis-proxy"));
  EXPECT_EQ(readFile(unchanged), readFile(kTestdata + "opted_out.yaml"));
  EXPECT_EQ(std::filesystem::last_write_time(unchanged), before);
}

TEST(K8sCommand, UsageErrors) {
  EXPECT_EQ(run({}).code, 2);
  EXPECT_EQ(run({"a.yaml", "--mode", "sidecar"}).code, 2);
  EXPECT_EQ(run({"a.yaml", "-o", "x", "--in-place"}).code, 2);
  EXPECT_EQ(run({"a.yaml", "--bogus", "1"}).code, 2);
  CommandRun missing = run({"/nonexistent/a.yaml"});
  EXPECT_EQ(missing.code, 1);
  EXPECT_THAT(missing.err, HasSubstr("/nonexistent/a.yaml: cannot be read"));
}

TEST(YamlJson, ScalarsKeepTheirTypesThroughARoundTrip) {
  const char* text = R"(
a: "8080"
b: 8080
c: yes
d: "yes"
e: ~
f: ""
g: 0.5
h: "0x1F"
i: 0x1F
j: "line one\nline two\n"
k: "  padded"
l: "a: b"
m: '#hash'
n: "- dash"
o: "true"
p: [1, "1", null, "null"]
"8080": key
)";
  Json first = *yamlToJson(YAML::Load(text));
  EXPECT_EQ(first["a"], "8080");
  EXPECT_EQ(first["b"], 8080);
  EXPECT_EQ(first["c"], true);
  EXPECT_EQ(first["d"], "yes");
  EXPECT_TRUE(first["e"].is_null());
  EXPECT_EQ(first["i"], 31);
  std::string emitted = jsonToYaml(first);
  Json second = *yamlToJson(YAML::Load(emitted));
  EXPECT_EQ(second, first) << emitted;
}

}  // namespace
}  // namespace trellis::deploy
