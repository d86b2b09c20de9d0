// Integer ranges and query parameters as RE2 expressions: see match_regex.h.
#include "config/appmesh/match_regex.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "re2/re2.h"

namespace trellis::config::appmesh::internal {

namespace {

std::string digitClass(char low, char high) {
  if (low == high) return std::string(1, low);
  return absl::StrCat("[", std::string(1, low), "-", std::string(1, high), "]");
}

std::string anyDigits(size_t count) {
  return count == 1 ? std::string("[0-9]") : absl::StrCat("[0-9]{", count, "}");
}

bool allOf(const std::string& text, size_t from, char c) {
  for (size_t i = from; i < text.size(); ++i) {
    if (text[i] != c) return false;
  }
  return true;
}

// Patterns for every digit string from `low` to `high`, both of the same length, low <= high.
// Splits on the first differing digit: low's digit followed by anything from low's tail up,
// the digits strictly between followed by anything, high's digit followed by up to high's tail.
void sameLength(const std::string& low, const std::string& high, const std::string& prefix,
                std::vector<std::string>& out) {
  size_t common = 0;
  while (common < low.size() && low[common] == high[common]) ++common;
  if (common == low.size()) {
    out.push_back(prefix + low);
    return;
  }
  const std::string head = prefix + low.substr(0, common);
  const char lowDigit = low[common];
  const char highDigit = high[common];
  const size_t rest = low.size() - common - 1;
  if (rest == 0) {
    out.push_back(head + digitClass(lowDigit, highDigit));
    return;
  }
  const bool lowTailIsZeros = allOf(low, common + 1, '0');
  const bool highTailIsNines = allOf(high, common + 1, '9');
  if (!lowTailIsZeros) {
    sameLength(low.substr(common + 1), std::string(rest, '9'), head + lowDigit, out);
  }
  const char middleLow = lowTailIsZeros ? lowDigit : static_cast<char>(lowDigit + 1);
  const char middleHigh = highTailIsNines ? highDigit : static_cast<char>(highDigit - 1);
  if (middleLow <= middleHigh) {
    out.push_back(head + digitClass(middleLow, middleHigh) + anyDigits(rest));
  }
  if (!highTailIsNines) {
    sameLength(std::string(rest, '0'), high.substr(common + 1), head + highDigit, out);
  }
}

// Patterns for the magnitudes low..high (low <= high), without leading zeros.
std::vector<std::string> unsignedRange(uint64_t low, uint64_t high) {
  const std::string lowText = std::to_string(low);
  const std::string highText = std::to_string(high);
  std::vector<std::string> out;
  for (size_t length = lowText.size(); length <= highText.size(); ++length) {
    const std::string from =
        length == lowText.size() ? lowText : absl::StrCat("1", std::string(length - 1, '0'));
    const std::string to = length == highText.size() ? highText : std::string(length, '9');
    sameLength(from, to, "", out);
  }
  return out;
}

// |n| without overflow for INT64_MIN.
uint64_t magnitude(int64_t n) {
  return n >= 0 ? static_cast<uint64_t>(n) : static_cast<uint64_t>(-(n + 1)) + 1;
}

}  // namespace

std::string integerRangeRegex(int64_t start, int64_t end) {
  const int64_t last = end - 1;  // start < end, so this does not overflow
  std::vector<std::string> alternatives;
  if (start < 0) {
    const uint64_t low = last < 0 ? magnitude(last) : 1;
    alternatives.push_back(
        absl::StrCat("-0*(?:", absl::StrJoin(unsignedRange(low, magnitude(start)), "|"), ")"));
  }
  if (last >= 0) {
    const uint64_t low = start > 0 ? static_cast<uint64_t>(start) : 0;
    alternatives.push_back(absl::StrCat(
        "\\+?0*(?:", absl::StrJoin(unsignedRange(low, static_cast<uint64_t>(last)), "|"), ")"));
    if (start <= 0) alternatives.push_back("-0+");  // "-0" is 0 too
  }
  return absl::StrJoin(alternatives, "|");
}

std::string queryParameterRegex(const std::string& name, const std::optional<std::string>& exact) {
  // Up to '?', then the parameter first or after an '&', then the end or the next parameter.
  const std::string parameter = RE2::QuoteMeta(name);
  const std::string value = exact ? absl::StrCat("=", RE2::QuoteMeta(*exact)) : "(?:=[^&]*)?";
  return absl::StrCat("[^?]*\\?(?:.*&)?", parameter, value, "(?:&.*)?");
}

}  // namespace trellis::config::appmesh::internal
