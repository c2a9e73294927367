// CRC32C with run-time dispatch. The hardware path runs three interleaved crc32 streams over long
// inputs, so the instruction's 3-cycle latency is hidden (one 8-byte step per cycle instead of one per
// three), and merges them with a carry-less multiply (PCLMULQDQ); short inputs use one stream. The
// table-driven fallback gives the same values.
#include "core/crc32c.h"

#include <cstring>

#if defined(__x86_64__) || defined(_M_X64)
#include <nmmintrin.h>
#include <wmmintrin.h>
#define CMM_X86 1
#endif

namespace cmm {
namespace {

constexpr uint32_t kPoly = 0x82F63B78u;  // CRC32C, bit-reflected

uint32_t g_table[8][256];

void build_table() {
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ kPoly : c >> 1;
    g_table[0][i] = c;
  }
  for (uint32_t i = 0; i < 256; i++)
    for (int t = 1; t < 8; t++) g_table[t][i] = (g_table[t - 1][i] >> 8) ^ g_table[0][g_table[t - 1][i] & 0xff];
}

uint32_t crc_soft(const uint8_t* p, size_t n, uint32_t crc) {
  crc = ~crc;
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    w ^= crc;
    crc = g_table[7][w & 0xff] ^ g_table[6][(w >> 8) & 0xff] ^ g_table[5][(w >> 16) & 0xff] ^
          g_table[4][(w >> 24) & 0xff] ^ g_table[3][(w >> 32) & 0xff] ^ g_table[2][(w >> 40) & 0xff] ^
          g_table[1][(w >> 48) & 0xff] ^ g_table[0][w >> 56];
    p += 8;
    n -= 8;
  }
  while (n--) crc = (crc >> 8) ^ g_table[0][(crc ^ *p++) & 0xff];
  return ~crc;
}

// GF(2) polynomials mod the CRC32C polynomial, bit-reflected (bit 31 = x^0): a * b, and x^n.
uint32_t mult_mod(uint32_t a, uint32_t b) {
  uint32_t product = 0;
  for (uint32_t m = 1u << 31; m != 0; m >>= 1) {
    if (a & m) product ^= b;
    b = (b & 1) ? (b >> 1) ^ kPoly : b >> 1;  // b *= x
  }
  return product;
}
uint32_t x_pow_mod(uint64_t n) {
  uint32_t result = 1u << 31, base = 1u << 30;  // 1, x
  for (; n != 0; n >>= 1, base = mult_mod(base, base))
    if (n & 1) result = mult_mod(result, base);
  return result;
}

// Three-stream block sizes (bytes per stream) and the constants that shift a stream's register over the
// bytes after it: reg * x^(8 len) mod P = crc32_u64(0, clmul(reg, x^(8 len - 33) mod P)). (clmul of two
// reflected 32-bit values is the product times x; crc32_u64(0, v) is v * x^32 mod P.)
constexpr size_t kLong = 8192;
constexpr size_t kShort = 256;
struct ShiftConstants {
  uint64_t long1, long2, short1, short2;  // shift by one / two blocks
};

#ifdef CMM_X86
__attribute__((target("sse4.2"))) uint32_t crc_hw(const uint8_t* p, size_t n, uint32_t crc) {
  uint64_t c = ~crc & 0xffffffffu;
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    c = _mm_crc32_u64(c, w);
    p += 8;
    n -= 8;
  }
  uint32_t c32 = static_cast<uint32_t>(c);
  while (n--) c32 = _mm_crc32_u8(c32, *p++);
  return ~c32;
}

__attribute__((target("sse4.2,pclmul"))) inline uint64_t shift_crc(uint64_t reg, uint64_t k) {
  const __m128i product = _mm_clmulepi64_si128(_mm_cvtsi64_si128(static_cast<int64_t>(reg)),
                                               _mm_cvtsi64_si128(static_cast<int64_t>(k)), 0);
  return static_cast<uint64_t>(_mm_cvtsi128_si64(product));
}

// Blocks of 3 * len bytes as three independent streams, merged: a * x^(16 len) + b * x^(8 len) + c.
template <size_t kLen>
__attribute__((target("sse4.2,pclmul"))) inline uint64_t crc_blocks(const uint8_t*& p, size_t& n, uint64_t c,
                                                                     uint64_t k1, uint64_t k2) {
  while (n >= 3 * kLen) {
    uint64_t a = c, b = 0, d = 0;
    for (size_t i = 0; i < kLen; i += 8) {
      uint64_t wa, wb, wd;
      std::memcpy(&wa, p + i, 8);
      std::memcpy(&wb, p + kLen + i, 8);
      std::memcpy(&wd, p + 2 * kLen + i, 8);
      a = _mm_crc32_u64(a, wa);
      b = _mm_crc32_u64(b, wb);
      d = _mm_crc32_u64(d, wd);
    }
    c = d ^ _mm_crc32_u64(0, shift_crc(a, k2) ^ shift_crc(b, k1));
    p += 3 * kLen;
    n -= 3 * kLen;
  }
  return c;
}

__attribute__((target("sse4.2,pclmul"))) uint32_t crc_hw3(const uint8_t* p, size_t n, uint32_t crc,
                                                          const ShiftConstants& k) {
  uint64_t c = ~crc & 0xffffffffu;
  c = crc_blocks<kLong>(p, n, c, k.long1, k.long2);
  c = crc_blocks<kShort>(p, n, c, k.short1, k.short2);
  return crc_hw(p, n, ~static_cast<uint32_t>(c));
}
#endif

struct Dispatch {
  bool hw = false;
  bool clmul = false;
  ShiftConstants k{};
  Dispatch() {
    build_table();
#ifdef CMM_X86
    hw = __builtin_cpu_supports("sse4.2");
    clmul = hw && __builtin_cpu_supports("pclmul");
#endif
    k = {x_pow_mod(8 * kLong - 33), x_pow_mod(16 * kLong - 33), x_pow_mod(8 * kShort - 33),
         x_pow_mod(16 * kShort - 33)};
  }
};
const Dispatch g_dispatch;

}  // namespace

uint32_t crc32c(const uint8_t* data, size_t len, uint32_t crc) {
#ifdef CMM_X86
  if (g_dispatch.clmul && len >= 3 * kShort) return crc_hw3(data, len, crc, g_dispatch.k);
  if (g_dispatch.hw) return crc_hw(data, len, crc);
#endif
  return crc_soft(data, len, crc);
}

uint32_t crc32c_soft(const uint8_t* data, size_t len, uint32_t crc) { return crc_soft(data, len, crc); }

bool crc32c_hardware() { return g_dispatch.hw; }

}  // namespace cmm
