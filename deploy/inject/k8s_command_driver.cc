// runK8sCommand as a program, for tests only (the user-facing command is `trellis-inject k8s`,
// whose main lives with trellis-inject): lets shell and Python tests run it on files.
#include <iostream>
#include <string>
#include <vector>

#include "deploy/inject/k8s_command.h"

int main(int argc, char** argv) {
  return trellis::deploy::runK8sCommand(std::vector<std::string>(argv + 1, argv + argc), std::cout, std::cerr);
}
