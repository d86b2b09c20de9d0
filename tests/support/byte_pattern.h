// A deterministic byte stream for large bodies: the writer generates it block by block, the
// reader checks it byte by byte, and neither ever holds the whole body.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace trellis::tests {

inline char patternByte(uint64_t offset) {
  // Not periodic at any power-of-two block size, so a dropped or repeated block is caught.
  return static_cast<char>('a' + (offset + offset / 4093) % 26);
}

inline void fillPattern(char* out, size_t n, uint64_t offset) {
  for (size_t i = 0; i < n; ++i) out[i] = patternByte(offset + i);
}

class PatternCheck {
 public:
  void feed(std::string_view s) {
    for (char c : s) {
      if (c != patternByte(bytes_)) ++mismatches_;
      ++bytes_;
    }
  }
  uint64_t bytes() const { return bytes_; }
  uint64_t mismatches() const { return mismatches_; }

 private:
  uint64_t bytes_ = 0;
  uint64_t mismatches_ = 0;
};

}  // namespace trellis::tests
