// x-request-id values: random (version 4) UUIDs written into a caller's 36-byte array.
#pragma once

#include <cstdint>

namespace trellis::proxy::http {

inline void formatUuid4(uint64_t hi, uint64_t lo, char out[36]) {
  static constexpr char kHex[] = "0123456789abcdef";
  hi = (hi & ~0xf000ULL) | 0x4000ULL;                         // version 4
  lo = (lo & ~(0xcULL << 60)) | (0x8ULL << 60);               // RFC 4122 variant
  int pos = 0;
  for (int i = 0; i < 32; ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20) out[pos++] = '-';
    uint64_t word = i < 16 ? hi : lo;
    int shift = 60 - 4 * (i % 16);
    out[pos++] = kHex[(word >> shift) & 0xf];
  }
}

}  // namespace trellis::proxy::http
