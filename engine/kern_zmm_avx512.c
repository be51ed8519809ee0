/* 512-bit AVX-512 VNNI kernels where two 32-blocks per instruction pay off (Q4_0: the
 * nibble unpack dominates). Other types use the 256-bit kernels of kern_avx512.c. */
#include <immintrin.h>
#include <stdint.h>

#include "kern_simd.h"
#include "simd_blocks.h"

static inline float h2f(uint16_t h) { return _cvtsh_ss(h); }

/* Two Q4_0 blocks as [lo0 hi0 lo1 hi1] (unsigned nibbles) against two q8_0 blocks. */
static inline __m512 q4_0_pair(const lbs_q4_0 *x, const lbs_q8_0 *y, __m512 acc)
{
    const __m512i lowmask = _mm512_set1_epi8(0x0f), eight = _mm512_set1_epi8(8);
    __m256i q = _mm256_set_m128i(_mm_loadu_si128((const __m128i *)x[1].qs), _mm_loadu_si128((const __m128i *)x[0].qs));
    __m512i w = _mm512_inserti64x4(_mm512_castsi256_si512(q), _mm256_srli_epi16(q, 4), 1);
    w = _mm512_shuffle_i64x2(_mm512_and_si512(w, lowmask), _mm512_and_si512(w, lowmask), _MM_SHUFFLE(3, 1, 2, 0));
    __m512i a = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)y[0].qs)),
                                   _mm256_loadu_si256((const __m256i *)y[1].qs), 1);
    __m512i dp = _mm512_sub_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), w, a),
                                  _mm512_dpbusd_epi32(_mm512_setzero_si512(), eight, a));
    __m512 sc = _mm512_insertf32x8(_mm512_set1_ps(h2f(x[0].d) * h2f(y[0].d)),
                                   _mm256_set1_ps(h2f(x[1].d) * h2f(y[1].d)), 1);
    return _mm512_fmadd_ps(_mm512_cvtepi32_ps(dp), sc, acc);
}

void lb_kern_zmm_avx512_vec_dot_q4_0_q8_0(int n, float *s, const void *vx, const void *vy)
{
    const lbs_q4_0 *x = vx;
    const lbs_q8_0 *y = vy;
    int nb = n / LBS_QK, i = 0;
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
    for (; i + 4 <= nb; i += 4) {
        acc0 = q4_0_pair(x + i, y + i, acc0);
        acc1 = q4_0_pair(x + i + 2, y + i + 2, acc1);
    }
    for (; i + 2 <= nb; i += 2)
        acc0 = q4_0_pair(x + i, y + i, acc0);
    float sum = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
    if (i < nb) {
        float tail;
        lb_kern_avx512_vec_dot_q4_0_q8_0((nb - i) * LBS_QK, &tail, x + i, y + i);
        sum += tail;
    }
    *s = sum;
}
