// /proc/self/status readers.
#include "tests/support/process_memory.h"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

namespace trellis::tests {

namespace {

int64_t statusField(const char* field) {
  std::ifstream f("/proc/self/status");
  std::string line;
  size_t len = std::strlen(field);
  while (std::getline(f, line)) {
    if (line.compare(0, len, field) == 0 && line.size() > len && line[len] == ':') {
      long long kb = -1;
      if (std::sscanf(line.c_str() + len + 1, "%lld", &kb) == 1) return kb * 1024;
    }
  }
  return -1;
}

}  // namespace

int64_t residentBytes() { return statusField("VmRSS"); }
int64_t peakResidentBytes() { return statusField("VmHWM"); }

bool resetPeakResident() {
  std::FILE* f = std::fopen("/proc/self/clear_refs", "w");
  if (!f) return false;
  bool ok = std::fputs("5", f) >= 0;
  ok = (std::fclose(f) == 0) && ok;
  return ok;
}

}  // namespace trellis::tests
