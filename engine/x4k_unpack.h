/* The 6-bit scales and mins of a Q4_K x4 super-block (simd_blocks.h, lbs_x4k_unpack) in two
 * vectors, for code compiled with AVX2: *sc gets u[0..31], *mn u[32..63]. Low nibbles come
 * from the 32 bytes at e, the high bit pairs from the 16 after them (shifted within 64-bit
 * lanes, so bits crossing into a neighbouring byte are masked off). */
#ifndef LB_X4K_UNPACK_H
#define LB_X4K_UNPACK_H

#include <immintrin.h>
#include <stdint.h>

static inline __attribute__((always_inline)) void lbs_x4k_unpack_avx2(const uint8_t *e, __m256i *sc, __m256i *mn)
{
    const __m256i m4 = _mm256_set1_epi8(0x0f), m30 = _mm256_set1_epi8(0x30);
    __m256i lo = _mm256_loadu_si256((const __m256i *)e);
    __m256i hi = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(e + 32)));
    *sc = _mm256_or_si256(_mm256_and_si256(lo, m4),
                          _mm256_and_si256(_mm256_sllv_epi64(hi, _mm256_setr_epi64x(4, 4, 2, 2)), m30));
    *mn = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(lo, 4), m4),
                          _mm256_and_si256(_mm256_srlv_epi64(hi, _mm256_setr_epi64x(0, 0, 2, 2)), m30));
}

#endif
