// The ecs subcommand as a whole: flags, exit statuses, stdout/-o/--in-place, and that a bad input
// among several leaves every file as it was (no half-done writes, no temporary files left).
#include "deploy/inject/ecs_command.h"

#include <dirent.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "deploy/ecs/taskdef_rules.h"

namespace trellis::deploy::inject {
namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class EcsCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = std::getenv("TEST_TMPDIR");
    ASSERT_NE(tmp, nullptr) << "TEST_TMPDIR is set by bazel test";
    dir_ = std::string(tmp) + "/" + ::testing::UnitTest::GetInstance()->current_test_info()->name();
    ASSERT_EQ(std::system(("rm -rf '" + dir_ + "' && mkdir -p '" + dir_ + "'").c_str()), 0);
  }

  std::string copy(const std::string& fixture) {
    std::string target = dir_ + "/" + fixture;
    std::ofstream(target) << slurp("deploy/inject/testdata/" + fixture);
    return target;
  }

  int run(std::vector<std::string> args) {
    out_.str("");
    err_.str("");
    return runEcsCommand(args, out_, err_);
  }

  std::set<std::string> files() const {
    std::set<std::string> names;
    DIR* d = opendir(dir_.c_str());
    while (dirent* e = readdir(d)) {
      if (e->d_name[0] != '.') names.insert(e->d_name);
    }
    closedir(d);
    return names;
  }

  std::string dir_;
  std::ostringstream out_, err_;
};

TEST_F(EcsCommand, StdoutByDefaultWithTheChangesOnStderr) {
  std::string in = copy("appmesh-colorteller.json");
  ASSERT_EQ(run({in, "--image", "registry.example/trellis-proxy:2.0"}), 0) << err_.str();
  auto out = nlohmann::ordered_json::parse(out_.str());
  EXPECT_EQ(out["containerDefinitions"][2]["image"], "registry.example/trellis-proxy:2.0");
  EXPECT_TRUE(ecs::checkTaskDefinition(out).empty());
  EXPECT_NE(err_.str().find("  " + in + ": containerDefinitions[2] (envoy): image "
                            "840364872350.dkr.ecr.us-west-2.amazonaws.com/aws-appmesh-envoy:v1.29.12.1-prod -> "
                            "registry.example/trellis-proxy:2.0\n"),
            std::string::npos)
      << err_.str();
  EXPECT_EQ(slurp(in), slurp("deploy/inject/testdata/appmesh-colorteller.json")) << "input untouched";
}

TEST_F(EcsCommand, OutputFile) {
  std::string in = copy("colorapp-cfn.yaml");
  std::string out = dir_ + "/out.yaml";
  ASSERT_EQ(run({in, "-o", out, "--cp-address", "cp.mesh.local:15010"}), 0) << err_.str();
  EXPECT_NE(slurp(out).find("Value: cp.mesh.local:15010"), std::string::npos) << slurp(out);
  EXPECT_EQ(files(), (std::set<std::string>{"colorapp-cfn.yaml", "out.yaml"}));
}

TEST_F(EcsCommand, InPlaceConvertsEveryFile) {
  std::string a = copy("appmesh-colorteller.json");
  std::string b = copy("colorapp-cfn.json");
  ASSERT_EQ(run({"--in-place", a, b}), 0) << err_.str();
  EXPECT_NE(slurp(a), slurp("deploy/inject/testdata/appmesh-colorteller.json"));
  EXPECT_NE(slurp(b).find("trellis/trellis-proxy:"), std::string::npos);
  EXPECT_EQ(files(), (std::set<std::string>{"appmesh-colorteller.json", "colorapp-cfn.json"}));
  // Running again: nothing to change, and the files are not rewritten.
  const std::string converted = slurp(a);
  ASSERT_EQ(run({"--in-place", a, b}), 0) << err_.str();
  EXPECT_EQ(slurp(a), converted);
  EXPECT_NE(err_.str().find(a + ": nothing to change"), std::string::npos) << err_.str();
}

TEST_F(EcsCommand, OneBadInputWritesNothing) {
  std::string good = copy("appmesh-colorteller.json");
  std::string bad = copy("plain-taskdef.json");  // no App Mesh and no --node
  ASSERT_EQ(run({"--in-place", good, bad}), 2);
  EXPECT_EQ(slurp(good), slurp("deploy/inject/testdata/appmesh-colorteller.json"));
  EXPECT_EQ(slurp(bad), slurp("deploy/inject/testdata/plain-taskdef.json"));
  EXPECT_EQ(files(), (std::set<std::string>{"appmesh-colorteller.json", "plain-taskdef.json"}));
  EXPECT_NE(err_.str().find("trellis-inject ecs: " + bad + ": containerDefinitions: no App Mesh Envoy container"),
            std::string::npos)
      << err_.str();
  EXPECT_NE(err_.str().find("nothing written"), std::string::npos);
}

TEST_F(EcsCommand, MissingFileAndUsageErrors) {
  EXPECT_EQ(run({dir_ + "/absent.json"}), 2);
  EXPECT_NE(err_.str().find(dir_ + "/absent.json: cannot read: No such file or directory"), std::string::npos) << err_.str();
  EXPECT_EQ(run({}), 2);
  EXPECT_NE(err_.str().find("no input file"), std::string::npos);
  std::string in = copy("appmesh-colorteller.json");
  EXPECT_EQ(run({in, "--bogus"}), 2);
  EXPECT_NE(err_.str().find("unknown flag --bogus"), std::string::npos);
  EXPECT_EQ(run({in, in}), 2);
  EXPECT_NE(err_.str().find("several inputs need --in-place"), std::string::npos);
  EXPECT_EQ(run({in, "--cp-address", "trellis-cp"}), 2);
  EXPECT_NE(err_.str().find("--cp-address trellis-cp: expected HOST:PORT with a port 1-65535"), std::string::npos);
  EXPECT_EQ(run({in, "--capture", "ebpf"}), 2);
  EXPECT_NE(err_.str().find("--capture ebpf: expected proxy-configuration or init"), std::string::npos);
  EXPECT_EQ(run({in, "-o", "x", "--in-place"}), 2);
}

TEST_F(EcsCommand, NodeFlagAddsTheSidecarWithInitCapture) {
  std::string in = copy("plain-taskdef.json");
  ASSERT_EQ(run({in, "--node", "mesh/shop/virtualNode/orders", "--capture", "init", "--init-image", "r/init:3"}), 0)
      << err_.str();
  auto out = nlohmann::ordered_json::parse(out_.str());
  auto errors = ecs::checkTaskDefinition(out);
  EXPECT_TRUE(errors.empty()) << (errors.empty() ? "" : errors[0]);
  EXPECT_EQ(out["containerDefinitions"][1]["image"], "r/init:3");
  EXPECT_EQ(run({in, "--node", "shop/orders"}), 2);
  EXPECT_NE(err_.str().find("--node shop/orders: expected mesh/MESH/virtualNode/NODE"), std::string::npos) << err_.str();
}

}  // namespace
}  // namespace trellis::deploy::inject
