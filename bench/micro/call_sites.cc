// Symbolization (addr2line for the executable, dladdr for shared libraries) and grouping.
#include "bench/micro/call_sites.h"

#include <cxxabi.h>
#include <dlfcn.h>
#include <elf.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <tuple>
#include <string_view>
#include <utility>

namespace trellis::bench::micro {

namespace {

struct Location {
  std::string function;
  std::string file;  // empty when unknown
  int line = 0;
};
using Frame = std::vector<Location>;  // innermost inline expansion first

std::string exePath() {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) return {};
  return std::string(buf, static_cast<size_t>(n));
}

// addr2line wants file offsets for a position-independent executable, addresses otherwise.
bool isPie(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  Elf64_Ehdr eh{};
  in.read(reinterpret_cast<char*>(&eh), sizeof(eh));
  return in && eh.e_type == ET_DYN;
}

std::string demangle(const char* name) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> d(abi::__cxa_demangle(name, nullptr, nullptr, &status), std::free);
  return status == 0 && d ? std::string(d.get()) : std::string(name);
}

// "trellis::proxy::DownstreamSession::relayResponse(trellis::proxy::Cluster const&, ...) [clone .actor]"
// -> "DownstreamSession::relayResponse() [clone .actor]": the outermost trailing parameter
// list is emptied and the project's namespace dropped, so names fit a table row.
std::string shorten(std::string name) {
  for (std::string_view ns : {"trellis::proxy::", "trellis::"}) {
    for (size_t p; (p = name.find(ns)) != std::string::npos;) name.erase(p, ns.size());
  }
  size_t end = name.size();
  std::string suffix;
  if (size_t c = name.rfind(" [clone "); c != std::string::npos) {
    suffix = name.substr(c);
    end = c;
  }
  while (end > 0 && name.compare(end >= 6 ? end - 6 : 0, 6, " const") == 0) end -= 6;
  if (end > 0 && name[end - 1] == ')') {
    int depth = 0;
    for (size_t i = end; i-- > 0;) {
      if (name[i] == ')') ++depth;
      if (name[i] == '(' && --depth == 0) {
        name = name.substr(0, i) + "()" + suffix;
        return name.size() > 140 ? name.substr(0, 137) + "..." : name;
      }
    }
  }
  return name.size() > 140 ? name.substr(0, 137) + "..." : name;
}

// Runs addr2line once over `addrs` (already adjusted) and returns one Frame per address.
std::map<uintptr_t, Frame> addr2line(const std::string& exe, const std::vector<uintptr_t>& addrs) {
  std::map<uintptr_t, Frame> out;
  const size_t kBatch = 400;
  for (size_t first = 0; first < addrs.size(); first += kBatch) {
    std::string cmd = "addr2line -a -f -C -i -e '" + exe + "'";
    char hex[32];
    for (size_t i = first; i < std::min(addrs.size(), first + kBatch); ++i) {
      std::snprintf(hex, sizeof(hex), " 0x%lx", static_cast<unsigned long>(addrs[i]));
      cmd += hex;
    }
    FILE* f = popen(cmd.c_str(), "r");
    if (!f) return out;
    char line[8192];
    Frame* current = nullptr;
    std::string function;
    bool want_function = true;
    while (std::fgets(line, sizeof(line), f)) {
      std::string s(line);
      while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
      if (s.rfind("0x", 0) == 0 && want_function) {
        current = &out[std::strtoul(s.c_str(), nullptr, 16)];
        continue;
      }
      if (!current) continue;
      if (want_function) {
        function = s;
        want_function = false;
        continue;
      }
      want_function = true;
      Location loc;
      loc.function = function;
      if (size_t d = s.find(" (discriminator"); d != std::string::npos) s.resize(d);
      size_t colon = s.rfind(':');
      if (colon != std::string::npos && s.compare(0, 2, "??") != 0) {
        loc.file = s.substr(0, colon);
        loc.line = std::atoi(s.c_str() + colon + 1);
      }
      current->push_back(std::move(loc));
    }
    pclose(f);
  }
  return out;
}

// The counting operator new itself. Inlined frames carry unqualified names, so the source file
// is the reliable mark.
bool isHook(const Location& l) {
  return l.file.find("bench/micro/alloc_counter.cc") != std::string::npos ||
         l.function.find("bench::micro::alloc") != std::string::npos || l.function.rfind("operator new", 0) == 0 ||
         l.function.find("backtrace") != std::string::npos;
}

bool isProxy(const Location& l) {
  // Bazel compiles with paths relative to the workspace: "proxy/net/downstream_session.cc".
  return l.file.rfind("proxy/", 0) == 0 || l.file.find("/proxy/") != std::string::npos;
}

std::string describe(const Location& l) {
  std::string s = shorten(l.function);
  if (!l.file.empty()) {
    std::string file = l.file;
    if (size_t p = file.rfind("/proxy/"); p != std::string::npos) file = file.substr(p + 1);
    s += " [" + file + ":" + std::to_string(l.line) + "]";
  }
  return s;
}

}  // namespace

std::vector<CallSite> groupCallSites(const std::vector<alloc::Sample>& samples) {
  const std::string exe = exePath();
  const bool pie = isPie(exe);
  Dl_info self{};
  dladdr(reinterpret_cast<void*>(&groupCallSites), &self);
  const uintptr_t exe_base = reinterpret_cast<uintptr_t>(self.dli_fbase);

  // Return addresses point after the call: look up the call instruction itself (addr - 1).
  std::set<uintptr_t> unique;
  for (const auto& s : samples) {
    for (int i = 0; i < s.depth; ++i) unique.insert(reinterpret_cast<uintptr_t>(s.frames[i]) - 1);
  }
  std::map<uintptr_t, Frame> frames;
  std::vector<uintptr_t> in_exe;
  for (uintptr_t a : unique) {
    Dl_info info{};
    if (dladdr(reinterpret_cast<void*>(a), &info) != 0 && reinterpret_cast<uintptr_t>(info.dli_fbase) == exe_base) {
      in_exe.push_back(pie ? a - exe_base : a);
      continue;
    }
    Location loc;
    if (info.dli_sname) {
      loc.function = demangle(info.dli_sname);
    } else {
      char buf[64];
      const uintptr_t offset = a - reinterpret_cast<uintptr_t>(info.dli_fbase);
      std::snprintf(buf, sizeof(buf), "+0x%lx", static_cast<unsigned long>(offset));
      loc.function = std::string(info.dli_fname ? info.dli_fname : "?") + buf;
    }
    if (info.dli_fname) {
      std::string lib = info.dli_fname;
      loc.function += " (" + lib.substr(lib.rfind('/') + 1) + ")";
    }
    frames[a] = {loc};
  }
  for (auto& [a, f] : addr2line(exe, in_exe)) frames[pie ? a + exe_base : a] = std::move(f);

  // Keyed by site, via and the next proxy frame out: the same line reached from two callers
  // (the request's and the response's head, say) stays two rows.
  std::map<std::tuple<std::string, std::string, std::string>, CallSite> groups;
  for (const auto& s : samples) {
    std::vector<const Location*> locs;
    for (int i = 0; i < s.depth; ++i) {
      auto it = frames.find(reinterpret_cast<uintptr_t>(s.frames[i]) - 1);
      if (it == frames.end()) continue;
      for (const auto& l : it->second) locs.push_back(&l);
    }
    size_t first = 0;
    while (first < locs.size() && isHook(*locs[first])) ++first;
    std::string via = first < locs.size() ? shorten(locs[first]->function) : "?";
    std::string site = "(no frame under proxy/)";
    std::string chain;
    int chained = 0;
    bool found = false;
    std::string last;
    std::string caller;
    for (size_t i = first; i < locs.size() && chained < 3; ++i) {
      if (!isProxy(*locs[i])) continue;
      std::string d = describe(*locs[i]);
      if (!found) {
        site = d;
        found = true;
        last = shorten(locs[i]->function);
        continue;
      }
      std::string fn = shorten(locs[i]->function);
      if (fn == last) continue;
      if (chain.empty()) caller = d;
      chain += (chain.empty() ? "" : " <- ") + d;
      last = fn;
      ++chained;
    }
    CallSite& g = groups[{site, via, caller}];
    g.site = site;
    g.via = via;
    if (g.chain.empty()) g.chain = chain;
    ++g.count;
    g.bytes += s.size;
  }
  std::vector<CallSite> out;
  for (auto& [k, g] : groups) out.push_back(std::move(g));
  std::stable_sort(out.begin(), out.end(), [](const CallSite& a, const CallSite& b) { return a.count > b.count; });
  return out;
}

}  // namespace trellis::bench::micro
