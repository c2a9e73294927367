// CRC32C (Castagnoli), the event log's per-batch checksum. SSE4.2 instruction when the CPU has it
// (chosen once at run time; three interleaved streams merged with PCLMULQDQ on long inputs), a
// table-driven fallback otherwise; all give the same value.
#pragma once
#include <cstddef>
#include <cstdint>

namespace cmm {
uint32_t crc32c(const uint8_t* data, size_t len, uint32_t crc = 0);
uint32_t crc32c_soft(const uint8_t* data, size_t len, uint32_t crc = 0);  // the table path (tests)
bool crc32c_hardware();  // true when the SSE4.2 path is in use
}  // namespace cmm
