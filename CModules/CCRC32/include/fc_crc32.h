#ifndef FC_CRC32_H
#define FC_CRC32_H
#include <stddef.h>
#include <stdint.h>

/// Continues the IEEE 802.3 CRC-32 (reflected polynomial 0xEDB88320, initial and final XOR
/// 0xFFFFFFFF) of the bytes before `p` over `n` more bytes; start with 0. Folds 64 bytes per
/// step with carry-less multiplication (PCLMULQDQ) where the CPU has it, else slice-by-8 tables.
uint32_t fc_crc32_update(uint32_t crc, const void *p, size_t n);

/// The same with the table code only (to check the folding against, and for benchmarks).
uint32_t fc_crc32_update_tables(uint32_t crc, const void *p, size_t n);

#endif
