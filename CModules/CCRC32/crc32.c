// FC frame CRC-32 (IEEE 802.3, reflected). Two implementations behind one entry point:
//
// - slice-by-8 tables, 8 bytes per step, for short inputs and CPUs without PCLMULQDQ;
// - folding with carry-less multiplication (Gopal et al., "Fast CRC Computation for Generic
//   Polynomials Using PCLMULQDQ Instruction", Intel, 2009): four 128-bit accumulators are
//   folded forward 512 bits per step, reduced to one, folded to 64 and then 32 bits, and
//   finished with a Barrett reduction. The constants are x^k mod P(x) for the fold distances
//   (bit-reflected, shifted by one), and mu = x^64 / P(x) and P(x) itself for the reduction.
#include "fc_crc32.h"

#include <cpuid.h>
#include <immintrin.h>
#include <pthread.h>

static uint32_t tables[8][256];
static int have_clmul;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void init(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        tables[0][i] = c;
    }
    for (int i = 0; i < 256; i++)
        for (int k = 1; k < 8; k++) tables[k][i] = (tables[k - 1][i] >> 8) ^ tables[0][tables[k - 1][i] & 0xFF];
    unsigned a, b, c, d;
    if (__get_cpuid(1, &a, &b, &c, &d)) have_clmul = (c & bit_PCLMUL) && (c & bit_SSE4_1);
}

// The CRC register (not inverted) over n bytes, 8 at a time.
static uint32_t slice8(uint32_t c, const uint8_t *p, size_t n) {
    while (n >= 8) {
        uint32_t lo, hi;
        __builtin_memcpy(&lo, p, 4);
        __builtin_memcpy(&hi, p + 4, 4);
        lo ^= c;
        c = tables[7][lo & 0xFF] ^ tables[6][(lo >> 8) & 0xFF] ^ tables[5][(lo >> 16) & 0xFF] ^ tables[4][lo >> 24]
          ^ tables[3][hi & 0xFF] ^ tables[2][(hi >> 8) & 0xFF] ^ tables[1][(hi >> 16) & 0xFF] ^ tables[0][hi >> 24];
        p += 8;
        n -= 8;
    }
    while (n--) c = tables[0][(c ^ *p++) & 0xFF] ^ (c >> 8);
    return c;
}

// One fold of the 128-bit accumulator x forward by the distance whose constants are in k
// (low qword for x's low half, high qword for its high half).
__attribute__((target("pclmul,sse4.1"))) static inline __m128i fold(__m128i x, __m128i k) {
    return _mm_xor_si128(_mm_clmulepi64_si128(x, k, 0x00), _mm_clmulepi64_si128(x, k, 0x11));
}

// The CRC register over n bytes, n >= 64 and a multiple of 16.
__attribute__((target("pclmul,sse4.1"))) static uint32_t clmul(uint32_t crc, const uint8_t *p, size_t n) {
    const __m128i k1k2 = _mm_set_epi64x(0x1c6e41596, 0x154442bd4);   // x^(512+32), x^(512-32) mod P
    const __m128i k3k4 = _mm_set_epi64x(0x0ccaa009e, 0x1751997d0);   // x^(128+32), x^(128-32) mod P
    const __m128i k5 = _mm_set_epi64x(0, 0x163cd6124);               // x^64 mod P
    const __m128i poly_mu = _mm_set_epi64x(0x1f7011641, 0x1db710641); // mu, P(x)
    const __m128i mask32 = _mm_set_epi32(0, 0, 0, -1);

    __m128i x1 = _mm_xor_si128(_mm_loadu_si128((const __m128i *)p), _mm_cvtsi32_si128((int)crc));
    __m128i x2 = _mm_loadu_si128((const __m128i *)(p + 16));
    __m128i x3 = _mm_loadu_si128((const __m128i *)(p + 32));
    __m128i x4 = _mm_loadu_si128((const __m128i *)(p + 48));
    p += 64;
    n -= 64;
    while (n >= 64) {
        x1 = _mm_xor_si128(fold(x1, k1k2), _mm_loadu_si128((const __m128i *)p));
        x2 = _mm_xor_si128(fold(x2, k1k2), _mm_loadu_si128((const __m128i *)(p + 16)));
        x3 = _mm_xor_si128(fold(x3, k1k2), _mm_loadu_si128((const __m128i *)(p + 32)));
        x4 = _mm_xor_si128(fold(x4, k1k2), _mm_loadu_si128((const __m128i *)(p + 48)));
        p += 64;
        n -= 64;
    }
    x1 = _mm_xor_si128(fold(x1, k3k4), x2);
    x1 = _mm_xor_si128(fold(x1, k3k4), x3);
    x1 = _mm_xor_si128(fold(x1, k3k4), x4);
    while (n >= 16) {
        x1 = _mm_xor_si128(fold(x1, k3k4), _mm_loadu_si128((const __m128i *)p));
        p += 16;
        n -= 16;
    }
    // 128 → 64 bits (appending 32 zero bits), then → 32 bits.
    x1 = _mm_xor_si128(_mm_clmulepi64_si128(k3k4, x1, 0x01), _mm_srli_si128(x1, 8));
    x1 = _mm_xor_si128(_mm_clmulepi64_si128(_mm_and_si128(x1, mask32), k5, 0x00), _mm_srli_si128(x1, 4));
    // Barrett reduction to the 32-bit remainder.
    __m128i t = _mm_clmulepi64_si128(_mm_and_si128(x1, mask32), poly_mu, 0x10);
    t = _mm_clmulepi64_si128(_mm_and_si128(t, mask32), poly_mu, 0x00);
    return (uint32_t)_mm_extract_epi32(_mm_xor_si128(x1, t), 1);
}

uint32_t fc_crc32_update(uint32_t crc, const void *data, size_t n) {
    pthread_once(&once, init);
    const uint8_t *p = data;
    uint32_t c = ~crc;
    if (have_clmul && n >= 64) {
        size_t whole = n & ~(size_t)15;
        c = clmul(c, p, whole);
        p += whole;
        n -= whole;
    }
    return ~slice8(c, p, n);
}

uint32_t fc_crc32_update_tables(uint32_t crc, const void *data, size_t n) {
    pthread_once(&once, init);
    return ~slice8(~crc, data, n);
}
