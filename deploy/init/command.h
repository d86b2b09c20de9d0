// Running iptables-save and iptables-restore: a program found on PATH, its input on stdin, its
// stdout and stderr collected.
//
// trellis-init needs nothing more from a shell, so it runs none (no quoting, no injection): the
// argument vector goes to posix_spawnp as it is.
#pragma once

#include <string>
#include <vector>

namespace trellis::deploy {

struct CommandResult {
  bool started = false;  // false: the program could not be run (see error)
  int exit_code = -1;    // the exit status, or 128+signal when killed
  std::string out;
  std::string err;
  std::string error;  // why it could not be run
  bool ok() const { return started && exit_code == 0; }
};

// Runs argv[0] (looked up on PATH, then /usr/sbin and /sbin) with `input` on its stdin and waits for it.
CommandResult runCommand(const std::vector<std::string>& argv, const std::string& input);

}  // namespace trellis::deploy
