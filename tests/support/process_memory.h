// This process's memory as the kernel counts it (/proc/self/status), for the tests that show
// the proxy streams bodies instead of buffering them.
#pragma once

#include <cstdint>

namespace trellis::tests {

// Resident set size in bytes (VmRSS); -1 if unreadable.
int64_t residentBytes();
// Peak resident set size in bytes since start or the last resetPeakResident() (VmHWM); -1 if
// unreadable.
int64_t peakResidentBytes();
// Resets the peak to the current size (writes 5 to /proc/self/clear_refs); false if refused.
bool resetPeakResident();

}  // namespace trellis::tests
