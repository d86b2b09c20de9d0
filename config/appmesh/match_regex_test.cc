// The integer-range and query-parameter expressions against brute force: every number of a span
// around the range, with signs and leading zeros, must match exactly when it is in the range.
#include "config/appmesh/match_regex.h"

#include <cstdint>
#include <limits>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "re2/re2.h"

namespace trellis::config::appmesh::internal {
namespace {

bool fullMatch(const std::string& text, const RE2& re) { return RE2::FullMatch(text, re); }

void expectRange(int64_t start, int64_t end, int64_t from, int64_t to) {
  const std::string pattern = integerRangeRegex(start, end);
  RE2 re(pattern);
  ASSERT_TRUE(re.ok()) << pattern << ": " << re.error();
  for (int64_t n = from; n <= to; ++n) {
    const bool in = n >= start && n < end;
    const std::string text = absl::StrCat(n);
    EXPECT_EQ(fullMatch(text, re), in)
        << "[" << start << ", " << end << ") " << text << " " << pattern;
    // What Envoy's integer parsing also accepts: leading zeros, and '+' on non-negatives.
    const std::string padded = n < 0 ? absl::StrCat("-00", -n) : absl::StrCat("00", n);
    EXPECT_EQ(fullMatch(padded, re), in) << padded << " " << pattern;
    if (n >= 0) {
      EXPECT_EQ(fullMatch(absl::StrCat("+", n), re), in) << pattern;
    }
  }
}

TEST(IntegerRangeRegex, MatchesExactlyTheRangeEndExcluded) {
  const int64_t bounds[] = {-1001, -130, -100, -99, -10, -9,  -1,  0,   1,   2,   9,    10,  11,
                            19,    20,   99,   100, 101, 109, 110, 199, 200, 999, 1000, 1301};
  for (int64_t start : bounds) {
    for (int64_t end : bounds) {
      if (start >= end) continue;
      expectRange(start, end, -1350, 1350);
    }
  }
}

TEST(IntegerRangeRegex, NegativeZeroAndNonNumbers) {
  RE2 re(integerRangeRegex(0, 10));
  EXPECT_TRUE(RE2::FullMatch("-0", re));
  EXPECT_FALSE(RE2::FullMatch("", re));
  EXPECT_FALSE(RE2::FullMatch("+", re));
  EXPECT_FALSE(RE2::FullMatch("5a", re));
  EXPECT_FALSE(RE2::FullMatch("five", re));
  EXPECT_FALSE(RE2::FullMatch("-", re));
  RE2 positive(integerRangeRegex(1, 10));
  EXPECT_FALSE(RE2::FullMatch("-0", positive));
  EXPECT_FALSE(RE2::FullMatch("000", positive));
}

TEST(IntegerRangeRegex, ExtremesOfInt64) {
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  RE2 all(integerRangeRegex(kMin, kMax));
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(RE2::FullMatch("-9223372036854775808", all));
  EXPECT_TRUE(RE2::FullMatch("9223372036854775806", all));
  EXPECT_FALSE(RE2::FullMatch("9223372036854775807", all));  // the end is excluded
  EXPECT_FALSE(RE2::FullMatch("9223372036854775808", all));
  EXPECT_FALSE(RE2::FullMatch("-9223372036854775809", all));
  EXPECT_TRUE(RE2::FullMatch("0", all));

  RE2 lowest(integerRangeRegex(kMin, kMin + 1));
  EXPECT_TRUE(RE2::FullMatch("-9223372036854775808", lowest));
  EXPECT_FALSE(RE2::FullMatch("-9223372036854775807", lowest));
}

TEST(QueryParameterRegex, ExactValue) {
  RE2 re(queryParameterRegex("color", std::string("red")));
  ASSERT_TRUE(re.ok());
  EXPECT_TRUE(RE2::FullMatch("/get?color=red", re));
  EXPECT_TRUE(RE2::FullMatch("/get?a=1&color=red", re));
  EXPECT_TRUE(RE2::FullMatch("/get?color=red&a=1", re));
  EXPECT_FALSE(RE2::FullMatch("/get?color=redder", re));
  EXPECT_FALSE(RE2::FullMatch("/get?xcolor=red", re));
  EXPECT_FALSE(RE2::FullMatch("/get?a=color=red", re));
  EXPECT_FALSE(RE2::FullMatch("/color=red", re));
  EXPECT_FALSE(RE2::FullMatch("/get?color", re));
}

TEST(QueryParameterRegex, PresenceAndSpecialCharacters) {
  RE2 present(queryParameterRegex("a.b", std::nullopt));
  ASSERT_TRUE(present.ok());
  EXPECT_TRUE(RE2::FullMatch("/?a.b", present));
  EXPECT_TRUE(RE2::FullMatch("/?a.b=", present));
  EXPECT_TRUE(RE2::FullMatch("/?x=1&a.b=2&y", present));
  EXPECT_FALSE(RE2::FullMatch("/?axb=1", present));  // '.' is literal
  EXPECT_FALSE(RE2::FullMatch("/?a.bc=1", present));
  EXPECT_FALSE(RE2::FullMatch("/a.b", present));

  RE2 exact(queryParameterRegex("q", std::string("1+1")));
  EXPECT_TRUE(RE2::FullMatch("/?q=1+1", exact));
  EXPECT_FALSE(RE2::FullMatch("/?q=11", exact));
}

}  // namespace
}  // namespace trellis::config::appmesh::internal
