// Settings and iptables-save text -> iptables-restore text. See capture_rules.h.
#include "deploy/init/capture_rules.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace trellis::deploy {
namespace {

bool ownedChain(absl::string_view chain) { return absl::StartsWith(chain, kOwnedChainPrefix); }

// True when the rule's words include `--comment trellis-init` (quoted or not).
bool carriesJumpComment(absl::string_view rule) {
  std::vector<absl::string_view> words = absl::StrSplit(rule, ' ', absl::SkipEmpty());
  for (size_t i = 0; i + 1 < words.size(); ++i) {
    if (words[i] == "--comment" && (words[i + 1] == kJumpComment ||
                                    words[i + 1] == absl::StrCat("\"", kJumpComment, "\""))) {
      return true;
    }
  }
  return false;
}

std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

// Removes from `from` one copy of each line in `what` (a multiset difference).
std::vector<std::string> without(std::vector<std::string> from, const std::vector<std::string>& what) {
  for (const std::string& line : what) {
    if (auto it = std::find(from.begin(), from.end(), line); it != from.end()) from.erase(it);
  }
  return from;
}

std::string jumpRule(const char* builtin, const char* addrtype, const char* chain) {
  return absl::StrCat("-A ", builtin, " -p tcp -m addrtype ! ", addrtype, " LOCAL -m comment --comment ",
                      kJumpComment, " -j ", chain);
}

}  // namespace

const char* familyName(Family f) { return f == Family::kIpv4 ? "IPv4" : "IPv6"; }

bool OwnedRules::operator==(const OwnedRules& other) const {
  return chains == other.chains && sorted(jumps) == sorted(other.jumps);
}

std::vector<std::string> portGroups(const std::vector<uint16_t>& ports, size_t max_per_group) {
  std::vector<std::string> groups;
  for (size_t i = 0; i < ports.size(); i += max_per_group) {
    size_t end = std::min(ports.size(), i + max_per_group);
    groups.push_back(absl::StrJoin(ports.begin() + i, ports.begin() + end, ","));
  }
  return groups;
}

OwnedRules ownedRulesIn(std::string_view iptables_save) {
  OwnedRules owned;
  // Only the *nat table counts; text without any table header is taken as nat (test samples).
  bool saw_table = false, in_nat = false;
  for (absl::string_view line : absl::StrSplit(absl::string_view(iptables_save.data(), iptables_save.size()), '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    if (line[0] == '*') {
      saw_table = true;
      in_nat = line == "*nat";
      continue;
    }
    if (line == "COMMIT") {
      in_nat = false;
      continue;
    }
    if (saw_table && !in_nat) continue;
    if (line[0] == '[') {  // counters from iptables-save -c: "[12:720] -A ..."
      auto close = line.find("] ");
      if (close == absl::string_view::npos) continue;
      line.remove_prefix(close + 2);
    }
    if (line[0] == ':') {
      absl::string_view chain = line.substr(1, line.find(' ') - 1);
      if (ownedChain(chain)) owned.chains[std::string(chain)];
      continue;
    }
    if (absl::StartsWith(line, "-A ")) {
      absl::string_view rest = line.substr(3);
      absl::string_view chain = rest.substr(0, rest.find(' '));
      if (ownedChain(chain)) {
        owned.chains[std::string(chain)].emplace_back(line);
      } else if (carriesJumpComment(line)) {
        owned.jumps.emplace_back(line);
      }
    }
  }
  return owned;
}

OwnedRules desiredRules(const CaptureSettings& s, Family family) {
  OwnedRules rules;
  const std::string egress_prefix = absl::StrCat("-A ", kEgressChain, " ");
  std::vector<std::string>& egress = rules.chains[kEgressChain];
  egress.push_back(absl::StrCat(egress_prefix, "-m owner --uid-owner ", s.ignore_uid, " -j RETURN"));
  if (s.ignore_gid) egress.push_back(absl::StrCat(egress_prefix, "-m owner --gid-owner ", *s.ignore_gid, " -j RETURN"));
  for (const Network& net : s.egress_ignored_networks) {
    if (net.ipv6 == (family == Family::kIpv6)) egress.push_back(absl::StrCat(egress_prefix, "-d ", net.cidr, " -j RETURN"));
  }
  for (const std::string& group : portGroups(s.egress_ignored_ports)) {
    egress.push_back(absl::StrCat(egress_prefix, "-p tcp -m multiport --dports ", group, " -j RETURN"));
  }
  egress.push_back(absl::StrCat(egress_prefix, "-p tcp -j REDIRECT --to-ports ", s.egress_port));
  rules.jumps.push_back(jumpRule("OUTPUT", "--dst-type", kEgressChain));

  if (!s.app_ports.empty()) {
    std::vector<std::string>& ingress = rules.chains[kIngressChain];
    for (const std::string& group : portGroups(s.app_ports)) {
      ingress.push_back(absl::StrCat("-A ", kIngressChain, " -p tcp -m multiport --dports ", group,
                                     " -j REDIRECT --to-ports ", s.ingress_port));
    }
    rules.jumps.insert(rules.jumps.begin(), jumpRule("PREROUTING", "--src-type", kIngressChain));
  }
  return rules;
}

std::string transition(const OwnedRules& current, const OwnedRules& target) {
  if (current == target) return "";
  std::string out = "*nat\n";
  // Declaring a chain creates it, or flushes it when it exists; then its rules are written anew.
  for (const auto& [chain, rules] : target.chains) absl::StrAppend(&out, ":", chain, " - [0:0]\n");
  for (const auto& [chain, rules] : target.chains) {
    for (const std::string& rule : rules) absl::StrAppend(&out, rule, "\n");
  }
  // Jumps: delete the ones the target has not (or has fewer of), append the missing ones.
  for (const std::string& rule : without(current.jumps, target.jumps)) {
    absl::StrAppend(&out, "-D", absl::StripPrefix(rule, "-A"), "\n");
  }
  for (const std::string& rule : without(target.jumps, current.jumps)) absl::StrAppend(&out, rule, "\n");
  // Chains no longer wanted go last, once nothing of ours jumps to them.
  for (const auto& [chain, rules] : current.chains) {
    if (!target.chains.contains(chain)) absl::StrAppend(&out, "-F ", chain, "\n-X ", chain, "\n");
  }
  absl::StrAppend(&out, "COMMIT\n");
  return out;
}

std::string installInput(const CaptureSettings& settings, Family family, std::string_view current_save) {
  return transition(ownedRulesIn(current_save), desiredRules(settings, family));
}

std::string cleanInput(std::string_view current_save) { return transition(ownedRulesIn(current_save), {}); }

}  // namespace trellis::deploy
