// trellis-inject: rewrites what users deploy App Mesh sidecars with (ECS task definitions and
// CloudFormation templates; Kubernetes pods through the k8s subcommand) to run trellis-proxy.
#include <iostream>
#include <string>
#include <vector>

#include "deploy/inject/ecs_command.h"
#include "deploy/inject/k8s_command.h"

namespace {

constexpr char kUsage[] =
    "usage: trellis-inject ecs FILE... [flags]   ECS task definitions and CloudFormation templates\n"
    "       trellis-inject k8s FILE... [flags]   Kubernetes pod specs\n"
    "       trellis-inject SUBCOMMAND --help     the flags of one\n";

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << kUsage;
    return 2;
  }
  const std::string command = argv[1];
  const std::vector<std::string> args(argv + 2, argv + argc);
  if (command == "ecs") return trellis::deploy::inject::runEcsCommand(args, std::cout, std::cerr);
  if (command == "k8s") return trellis::deploy::runK8sCommand(args, std::cout, std::cerr);
  if (command == "-h" || command == "--help") {
    std::cout << kUsage;
    return 0;
  }
  std::cerr << "trellis-inject: unknown subcommand \"" << command << "\"\n" << kUsage;
  return 2;
}
