#pragma once
// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of every WAL record.
// The SSE4.2 CRC32 instruction where the CPU has it (checked once at start), else a table-driven
// loop (slicing-by-8). The check value of "123456789" is 0xE3069283 (RFC 3720, B.4).

#include <cstdint>
#include <span>

namespace resonance::historian {

// Continues a CRC: crc32c_extend(crc32c(a), b) == crc32c(a || b). Start from 0.
std::uint32_t crc32c_extend(std::uint32_t crc, std::span<const std::uint8_t> data);

inline std::uint32_t crc32c(std::span<const std::uint8_t> data) { return crc32c_extend(0, data); }

// The table-driven loop alone (what crc32c_extend falls back to), so tests can hold the
// instruction path to it.
std::uint32_t crc32c_extend_portable(std::uint32_t crc, std::span<const std::uint8_t> data);

}  // namespace resonance::historian
