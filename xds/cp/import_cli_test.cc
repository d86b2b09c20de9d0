// trellis-cp import-cli: a walkthrough-shaped script imports into the same mesh as
// config/examples/colorapp (same translation), every rejection names script, line, command and
// flag, and the command writes a folder only when trellis-cp would accept it.
#include "xds/cp/import_cli.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/status/statusor.h"
#include "config/appmesh/loader.h"
#include "config/appmesh/translate.h"
#include "config/appmesh/validate.h"
#include "google/protobuf/text_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

extern char** environ;

namespace trellis::cp {
namespace {

namespace fs = std::filesystem;
namespace am = config::appmesh;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

fs::path runfile(const std::string& path) { return fs::path(std::getenv("TEST_SRCDIR")) / "trellis" / path; }

std::optional<std::string> readDisk(const std::string& path, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "no such file";
    return std::nullopt;
  }
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string slurp(const fs::path& path) {
  std::string error;
  return readDisk(path.string(), error).value_or("");
}

// One inline script; files it names come from `files`.
CliImportResult importText(const std::string& text, std::map<std::string, std::string> files = {},
                           std::map<std::string, std::string> variables = {}) {
  CliImportInput input;
  input.scripts.push_back({"setup.sh", "", text});
  input.variables = std::move(variables);
  input.readFile = [files](const std::string& path, std::string& error) -> std::optional<std::string> {
    auto it = files.find(path);
    if (it == files.end()) {
      error = "no such file";
      return std::nullopt;
    }
    return it->second;
  };
  return importCliScripts(input);
}

CliImportResult importWalkthrough() {
  const fs::path script = runfile("xds/cp/testdata/import_cli/colorapp/deploy.sh");
  CliImportInput input;
  input.scripts.push_back({"deploy.sh", script.parent_path().string(), slurp(script)});
  input.readFile = readDisk;
  return importCliScripts(input);
}

std::vector<am::InputFile> folderFiles(const fs::path& dir) {
  std::vector<am::InputFile> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    files.push_back({entry.path().filename().string(), slurp(entry.path())});
  }
  std::sort(files.begin(), files.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return files;
}

// Every proxy's resources as text, by node key.
std::map<std::string, std::string> translationOf(const std::vector<am::InputFile>& files) {
  am::LoadResult load = am::loadMeshFiles(files);
  EXPECT_THAT(load.errors, IsEmpty());
  std::vector<std::string> invalid;
  for (const am::ValidationError& e : am::validate(load.mesh)) invalid.push_back(e.toString());
  EXPECT_THAT(invalid, IsEmpty());
  am::Resolver noDns = [](const std::string& host) -> absl::StatusOr<std::vector<std::string>> {
    return absl::NotFoundError("no DNS in this test for " + host);
  };
  am::TranslateResult translated = am::translate(load.mesh, noDns);
  std::map<std::string, std::string> out;
  google::protobuf::TextFormat::Printer printer;
  printer.SetExpandAny(true);
  for (const auto& [key, proxy] : translated.proxies) {
    std::string text;
    auto add = [&](const google::protobuf::Message& message) {
      std::string one;
      printer.PrintToString(message, &one);
      text += one + "---\n";
    };
    for (const auto& m : proxy.listeners) add(m);
    for (const auto& m : proxy.routes) add(m);
    for (const auto& m : proxy.clusters) add(m);
    for (const auto& m : proxy.endpoints) add(m);
    out[key] = text;
  }
  return out;
}

TEST(ImportCliTest, WalkthroughScriptImportsTheColorappMesh) {
  const CliImportResult result = importWalkthrough();
  ASSERT_THAT(result.errors, IsEmpty());
  EXPECT_EQ(result.creates, 9u);
  EXPECT_EQ(result.updates, 1u);
  EXPECT_EQ(result.deletes, 1u);
  EXPECT_EQ(result.readOnly, 1u);
  EXPECT_EQ(result.assignments, 4u);  // MESH_NAME, SERVICES_DOMAIN, DIR, AWS_DEFAULT_REGION
  EXPECT_EQ(result.skipped.at("aws ecs"), 1u);
  EXPECT_EQ(result.skipped.at("echo"), 1u);
  EXPECT_EQ(result.skipped.at("set"), 1u);
  std::vector<std::string> names;
  for (const CliImportedFile& file : result.files) names.push_back(file.name);
  EXPECT_THAT(names, ElementsAre("mesh-color-mesh.json", "virtualNode-color-mesh-colorteller-red.json",
                                 "virtualNode-color-mesh-colorteller-blue.json",
                                 "virtualNode-color-mesh-colorteller-green.json",
                                 "virtualRouter-color-mesh-colorteller-router.json",
                                 "route-color-mesh-colorteller-router-colorteller-route.json",
                                 "virtualService-color-mesh-colorteller.color-mesh.local.json",
                                 "virtualNode-color-mesh-front.json"));
  // The update-route's spec is the one kept, and the file says where it came from.
  const CliImportedFile& route = result.files[5];
  EXPECT_EQ(route.origin, "deploy.sh:62");
  EXPECT_THAT(route.content, HasSubstr("\"weight\": 100"));
  EXPECT_THAT(result.files[7].content, HasSubstr("\"tags\": [\n    {\n      \"key\": \"app\",\n      \"value\": \"colorapp\""));
  // The here-document's ${SERVICES_DOMAIN} was expanded.
  EXPECT_THAT(result.files[3].content, HasSubstr("\"namespaceName\": \"color-mesh.local\""));
}

TEST(ImportCliTest, ImportedFolderTranslatesLikeTheExampleFolder) {
  const CliImportResult result = importWalkthrough();
  ASSERT_THAT(result.errors, IsEmpty());
  const fs::path example = runfile("config/examples/colorapp");
  std::vector<am::InputFile> imported;
  for (const CliImportedFile& file : result.files) imported.push_back({file.name, file.content});
  // The script has no endpoints or sidecar addresses (App Mesh had Cloud Map); take the example's.
  imported.push_back({"endpoints.yaml", slurp(example / "endpoints.yaml")});
  imported.push_back({"sidecars.yaml", slurp(example / "sidecars.yaml")});
  const auto expected = translationOf(folderFiles(example));
  const auto actual = translationOf(imported);
  ASSERT_EQ(expected.size(), 4u);
  ASSERT_EQ(actual.size(), expected.size());
  for (const auto& [key, text] : expected) {
    ASSERT_TRUE(actual.count(key)) << key;
    // Only the Source (file names) differ, and that is not part of the xDS output.
    EXPECT_EQ(actual.at(key), text) << key;
  }
}

// The "gateway" mesh: gateway, gateway route, router with a 90/10 split, two DNS nodes; its
// loaded model, field by field.
TEST(ImportCliTest, GatewayScriptLoadsTheGatewayMesh) {
  const fs::path script = runfile("xds/cp/testdata/import_cli/gateway/gateway.sh");
  CliImportInput input;
  input.scripts.push_back({"gateway.sh", script.parent_path().string(), slurp(script)});
  input.readFile = readDisk;
  const CliImportResult result = importCliScripts(input);
  ASSERT_THAT(result.errors, IsEmpty());
  EXPECT_EQ(result.creates, 8u);
  EXPECT_EQ(result.skipped.at("for"), 1u);  // the loop's lines are other commands
  std::vector<am::InputFile> files;
  for (const CliImportedFile& file : result.files) files.push_back({file.name, file.content});
  am::LoadResult load = am::loadMeshFiles(files);
  ASSERT_THAT(load.errors, IsEmpty());
  std::vector<std::string> invalid;
  for (const am::ValidationError& e : am::validate(load.mesh)) invalid.push_back(e.toString());
  EXPECT_THAT(invalid, IsEmpty());
  const am::MeshSet& mesh = load.mesh;
  ASSERT_EQ(mesh.meshes.size(), 1u);
  EXPECT_EQ(mesh.meshes[0].name, "gw-mesh");
  ASSERT_EQ(mesh.virtualGateways.size(), 1u);
  const am::VirtualGateway& gateway = mesh.virtualGateways[0];
  EXPECT_EQ(gateway.name, "ingress-gw");
  ASSERT_EQ(gateway.spec.listeners.size(), 1u);
  EXPECT_EQ(gateway.spec.listeners[0].portMapping.port, 8080);
  ASSERT_TRUE(gateway.spec.listeners[0].healthCheck.has_value());
  EXPECT_EQ(gateway.spec.listeners[0].healthCheck->path, std::optional<std::string>("/healthz"));
  EXPECT_EQ(gateway.spec.listeners[0].healthCheck->unhealthyThreshold, 3);
  EXPECT_EQ(gateway.spec.listeners[0].healthCheck->intervalMillis, 10000);
  ASSERT_EQ(mesh.gatewayRoutes.size(), 1u);
  EXPECT_EQ(mesh.gatewayRoutes[0].name, "color-route");
  EXPECT_EQ(mesh.gatewayRoutes[0].virtualGateway, "ingress-gw");
  ASSERT_TRUE(mesh.gatewayRoutes[0].spec.httpRoute.has_value());
  EXPECT_EQ(mesh.gatewayRoutes[0].spec.httpRoute->match.prefix, std::optional<std::string>("/color"));
  EXPECT_EQ(mesh.gatewayRoutes[0].spec.target().virtualServiceName, "color.local");
  ASSERT_EQ(mesh.routes.size(), 1u);
  EXPECT_EQ(mesh.routes[0].name, "color-split");
  EXPECT_EQ(mesh.routes[0].virtualRouter, "color-router");
  const auto& targets = mesh.routes[0].spec.weightedTargets();
  ASSERT_EQ(targets.size(), 2u);
  EXPECT_EQ(targets[0].virtualNode, "color-v1");
  EXPECT_EQ(targets[0].weight, 90);
  EXPECT_EQ(targets[1].virtualNode, "color-v2");
  EXPECT_EQ(targets[1].weight, 10);
  ASSERT_EQ(mesh.virtualNodes.size(), 2u);
  ASSERT_EQ(mesh.virtualServices.size(), 1u);
  EXPECT_EQ(mesh.virtualServices[0].name, "color.local");
}

TEST(ImportCliTest, ShellWordsAndVariables) {
  const CliImportResult result = importText(
      "M=m1   # a comment\n"
      "export PORT=${PORT:-8080} EMPTY=\n"
      "aws --region eu-west-1 appmesh create-mesh --mesh-name=$M\n"
      "aws appmesh create-virtual-node --mesh-name \"$M\" --virtual-node-name \"n-${EMPTY:-x}\" --spec \\\n"
      "  '{\"listeners\": [{\"portMapping\": {\"port\": '$PORT', \"protocol\": \"http\"}}]}' \\\n"
      "  --cli-input-json '{\"meshName\": \"ignored\", \"clientToken\": \"t\"}' --output json\n"
      "aws appmesh update-mesh --mesh-name $M --spec file://mesh.json; echo done && true\n"
      "ENV=${FROM_SET}\n"
      "aws appmesh create-virtual-service --mesh-name $M --virtual-service-name s.$ENV "
      "--spec '{\"provider\": {\"virtualNode\": {\"virtualNodeName\": \"n-x\"}}}'\n",
      {{"mesh.json", R"({"egressFilter": {"type": "ALLOW_ALL"}})"}}, {{"FROM_SET", "local"}});
  ASSERT_THAT(result.errors, IsEmpty());
  ASSERT_EQ(result.files.size(), 3u);
  EXPECT_EQ(result.files[0].content,
            "{\n  \"meshName\": \"m1\",\n  \"spec\": {\n    \"egressFilter\": {\n      \"type\": \"ALLOW_ALL\"\n    }\n  }\n}\n");
  EXPECT_EQ(result.files[1].name, "virtualNode-m1-n-x.json");
  EXPECT_THAT(result.files[1].content, HasSubstr("\"meshName\": \"m1\""));  // the flag wins over the input
  EXPECT_THAT(result.files[1].content, HasSubstr("\"port\": 8080,"));      // a number, not a string
  EXPECT_THAT(result.files[1].content, Not(HasSubstr("clientToken")));
  EXPECT_EQ(result.files[2].name, "virtualService-m1-s.local.json");
  EXPECT_EQ(result.skipped.at("echo"), 1u);
  EXPECT_EQ(result.skipped.at("true"), 1u);
}

TEST(ImportCliTest, CommandSubstitutionOfAnAppmeshCommandIsStillApplied) {
  const CliImportResult result = importText(
      "MESH_ARN=$(aws appmesh create-mesh --mesh-name m --query mesh.metadata.arn --output text)\n"
      "aws appmesh create-virtual-node --mesh-name m --virtual-node-name n --spec '{}' --tags \"key=arn,value=$MESH_ARN\"\n");
  EXPECT_EQ(result.creates, 1u);
  ASSERT_EQ(result.files.size(), 1u);
  EXPECT_EQ(result.files[0].name, "mesh-m.json");
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(result.errors[0],
            "setup.sh:2: aws appmesh create-virtual-node: --tags: word \"key=arn,value=$MESH_ARN\": $MESH_ARN has no known "
            "value ($(aws appmesh create-mesh --mesh-name m --query mesh.metadata.arn --output text) at setup.sh:1); "
            "give it with --set MESH_ARN=VALUE");
}

// Each rejection names the script, the line, the command and the flag or word.
TEST(ImportCliTest, Rejections) {
  const std::string mesh = "aws appmesh create-mesh --mesh-name m\n";
  const std::string node = R"('{"listeners": [{"portMapping": {"port": 80, "protocol": "http"}}]}')";
  struct Case {
    std::string script;
    std::string message;
  };
  const std::vector<Case> cases = {
      {mesh + "aws appmesh create-virtual-node --mesh-name m --virtual-node-name $(hostname) --spec '{}'\n",
       "setup.sh:2: aws appmesh create-virtual-node: --virtual-node-name: word $(hostname): $(hostname) is a "
       "command substitution, which import-cli does not run; write the value in the script or give it with --set "
       "NAME=VALUE"},
      {"N=$(aws appmesh list-meshes)\n" + mesh + "aws appmesh create-virtual-node --mesh-name m --virtual-node-name $N --spec '{}'\n",
       "setup.sh:3: aws appmesh create-virtual-node: --virtual-node-name: word $N: $N has no known value ($(aws "
       "appmesh list-meshes) at setup.sh:1); give it with --set N=VALUE"},
      {"aws appmesh create-mesh --mesh-name $MESH\n",
       "setup.sh:1: aws appmesh create-mesh: --mesh-name: word $MESH: $MESH is not set (assign it in the script, give "
       "--set MESH=VALUE, or --from-env to read the environment)"},
      {"aws appmesh create-mesh --mesh-name ${MESH#x}\n",
       "setup.sh:1: aws appmesh create-mesh: --mesh-name: word ${MESH#x}: ${MESH#x} is not an expansion import-cli "
       "evaluates (it takes $VAR, ${VAR}, ${VAR:-default}); write the value in the script or give it with --set "
       "NAME=VALUE"},
      {mesh + "aws appmesh create-virtual-node --mesh-name m --virtual-node-name n --spec file://node.json\n",
       "setup.sh:2: aws appmesh create-virtual-node: --spec: file://node.json: cannot read node.json: no such file"},
      {mesh + "aws appmesh create-virtual-node --mesh-name m --virtual-node-name n --spec listeners=[]\n",
       "setup.sh:2: aws appmesh create-virtual-node: --spec: 'listeners=[]' is not JSON (the AWS CLI's shorthand "
       "syntax is not read; give JSON or file://PATH)"},
      {mesh + "aws appmesh create-virtual-node --mesh-name m --virtual-node-name n --spec '{\"a\": [}'\n",
       "setup.sh:2: aws appmesh create-virtual-node: --spec: the value is not valid JSON at line 1"},
      {mesh + "aws appmesh create-virtual-node --mesh-name m --virtual-node-name n --spec " + node + " --tag x\n",
       "setup.sh:2: aws appmesh create-virtual-node: --tag: unknown option (allowed: --mesh-name, --mesh-owner, "
       "--cli-input-json, --cli-input-yaml, --virtual-node-name, --spec, --client-token, --tags)"},
      {mesh + "aws appmesh create-virtual-node --mesh-name m --spec " + node + "\n",
       "setup.sh:2: aws appmesh create-virtual-node: --virtual-node-name is required (or virtualNodeName in "
       "--cli-input-json)"},
      {mesh + "aws appmesh create-virtual-node --mesh-name m --virtual-node-name n\n",
       "setup.sh:2: aws appmesh create-virtual-node: --spec is required (or spec in --cli-input-json)"},
      {mesh + mesh, "setup.sh:2: aws appmesh create-mesh: mesh m already exists (created at setup.sh:1); App Mesh "
                    "refuses a second create (ConflictException): use update-mesh"},
      {"aws appmesh create-virtual-router --mesh-name m --virtual-router-name r --spec '{}'\n",
       "setup.sh:1: aws appmesh create-virtual-router: mesh m does not exist (no create-mesh --mesh-name m before "
       "this line)"},
      {mesh + "aws appmesh create-route --mesh-name m --virtual-router-name r --route-name x --spec '{}'\n",
       "setup.sh:2: aws appmesh create-route: virtual-router r does not exist in mesh m (no create-virtual-router "
       "before this line)"},
      {mesh + "aws appmesh update-virtual-node --mesh-name m --virtual-node-name n --spec " + node + "\n",
       "setup.sh:2: aws appmesh update-virtual-node: virtual-node n in mesh m does not exist (no create-virtual-node "
       "before this line); App Mesh answers NotFoundException"},
      {mesh + "aws appmesh create-virtual-node --mesh-name m --virtual-node-name n --spec " + node +
           "\naws appmesh delete-mesh --mesh-name m\n",
       "setup.sh:3: aws appmesh delete-mesh: mesh m still holds virtual-node n in mesh m; App Mesh refuses "
       "(ResourceInUseException): delete those first"},
      {"aws appmesh tag-resource --resource-arn x --tags key=a,value=b\n",
       "setup.sh:1: aws appmesh tag-resource: not an operation import-cli applies"},
      {mesh + "aws appmesh create-virtual-node --mesh-name m --virtual-node-name n --spec " + node + " --tags app\n",
       "setup.sh:2: aws appmesh create-virtual-node: --tags: 'app' is not key=KEY,value=VALUE"},
      {"aws appmesh create-mesh --mesh-name ../x\n",
       "setup.sh:1: aws appmesh create-mesh: --mesh-name: '../x' is not an App Mesh name"},
  };
  for (const Case& c : cases) {
    const CliImportResult result = importText(c.script);
    ASSERT_EQ(result.errors.size(), 1u) << c.script << ::testing::PrintToString(result.errors);
    EXPECT_THAT(result.errors[0], HasSubstr(c.message)) << c.script;
  }
}

// ---- the command: runs trellis-cp import-cli and collects its output.

struct CpRun {
  int exitCode = -1;
  std::string output;
};

CpRun runCp(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {runfile("xds/trellis-cp").string(), "import-cli"};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> pointers;
  for (std::string& arg : argv) pointers.push_back(arg.data());
  pointers.push_back(nullptr);
  int pipeFds[2];
  if (pipe(pipeFds) != 0) return {};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipeFds[1], 1);
  posix_spawn_file_actions_adddup2(&actions, pipeFds[1], 2);
  posix_spawn_file_actions_addclose(&actions, pipeFds[0]);
  pid_t pid = 0;
  const int spawned = posix_spawn(&pid, pointers[0], &actions, nullptr, pointers.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(pipeFds[1]);
  CpRun run;
  char buffer[4096];
  ssize_t n = 0;
  while ((n = read(pipeFds[0], buffer, sizeof(buffer))) > 0) run.output.append(buffer, n);
  close(pipeFds[0]);
  if (spawned != 0) return run;
  int status = 0;
  waitpid(pid, &status, 0);
  run.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

TEST(ImportCliCommandTest, WritesAValidFolderAndRefusesToOverwrite) {
  const fs::path out = fs::path(std::getenv("TEST_TMPDIR")) / "imported";
  fs::remove_all(out);
  const std::string script = runfile("xds/cp/testdata/import_cli/colorapp/deploy.sh").string();
  CpRun first = runCp({script, "--out", out.string()});
  ASSERT_EQ(first.exitCode, 0) << first.output;
  EXPECT_THAT(first.output, HasSubstr("applied 9 create, 1 update, 1 delete"));
  EXPECT_THAT(first.output, HasSubstr("wrote 8 file(s) to " + out.string() +
                                      " (mesh 1, route 1, virtualNode 4, virtualRouter 1, virtualService 1); valid"));
  am::LoadResult load = am::loadMeshDirWithErrors(out.string());
  EXPECT_THAT(load.errors, IsEmpty());
  EXPECT_EQ(load.mesh.virtualNodes.size(), 4u);
  // No temporary folder is left next to it.
  for (const auto& entry : fs::directory_iterator(out.parent_path())) {
    EXPECT_EQ(entry.path().filename().string().find(".imported."), std::string::npos) << entry.path();
  }

  CpRun again = runCp({script, "--out", out.string()});
  EXPECT_EQ(again.exitCode, 1);
  EXPECT_THAT(again.output, HasSubstr(out.string() + ": folder is not empty; give --force to replace it"));

  fs::remove(out / "mesh-color-mesh.json");
  CpRun forced = runCp({script, "--out", out.string(), "--force", "--set", "MESH_NAME=color-mesh"});
  EXPECT_EQ(forced.exitCode, 0) << forced.output;
  EXPECT_TRUE(fs::exists(out / "mesh-color-mesh.json"));
}

TEST(ImportCliCommandTest, FolderTheLoaderRejectsIsNotWritten) {
  const fs::path tmp = fs::path(std::getenv("TEST_TMPDIR"));
  const fs::path script = tmp / "bad.sh";
  {
    std::ofstream(script) << "aws appmesh create-mesh --mesh-name m\n"
                             "aws appmesh create-virtual-node --mesh-name m --virtual-node-name n \\\n"
                             "  --spec '{\"listeners\": [{\"portMapping\": {\"port\": 80, \"protocol\": \"htp\"}}]}'\n";
  }
  const fs::path out = tmp / "rejected";
  CpRun run = runCp({script.string(), "--out", out.string()});
  EXPECT_EQ(run.exitCode, 1);
  EXPECT_THAT(run.output, HasSubstr("virtualNode-m-n.json (document 1): spec.listeners[0].portMapping.protocol: "
                                    "\"htp\" is not allowed"));
  EXPECT_THAT(run.output, HasSubstr("[from " + script.string() + ":2]"));
  EXPECT_THAT(run.output, HasSubstr("nothing written"));
  EXPECT_FALSE(fs::exists(out));

  CpRun unset = runCp({script.string() + ".missing", "--out", out.string()});
  EXPECT_EQ(unset.exitCode, 1);
  EXPECT_THAT(unset.output, HasSubstr("cannot read script"));
}

TEST(ImportCliCommandTest, EnvironmentOnlyWithFromEnv) {
  const fs::path tmp = fs::path(std::getenv("TEST_TMPDIR"));
  const fs::path script = tmp / "env.sh";
  std::ofstream(script) << "aws appmesh create-mesh --mesh-name \"$TEST_TMPDIR_MESH\"\n";
  setenv("TEST_TMPDIR_MESH", "from-env", 1);
  CpRun without = runCp({script.string(), "--out", (tmp / "env1").string()});
  EXPECT_EQ(without.exitCode, 1);
  EXPECT_THAT(without.output, HasSubstr("env.sh:1: aws appmesh create-mesh: --mesh-name: word \"$TEST_TMPDIR_MESH\": "
                                        "$TEST_TMPDIR_MESH is not set"));
  CpRun with = runCp({script.string(), "--out", (tmp / "env2").string(), "--from-env"});
  EXPECT_EQ(with.exitCode, 0) << with.output;
  EXPECT_TRUE(fs::exists(tmp / "env2" / "mesh-from-env.json"));
}

}  // namespace
}  // namespace trellis::cp
