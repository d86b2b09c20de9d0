// setrlimit(RLIMIT_NOFILE): soft = hard.
#include "proxy/server/descriptor_limit.h"

#include <sys/resource.h>

#include <cerrno>

namespace trellis::proxy {

DescriptorLimit raiseDescriptorLimit() {
  DescriptorLimit out;
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) {
    out.error = errno;
    return out;
  }
  out.soft_before = lim.rlim_cur;
  out.soft_after = lim.rlim_cur;
  out.hard = lim.rlim_max;
  if (lim.rlim_cur == lim.rlim_max) return out;
  lim.rlim_cur = lim.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &lim) != 0) {
    out.error = errno;
    return out;
  }
  out.soft_after = lim.rlim_cur;
  return out;
}

}  // namespace trellis::proxy
