// `trellis-inject ecs FILE... [--image IMG] [--cp-address HOST:PORT] [--node NODE]
// [--capture proxy-configuration|init] [--init-image IMG] [-o OUT | --in-place]`: the flags, the
// all-or-nothing conversion of every input, and the writing (a temporary file renamed over the
// target, only once every input converted).
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace trellis::deploy::inject {

// `args` are the words after `ecs`. Returns the exit status: 0 converted (or nothing to change),
// 1 an output could not be written, 2 bad usage or bad input (nothing written).
int runEcsCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace trellis::deploy::inject
