// trellis-init: installs (or with --clean removes) the iptables rules that send a sidecar's
// application traffic through trellis-proxy, from the environment App Mesh's proxy route manager
// read. The decisions are in capture_settings and capture_rules; this file only reads flags, runs
// iptables-save / iptables-restore (and the ip6tables pair) and undoes a half-finished install.
//
//   trellis-init [--clean] [--dry-run] [--version] [--help]
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "deploy/init/capture_rules.h"
#include "deploy/init/capture_settings.h"
#include "deploy/init/command.h"
#include "version/trellis_version.h"

namespace trellis::deploy {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitIptables = 1;
constexpr int kExitUsage = 2;

void say(const std::string& message) { std::cerr << "trellis-init: " << message << "\n"; }

void printHelp() {
  std::cout << "NAME\n"
               "    trellis-init - install the iptables rules that capture a sidecar's traffic for trellis-proxy\n"
               "\n"
               "SYNOPSIS\n"
               "    trellis-init [--clean] [--dry-run]\n"
               "    trellis-init --version | --help\n"
               "\n"
               "DESCRIPTION\n"
               "    Installs, in the nat table of the current network namespace, a TRELLIS_EGRESS chain that\n"
               "    redirects outbound TCP to the proxy's egress port (except the proxy's own UID/GID, ignored\n"
               "    networks and ports, and port 22) and, when application ports are given, a TRELLIS_INGRESS\n"
               "    chain that redirects inbound TCP to them to the proxy's ingress port. The jumps from OUTPUT\n"
               "    and PREROUTING carry the comment \"trellis-init\". Each address family is changed in one\n"
               "    iptables-restore --noflush transaction; running it again changes nothing; if the IPv6 part\n"
               "    fails, the IPv4 part is undone. Settings come from the environment; each has an App Mesh\n"
               "    name and a Trellis name, and setting both to different values is refused. Empty values\n"
               "    count as unset.\n"
               "\n"
               "OPTIONS\n"
               "    --clean    Remove the trellis-init jumps and the TRELLIS_* chains (IPv4, and IPv6 when\n"
               "               ip6tables works). Reads no variables. Succeeds when nothing is installed.\n"
               "    --dry-run  Print the settings and the iptables-restore input that would be applied; apply\n"
               "               nothing. Without iptables-save, prints the complete install input.\n"
               "    --version  Print the version and exit.\n"
               "    --help     This text.\n"
               "\n"
               "ENVIRONMENT\n";
  for (const SettingVariable& v : settingVariables()) {
    std::string names = *v.appmesh_name ? absl::StrCat(v.appmesh_name, ", ", v.trellis_name) : v.trellis_name;
    std::cout << "    " << names << "  (default: " << v.default_text << ")\n        " << v.meaning << "\n";
  }
  std::cout << "\n"
               "EXIT STATUS\n"
               "    0  done (or capture disabled)\n"
               "    1  iptables failed; nothing is left half-installed\n"
               "    2  bad settings or usage; nothing was changed\n";
}

struct Tools {
  const char* save;
  const char* restore;
};

Tools toolsFor(Family f) {
  return f == Family::kIpv4 ? Tools{"iptables-save", "iptables-restore"} : Tools{"ip6tables-save", "ip6tables-restore"};
}

std::string failure(const char* what, const CommandResult& r) {
  if (!r.started) return r.error;
  std::string detail = r.err.empty() ? r.out : r.err;
  while (!detail.empty() && detail.back() == '\n') detail.pop_back();
  return absl::StrCat(what, " exited with ", r.exit_code, detail.empty() ? "" : ": ", detail);
}

// The family's nat table as iptables-save prints it, or why it could not be read.
std::optional<std::string> readNat(Family f, std::string* why) {
  const char* save = toolsFor(f).save;
  CommandResult r = runCommand({save, "-t", "nat"}, "");
  if (!r.ok()) {
    *why = failure(save, r);
    return std::nullopt;
  }
  return r.out;
}

bool apply(Family f, const std::string& input, std::string* why) {
  const char* restore = toolsFor(f).restore;
  CommandResult r = runCommand({restore, "-w", "--noflush"}, input);
  if (!r.ok()) *why = failure(restore, r);
  return r.ok();
}

bool namespaceHasIpv6() {
  std::ifstream in("/proc/net/if_inet6");
  std::string line;
  return in && std::getline(in, line) && !line.empty();
}

// One family's work: the state before, and the restore input.
struct Step {
  Family family;
  std::string before;
  std::string input;
};

// Puts back what Trellis owned before, in the families already changed, so nothing stays
// half-installed. Returns false when the undo itself failed.
bool undo(const std::vector<Step>& done) {
  bool ok = true;
  for (const Step& step : done) {
    std::string why;
    auto after = readNat(step.family, &why);
    std::string input = after ? transition(ownedRulesIn(*after), ownedRulesIn(step.before)) : "";
    if (!after || (!input.empty() && !apply(step.family, input, &why))) {
      say(absl::StrCat("undoing the ", familyName(step.family), " change failed: ", why));
      ok = false;
    } else {
      say(absl::StrCat("undid the ", familyName(step.family), " change"));
    }
  }
  return ok;
}

int runSteps(const std::vector<Step>& steps, bool dry_run, const char* verb) {
  if (dry_run) {
    for (const Step& step : steps) {
      const Tools tools = toolsFor(step.family);
      if (step.input.empty()) {
        std::cout << "# " << familyName(step.family) << ": nothing to change\n";
      } else {
        std::cout << "# " << familyName(step.family) << ": " << tools.restore << " -w --noflush <<EOF\n"
                  << step.input << "EOF\n";
      }
    }
    return kExitOk;
  }
  std::vector<Step> done;
  for (const Step& step : steps) {
    if (step.input.empty()) {
      say(absl::StrCat(familyName(step.family), ": already ", verb, ", nothing to change"));
      continue;
    }
    std::string why;
    if (!apply(step.family, step.input, &why)) {
      say(absl::StrCat(familyName(step.family), ": ", why));
      undo(done);
      return kExitIptables;
    }
    done.push_back(step);
    say(absl::StrCat(familyName(step.family), ": ", verb));
  }
  return kExitOk;
}

int clean(bool dry_run) {
  std::vector<Step> steps;
  std::string why;
  auto v4 = readNat(Family::kIpv4, &why);
  if (!v4) {
    say(absl::StrCat("cannot read the IPv4 nat table: ", why));
    return kExitIptables;
  }
  steps.push_back({Family::kIpv4, *v4, cleanInput(*v4)});
  if (auto v6 = readNat(Family::kIpv6, &why)) {
    steps.push_back({Family::kIpv6, *v6, cleanInput(*v6)});
  } else {
    say(absl::StrCat("IPv6: nothing to clean, ip6tables' nat table is not available (", why, ")"));
  }
  return runSteps(steps, dry_run, "cleaned");
}

int install(const CaptureSettings& settings, bool dry_run) {
  if (dry_run) std::cout << "# settings\n" << describeSettings(settings);
  std::vector<Step> steps;
  std::string why;
  auto v4 = readNat(Family::kIpv4, &why);
  if (!v4) {
    if (!dry_run) {
      say(absl::StrCat("cannot read the IPv4 nat table: ", why));
      return kExitIptables;
    }
    std::cout << "# iptables-save failed (" << why << "); showing the complete install\n";
  }
  steps.push_back({Family::kIpv4, v4.value_or(""), installInput(settings, Family::kIpv4, v4.value_or(""))});

  if (settings.ipv6 != Ipv6Mode::kOff) {
    auto v6 = readNat(Family::kIpv6, &why);
    if (settings.ipv6 == Ipv6Mode::kOn && !v6 && !dry_run) {
      say(absl::StrCat("TRELLIS_ENABLE_IPV6=1 but ip6tables' nat table is not available: ", why));
      return kExitIptables;
    }
    bool has_ipv6 = namespaceHasIpv6();
    if (settings.ipv6 == Ipv6Mode::kOn || (has_ipv6 && v6)) {
      if (!v6) std::cout << "# ip6tables-save failed (" << why << "); showing the complete install\n";
      steps.push_back({Family::kIpv6, v6.value_or(""), installInput(settings, Family::kIpv6, v6.value_or(""))});
    } else {
      say(!has_ipv6 ? "IPv6: skipped, the namespace has no IPv6 addresses (TRELLIS_ENABLE_IPV6=auto)"
                    : absl::StrCat("IPv6: skipped, ip6tables' nat table is not available (", why, ")"));
    }
  }
  return runSteps(steps, dry_run, "installed");
}

int run(int argc, char** argv) {
  bool clean_flag = false, dry_run = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      printHelp();
      return kExitOk;
    } else if (arg == "--version") {
      std::cout << "trellis-init " << kVersion << "\n";
      return kExitOk;
    } else if (arg == "--clean") {
      clean_flag = true;
    } else if (arg == "--dry-run") {
      dry_run = true;
    } else {
      say(absl::StrCat("unknown argument \"", arg, "\"; usage: trellis-init [--clean] [--dry-run] [--version] [--help]"));
      return kExitUsage;
    }
  }
  if (clean_flag) return clean(dry_run);

  auto settings = parseCaptureSettings([](const char* name) { return std::getenv(name); });
  if (!settings.ok()) {
    say(absl::StrCat(settings.status().message(), "; nothing was changed"));
    return kExitUsage;
  }
  if (!settings->enabled) {
    say("capture is disabled (APPMESH_START_ENABLED / TRELLIS_CAPTURE_ENABLED is 0); nothing was changed");
    return kExitOk;
  }
  return install(*settings, dry_run);
}

}  // namespace
}  // namespace trellis::deploy

int main(int argc, char** argv) { return trellis::deploy::run(argc, argv); }
