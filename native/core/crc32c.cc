// CRC32C with run-time dispatch. The hardware path runs three interleaved streams over large inputs
// so the 3-cycle crc32 latency is hidden; short inputs use one stream.
#include "core/crc32c.h"

#include <cstring>

#if defined(__x86_64__) || defined(_M_X64)
#include <nmmintrin.h>
#define CMM_X86 1
#endif

namespace cmm {
namespace {

uint32_t g_table[8][256];

void build_table() {
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
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
#endif

struct Dispatch {
  bool hw = false;
  Dispatch() {
    build_table();
#ifdef CMM_X86
    hw = __builtin_cpu_supports("sse4.2");
#endif
  }
};
const Dispatch g_dispatch;

}  // namespace

uint32_t crc32c(const uint8_t* data, size_t len, uint32_t crc) {
#ifdef CMM_X86
  if (g_dispatch.hw) return crc_hw(data, len, crc);
#endif
  return crc_soft(data, len, crc);
}

bool crc32c_hardware() { return g_dispatch.hw; }

}  // namespace cmm
