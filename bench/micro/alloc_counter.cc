// The replaced global operator new/delete: malloc/free plus per-role counters and sampling.
#include "bench/micro/alloc_counter.h"

#include <execinfo.h>

#include <atomic>
#include <cstdlib>
#include <new>

namespace trellis::bench::micro::alloc {

namespace {

constexpr size_t kRoles = static_cast<size_t>(Role::kCount);
constexpr size_t kSampleCapacity = 20000;

struct alignas(64) RoleCounters {
  std::atomic<uint64_t> allocs{0};
  std::atomic<uint64_t> bytes{0};
  std::atomic<uint64_t> frees{0};
};

RoleCounters g_counters[kRoles];
std::atomic<uint64_t> g_untagged_threads{0};

std::atomic<bool> g_sampling{false};
std::atomic<size_t> g_sample_limit{0};
std::atomic<size_t> g_sample_next{0};
Sample g_samples[kSampleCapacity];

// Plain thread_locals of trivial types in the executable: static TLS, no allocation to reach.
thread_local Role t_role = Role::Untagged;
thread_local bool t_seen = false;
thread_local bool t_in_backtrace = false;

void countAlloc(size_t n) {
  const Role role = t_role;
  RoleCounters& c = g_counters[static_cast<size_t>(role)];
  c.allocs.fetch_add(1, std::memory_order_relaxed);
  c.bytes.fetch_add(n, std::memory_order_relaxed);
  if (role != Role::Untagged) return;
  if (!t_seen) {
    t_seen = true;
    g_untagged_threads.fetch_add(1, std::memory_order_relaxed);
  }
  if (!g_sampling.load(std::memory_order_relaxed) || t_in_backtrace) return;
  const size_t i = g_sample_next.fetch_add(1, std::memory_order_relaxed);
  if (i >= g_sample_limit.load(std::memory_order_relaxed)) return;
  t_in_backtrace = true;
  g_samples[i].size = n;
  g_samples[i].depth = backtrace(g_samples[i].frames, kMaxFrames);
  t_in_backtrace = false;
}

void countFree(void* p) {
  if (p == nullptr) return;
  g_counters[static_cast<size_t>(t_role)].frees.fetch_add(1, std::memory_order_relaxed);
}

void* allocate(size_t n) {
  countAlloc(n);
  void* p = std::malloc(n == 0 ? 1 : n);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

void* allocateAligned(size_t n, std::align_val_t align) {
  countAlloc(n);
  void* p = nullptr;
  size_t a = static_cast<size_t>(align);
  if (a < sizeof(void*)) a = sizeof(void*);
  if (posix_memalign(&p, a, n == 0 ? 1 : n) != 0) throw std::bad_alloc();
  return p;
}

void release(void* p) {
  countFree(p);
  std::free(p);
}

}  // namespace

const char* roleName(Role role) {
  switch (role) {
    case Role::Untagged: return "proxy workers (untagged threads)";
    case Role::ProxyMain: return "proxy main thread";
    case Role::Client: return "client threads";
    case Role::Upstream: return "upstream threads";
    case Role::Harness: return "harness";
    case Role::kCount: break;
  }
  return "?";
}

void setThreadRole(Role role) { t_role = role; }

Counts read(Role role) {
  const RoleCounters& c = g_counters[static_cast<size_t>(role)];
  return Counts{c.allocs.load(std::memory_order_relaxed), c.bytes.load(std::memory_order_relaxed),
                c.frees.load(std::memory_order_relaxed)};
}

Counts operator-(const Counts& a, const Counts& b) {
  return Counts{a.allocs - b.allocs, a.bytes - b.bytes, a.frees - b.frees};
}

uint64_t untaggedThreads() { return g_untagged_threads.load(std::memory_order_relaxed); }

void prepareSampling() {
  void* frames[4];
  backtrace(frames, 4);
}

void startSampling(size_t max_samples) {
  g_sample_limit.store(max_samples < kSampleCapacity ? max_samples : kSampleCapacity, std::memory_order_relaxed);
  g_sample_next.store(0, std::memory_order_relaxed);
  g_sampling.store(true, std::memory_order_release);
}

void stopSampling() { g_sampling.store(false, std::memory_order_release); }

std::vector<Sample> samples() {
  size_t n = g_sample_next.load(std::memory_order_acquire);
  size_t limit = g_sample_limit.load(std::memory_order_relaxed);
  if (n > limit) n = limit;
  return std::vector<Sample>(g_samples, g_samples + n);
}

}  // namespace trellis::bench::micro::alloc

// ---- the replacements (global namespace, every standard form) -------------------------------

using trellis::bench::micro::alloc::allocate;
using trellis::bench::micro::alloc::allocateAligned;
using trellis::bench::micro::alloc::release;

void* operator new(size_t n) { return allocate(n); }
void* operator new[](size_t n) { return allocate(n); }
void* operator new(size_t n, const std::nothrow_t&) noexcept {
  try {
    return allocate(n);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](size_t n, const std::nothrow_t&) noexcept {
  try {
    return allocate(n);
  } catch (...) {
    return nullptr;
  }
}
void* operator new(size_t n, std::align_val_t a) { return allocateAligned(n, a); }
void* operator new[](size_t n, std::align_val_t a) { return allocateAligned(n, a); }
void* operator new(size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  try {
    return allocateAligned(n, a);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  try {
    return allocateAligned(n, a);
  } catch (...) {
    return nullptr;
  }
}

void operator delete(void* p) noexcept { release(p); }
void operator delete[](void* p) noexcept { release(p); }
void operator delete(void* p, size_t) noexcept { release(p); }
void operator delete[](void* p, size_t) noexcept { release(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { release(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { release(p); }
void operator delete(void* p, std::align_val_t) noexcept { release(p); }
void operator delete[](void* p, std::align_val_t) noexcept { release(p); }
void operator delete(void* p, size_t, std::align_val_t) noexcept { release(p); }
void operator delete[](void* p, size_t, std::align_val_t) noexcept { release(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { release(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { release(p); }
