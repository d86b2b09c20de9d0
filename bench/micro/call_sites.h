// Sampled allocation backtraces turned into a short list of call sites in proxy code.
//
// Frames of the executable are symbolized with addr2line (function, file:line, and inline
// expansions where the debug info has them); frames of shared libraries with dladdr. A
// sample's site is the innermost frame whose source file is under proxy/: the line in the
// proxy that caused the allocation, whatever library code sits between it and operator new
// ("via" names the innermost frame past operator new itself).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bench/micro/alloc_counter.h"

namespace trellis::bench::micro {

struct CallSite {
  std::string site;   // e.g. "DownstreamSession::relayResponse() [proxy/net/downstream_session.cc:612]"
  std::string via;    // what called operator new, e.g. "boost::asio::detail::thread_info_base::allocate<...>()"
  std::string chain;  // the proxy frames further out, innermost first, " <- " separated
  uint64_t count = 0;
  uint64_t bytes = 0;
};

// Groups samples by (site, via, next proxy frame out), most frequent first.
std::vector<CallSite> groupCallSites(const std::vector<alloc::Sample>& samples);

}  // namespace trellis::bench::micro
