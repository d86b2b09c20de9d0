// Counting replacements of the global operator new and delete, by thread role, with call-site
// sampling: how the allocation benchmark finds out what the proxy's request path allocates.
//
// Linking alloc_counter.cc into a binary (the BUILD target is alwayslink) replaces every form
// of operator new/delete with a version that forwards to malloc/free and counts, per role of
// the calling thread, allocations, bytes and frees. A thread names its role once with
// setThreadRole(); threads that never do (in the benchmark: the proxy's workers, which
// proxy::Worker starts) count as Role::Untagged. Between startSampling() and stopSampling(), the
// first allocations made on untagged threads also record a backtrace, for call-site reports.
//
// Only operator new is counted: C++ code on the request path allocates through it. malloc
// called directly (C libraries, the dynamic loader) is not, and is not expected there.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace trellis::bench::micro::alloc {

enum class Role : uint8_t { Untagged, ProxyMain, Client, Upstream, Harness, kCount };
const char* roleName(Role role);

// Tags the calling thread for the rest of its life.
void setThreadRole(Role role);

struct Counts {
  uint64_t allocs = 0;
  uint64_t bytes = 0;
  uint64_t frees = 0;
};
Counts read(Role role);
Counts operator-(const Counts& a, const Counts& b);

// How many distinct untagged threads have allocated so far (a check that "untagged" means the
// workers: it should equal the proxy's concurrency).
uint64_t untaggedThreads();

constexpr int kMaxFrames = 40;
struct Sample {
  size_t size = 0;
  int depth = 0;
  void* frames[kMaxFrames];
};

// Makes the next `max_samples` allocations on untagged threads record a backtrace. Call once
// before the threads that matter start: the first backtrace() loads the unwinder.
void prepareSampling();
void startSampling(size_t max_samples);
void stopSampling();
// The recorded samples (call after stopSampling()).
std::vector<Sample> samples();

}  // namespace trellis::bench::micro::alloc
