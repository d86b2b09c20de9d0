// The tests' own HTTP head parser.
#include "tests/support/http_head.h"

#include <cctype>

namespace trellis::tests {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

bool equalsNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::string toLower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

const std::string* HttpHead::find(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (equalsNoCase(n, name)) return &v;
  }
  return nullptr;
}

size_t HttpHead::count(std::string_view name) const {
  size_t n = 0;
  for (const auto& h : headers) n += equalsNoCase(h.first, name) ? 1 : 0;
  return n;
}

bool HttpHead::hasToken(std::string_view name, std::string_view token) const {
  for (const auto& [n, v] : headers) {
    if (!equalsNoCase(n, name)) continue;
    std::string_view rest = v;
    while (!rest.empty()) {
      size_t comma = rest.find(',');
      if (equalsNoCase(trim(rest.substr(0, comma)), token)) return true;
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  return false;
}

bool parseHttpHead(std::string_view raw, HttpHead& out) {
  out = HttpHead{};
  if (raw.size() < 4 || raw.substr(raw.size() - 4) != "\r\n\r\n") return false;
  raw.remove_suffix(2);  // keep one CRLF after the last line
  size_t eol = raw.find("\r\n");
  out.start_line = std::string(raw.substr(0, eol));
  if (out.start_line.empty()) return false;
  raw.remove_prefix(eol + 2);
  while (!raw.empty()) {
    eol = raw.find("\r\n");
    std::string_view line = raw.substr(0, eol);
    raw.remove_prefix(eol + 2);
    if (line.empty() || line.front() == ' ' || line.front() == '\t') return false;  // obs-fold
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return false;
    std::string_view name = line.substr(0, colon);
    if (name.find_first_of(" \t") != std::string_view::npos) return false;
    out.headers.emplace_back(std::string(name), std::string(trim(line.substr(colon + 1))));
  }
  return true;
}

}  // namespace trellis::tests
