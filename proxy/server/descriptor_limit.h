// Raising the soft descriptor limit to the hard one at start-up.
//
// The soft RLIMIT_NOFILE is often 1024 while the hard limit allows far more; a proxy holds two
// descriptors per proxied connection, so it would run out long before the machine does. Only
// the binary calls this (tests run in-process and keep the test runner's limit).
#pragma once

#include <cstdint>

namespace trellis::proxy {

struct DescriptorLimit {
  uint64_t soft_before = 0;
  uint64_t soft_after = 0;
  uint64_t hard = 0;
  int error = 0;  // errno of a failed getrlimit/setrlimit, else 0
};

DescriptorLimit raiseDescriptorLimit();

}  // namespace trellis::proxy
