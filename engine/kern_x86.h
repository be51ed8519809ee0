/* x86 SIMD kernels, written once on 256-bit vectors and compiled per ISA by the including
 * file (kern_avx2.c, kern_avxvnni.c, kern_avx512.c), which defines:
 *   KERN(name)  the exported name of a kernel for that ISA
 *   DPBUSD(acc, u, s)  acc + sum of 4 adjacent u8*s8 products per int32 lane
 *   DPWSSD(acc, a, b)  acc + sum of 2 adjacent s16*s16 products per int32 lane
 * Integer parts are exact; only the float accumulation order differs from the scalar
 * reference. Callers guarantee u*s pairs fit int16 for the AVX2 emulation (|u| <= 127 or
 * u <= 63 against |s| <= 127), which every kernel below respects. */
#include <immintrin.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "simd_blocks.h"
#include "x4k_unpack.h"

static inline float k_h2f(uint16_t h) { return _cvtsh_ss(h); }
static inline uint16_t k_f2h(float f) { return _cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT); }

static inline float k_hsum8(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static inline int k_hsum8i(__m256i v)
{
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
    return _mm_cvtsi128_si32(s);
}

static inline float k_hmax8(__m256 v)
{
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* 32 int32 lanes (4 vectors) -> 32 int8 in element order. */
static inline __m256i k_pack32(__m256i a, __m256i b, __m256i c, __m256i d)
{
    __m256i ab = _mm256_packs_epi32(a, b); /* a0-3 b0-3 | a4-7 b4-7 */
    __m256i cd = _mm256_packs_epi32(c, d);
    __m256i x = _mm256_packs_epi16(ab, cd); /* a0-3 b0-3 c0-3 d0-3 | a4-7 b4-7 c4-7 d4-7 */
    return _mm256_permutevar8x32_epi32(x, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

void KERN(quantize_row_q8_0)(const float *x, void *vy, int64_t n)
{
    lbs_q8_0 *y = vy;
    const __m256 sign = _mm256_set1_ps(-0.0f);
    for (int64_t i = 0; i < n / LBS_QK; i++, x += LBS_QK) {
        __m256 v0 = _mm256_loadu_ps(x), v1 = _mm256_loadu_ps(x + 8);
        __m256 v2 = _mm256_loadu_ps(x + 16), v3 = _mm256_loadu_ps(x + 24);
        __m256 m = _mm256_max_ps(_mm256_max_ps(_mm256_andnot_ps(sign, v0), _mm256_andnot_ps(sign, v1)),
                                 _mm256_max_ps(_mm256_andnot_ps(sign, v2), _mm256_andnot_ps(sign, v3)));
        float amax = k_hmax8(m);
        /* As ggml's x86 path (and the scalar reference): scale by 127/amax, round half even. */
        float d = amax / 127.0f;
        float id = amax != 0.0f ? 127.0f / amax : 0.0f;
        y[i].d = k_f2h(d);
        __m256 vid = _mm256_set1_ps(id);
        __m256i q0 = _mm256_cvtps_epi32(_mm256_mul_ps(v0, vid));
        __m256i q1 = _mm256_cvtps_epi32(_mm256_mul_ps(v1, vid));
        __m256i q2 = _mm256_cvtps_epi32(_mm256_mul_ps(v2, vid));
        __m256i q3 = _mm256_cvtps_epi32(_mm256_mul_ps(v3, vid));
        _mm256_storeu_si256((__m256i *)y[i].qs, k_pack32(q0, q1, q2, q3));
    }
}

void KERN(quantize_row_q8_K)(const float *x, void *vy, int64_t n)
{
    lbs_q8_K *y = vy;
    const __m256 sign = _mm256_set1_ps(-0.0f);
    for (int64_t i = 0; i < n / LBS_QK_K; i++, x += LBS_QK_K) {
        __m256 m = _mm256_setzero_ps();
        for (int j = 0; j < LBS_QK_K; j += 8)
            m = _mm256_max_ps(m, _mm256_andnot_ps(sign, _mm256_loadu_ps(x + j)));
        float amax = k_hmax8(m);
        if (amax == 0.0f) {
            memset(&y[i], 0, sizeof y[i]);
            continue;
        }
        /* The scale keeps the sign of the first element of largest magnitude. */
        float max = 0.0f;
        __m256 vamax = _mm256_set1_ps(amax);
        for (int j = 0; j < LBS_QK_K; j += 8) {
            __m256 v = _mm256_loadu_ps(x + j);
            int mask = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_andnot_ps(sign, v), vamax, _CMP_EQ_OQ));
            if (mask) {
                max = x[j + __builtin_ctz(mask)];
                break;
            }
        }
        float iscale = -127.0f / max;
        __m256 vis = _mm256_set1_ps(iscale);
        const __m256i lim = _mm256_set1_epi32(127);
        for (int j = 0; j < LBS_QK_K; j += 32) {
            __m256i q[4];
            for (int k = 0; k < 4; k++) {
                __m256 v = _mm256_mul_ps(vis, _mm256_loadu_ps(x + j + 8 * k));
                q[k] = _mm256_min_epi32(_mm256_cvtps_epi32(v), lim); /* round half even */
            }
            __m256i p = k_pack32(q[0], q[1], q[2], q[3]);
            _mm256_storeu_si256((__m256i *)(y[i].qs + j), p);
            /* two sums of 16 */
            __m256i s16 = _mm256_maddubs_epi16(_mm256_set1_epi8(1), p);
            __m256i s32 = _mm256_madd_epi16(s16, _mm256_set1_epi16(1));
            __m128i lo = _mm256_castsi256_si128(s32), hi = _mm256_extracti128_si256(s32, 1);
            lo = _mm_hadd_epi32(lo, hi); /* l0+l1 l2+l3 h0+h1 h2+h3 */
            lo = _mm_hadd_epi32(lo, lo);
            y[i].bsums[j / 16] = (int16_t)_mm_extract_epi32(lo, 0);
            y[i].bsums[j / 16 + 1] = (int16_t)_mm_extract_epi32(lo, 1);
        }
        y[i].d = 1.0f / iscale;
    }
}

/* 32 nibbles of a Q4 block: low nibbles are elements 0..15, high nibbles 16..31. */
static inline __m256i k_nibbles(const uint8_t *qs)
{
    /* both halves hold the 16 bytes; the upper half is shifted right by 4 (bits spilling in
     * from the next byte land in the high nibble, which the mask drops) */
    __m256i v = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)qs));
    v = _mm256_srlv_epi64(v, _mm256_set_epi64x(4, 4, 0, 0));
    return _mm256_and_si256(v, _mm256_set1_epi8(0x0f));
}

void KERN(vec_dot_q4_0_q8_0)(int n, float *s, const void *vx, const void *vy)
{
    const lbs_q4_0 *x = vx;
    const lbs_q8_0 *y = vy;
    const __m256i eight = _mm256_set1_epi8(8);
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int nb = n / LBS_QK, i = 0;
    for (; i + 1 < nb; i += 2) {
        __m256i a0 = _mm256_loadu_si256((const __m256i *)y[i].qs);
        __m256i a1 = _mm256_loadu_si256((const __m256i *)y[i + 1].qs);
        __m256i p0 = _mm256_sub_epi32(DPBUSD(_mm256_setzero_si256(), k_nibbles(x[i].qs), a0),
                                      DPBUSD(_mm256_setzero_si256(), eight, a0));
        __m256i p1 = _mm256_sub_epi32(DPBUSD(_mm256_setzero_si256(), k_nibbles(x[i + 1].qs), a1),
                                      DPBUSD(_mm256_setzero_si256(), eight, a1));
        acc0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p0), _mm256_set1_ps(k_h2f(x[i].d) * k_h2f(y[i].d)), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p1), _mm256_set1_ps(k_h2f(x[i + 1].d) * k_h2f(y[i + 1].d)), acc1);
    }
    for (; i < nb; i++) {
        __m256i a0 = _mm256_loadu_si256((const __m256i *)y[i].qs);
        __m256i p0 = _mm256_sub_epi32(DPBUSD(_mm256_setzero_si256(), k_nibbles(x[i].qs), a0),
                                      DPBUSD(_mm256_setzero_si256(), eight, a0));
        acc0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p0), _mm256_set1_ps(k_h2f(x[i].d) * k_h2f(y[i].d)), acc0);
    }
    *s = k_hsum8(_mm256_add_ps(acc0, acc1));
}

/* Signed x signed via |w| and sign(a, w): u8 * s8 pairs stay within int16. */
static inline __m256i k_dot_s8(__m256i acc, __m256i w, __m256i a)
{
    return DPBUSD(acc, _mm256_sign_epi8(w, w), _mm256_sign_epi8(a, w));
}

void KERN(vec_dot_q8_0_q8_0)(int n, float *s, const void *vx, const void *vy)
{
    const lbs_q8_0 *x = vx;
    const lbs_q8_0 *y = vy;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int nb = n / LBS_QK, i = 0;
    for (; i + 1 < nb; i += 2) {
        __m256i p0 = k_dot_s8(_mm256_setzero_si256(), _mm256_loadu_si256((const __m256i *)x[i].qs),
                              _mm256_loadu_si256((const __m256i *)y[i].qs));
        __m256i p1 = k_dot_s8(_mm256_setzero_si256(), _mm256_loadu_si256((const __m256i *)x[i + 1].qs),
                              _mm256_loadu_si256((const __m256i *)y[i + 1].qs));
        acc0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p0), _mm256_set1_ps(k_h2f(x[i].d) * k_h2f(y[i].d)), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p1), _mm256_set1_ps(k_h2f(x[i + 1].d) * k_h2f(y[i + 1].d)), acc1);
    }
    for (; i < nb; i++) {
        __m256i p0 = k_dot_s8(_mm256_setzero_si256(), _mm256_loadu_si256((const __m256i *)x[i].qs),
                              _mm256_loadu_si256((const __m256i *)y[i].qs));
        acc0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p0), _mm256_set1_ps(k_h2f(x[i].d) * k_h2f(y[i].d)), acc0);
    }
    *s = k_hsum8(_mm256_add_ps(acc0, acc1));
}

/* 6-bit scales and mins of a Q4_K/Q5_K block as two 8-byte groups, with 32-bit masks. */
static inline void k_k4_scales(const uint8_t *q, uint32_t out[4])
{
    const uint32_t m1 = 0x3f3f3f3f, m2 = 0x0f0f0f0f, m3 = 0x03030303;
    uint32_t u[3];
    memcpy(u, q, 12);
    out[3] = ((u[2] >> 4) & m2) | (((u[1] >> 6) & m3) << 4); /* mins 4..7 */
    out[2] = u[1] & m1;                                      /* mins 0..3 */
    out[1] = (u[2] & m2) | (((u[0] >> 6) & m3) << 4);        /* scales 4..7 */
    out[0] = u[0] & m1;                                      /* scales 0..3 */
}

void KERN(vec_dot_q4_K_q8_K)(int n, float *s, const void *vx, const void *vy)
{
    const lbs_q4_K *x = vx;
    const lbs_q8_K *y = vy;
    const __m256i lowmask = _mm256_set1_epi8(0x0f);
    /* pshufb patterns broadcasting 16-bit scale 2j (and 2j+1) to all lanes */
    static const uint8_t shuf[8][32] __attribute__((aligned(32))) = {
#define S(k) { 2*k, 2*k+1, 2*k, 2*k+1, 2*k, 2*k+1, 2*k, 2*k+1, 2*k, 2*k+1, 2*k, 2*k+1, 2*k, 2*k+1, 2*k, 2*k+1, \
               2*k, 2*k+1, 2*k, 2*k+1, 2*k, 2*k+1, 2*k, 2*k+1, 2*k, 2*k+1, 2*k, 2*k+1, 2*k, 2*k+1, 2*k, 2*k+1 }
        S(0), S(1), S(2), S(3), S(4), S(5), S(6), S(7)
#undef S
    };
    __m256 acc = _mm256_setzero_ps(), accm = _mm256_setzero_ps();
    for (int i = 0; i < n / LBS_QK_K; i++) {
        uint32_t u[4];
        k_k4_scales(x[i].scales, u);
        __m256i sm = _mm256_cvtepu8_epi16(_mm_set_epi32((int)u[3], (int)u[2], (int)u[1], (int)u[0]));
        const float d = y[i].d * k_h2f(x[i].d);
        const float dmin = y[i].d * k_h2f(x[i].dmin);
        /* mins: sum over sub-blocks of m_j * (bsums[2j] + bsums[2j+1]), kept in lanes */
        __m256i bs = _mm256_loadu_si256((const __m256i *)y[i].bsums);
        __m128i mins = _mm256_extracti128_si256(sm, 1);
        __m256i m16 = _mm256_set_m128i(_mm_unpackhi_epi16(mins, mins), _mm_unpacklo_epi16(mins, mins));
        accm = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_madd_epi16(bs, m16)), _mm256_set1_ps(dmin), accm);

        __m128i sc128 = _mm256_castsi256_si128(sm);
        __m256i scales = _mm256_set_m128i(sc128, sc128);
        __m256i sumi = _mm256_setzero_si256();
        const uint8_t *q = x[i].qs;
        const int8_t *a = y[i].qs;
        for (int j = 0; j < 4; j++, q += 32, a += 64) {
            __m256i qv = _mm256_loadu_si256((const __m256i *)q);
            __m256i lo = _mm256_and_si256(qv, lowmask);
            __m256i hi = _mm256_and_si256(_mm256_srli_epi16(qv, 4), lowmask);
            __m256i plo = _mm256_maddubs_epi16(lo, _mm256_loadu_si256((const __m256i *)a));
            __m256i phi = _mm256_maddubs_epi16(hi, _mm256_loadu_si256((const __m256i *)(a + 32)));
            sumi = DPWSSD(sumi, plo, _mm256_shuffle_epi8(scales, _mm256_load_si256((const __m256i *)shuf[2 * j])));
            sumi = DPWSSD(sumi, phi, _mm256_shuffle_epi8(scales, _mm256_load_si256((const __m256i *)shuf[2 * j + 1])));
        }
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sumi), _mm256_set1_ps(d), acc);
    }
    *s = k_hsum8(acc) - k_hsum8(accm);
}

/* The 6-bit values (0-63) of Q6_K from 32 bytes of ql at l0 and at l1 and 32 of qh: low
 * nibbles of l0/l1 with qh bits 0-1/2-3, high nibbles with bits 4-5/6-7. */
static inline __attribute__((always_inline)) void k_q6_values(const uint8_t *l0p, const uint8_t *l1p,
                                                              const uint8_t *qh, __m256i q[4])
{
    const __m256i m4 = _mm256_set1_epi8(0x0f), m30 = _mm256_set1_epi8(0x30);
    __m256i l0 = _mm256_loadu_si256((const __m256i *)l0p), l1 = _mm256_loadu_si256((const __m256i *)l1p);
    __m256i h = _mm256_loadu_si256((const __m256i *)qh);
    q[0] = _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_and_si256(_mm256_slli_epi16(h, 4), m30));
    q[1] = _mm256_or_si256(_mm256_and_si256(l1, m4), _mm256_and_si256(_mm256_slli_epi16(h, 2), m30));
    q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4), _mm256_and_si256(h, m30));
    q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4), _mm256_and_si256(_mm256_srli_epi16(h, 2), m30));
}

void KERN(vec_dot_q6_K_q8_K)(int n, float *s, const void *vx, const void *vy)
{
    const lbs_q6_K *x = vx;
    const lbs_q8_K *y = vy;
    __m256 acc = _mm256_setzero_ps();
    for (int i = 0; i < n / LBS_QK_K; i++) {
        const float d = y[i].d * k_h2f(x[i].d);
        /* the -32 offset: 32 * sum_j scale_j * bsums_j */
        __m256i bs = _mm256_loadu_si256((const __m256i *)y[i].bsums);
        __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)x[i].scales));
        __m256i corr = _mm256_slli_epi32(_mm256_madd_epi16(bs, sc16), 5);

        __m256i sumi = _mm256_setzero_si256();
        const uint8_t *ql = x[i].ql, *qh = x[i].qh;
        const int8_t *a = y[i].qs, *sc = x[i].scales;
        for (int half = 0; half < 2; half++, ql += 64, qh += 32, a += 128, sc += 8) {
            __m256i q[4];
            k_q6_values(ql, ql + 32, qh, q);
            for (int k = 0; k < 4; k++) {
                __m256i p = _mm256_maddubs_epi16(q[k], _mm256_loadu_si256((const __m256i *)(a + 32 * k)));
                /* elements 0..15 use scale 2k, 16..31 scale 2k+1 (int16 lanes 0-7 / 8-15) */
                __m256i scv = _mm256_set_m128i(_mm_set1_epi16(sc[2 * k + 1]), _mm_set1_epi16(sc[2 * k]));
                sumi = DPWSSD(sumi, p, scv);
            }
        }
        sumi = _mm256_sub_epi32(sumi, corr);
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sumi), _mm256_set1_ps(d), acc);
    }
    *s = k_hsum8(acc);
}

/* ---- F16 rows (attention K/V cache, F16 weights) ---- */

static inline __attribute__((always_inline)) float k_dot_f16(int n, const uint16_t *x, const uint16_t *y)
{
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        acc0 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(x + i))),
                               _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(y + i))), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(x + i + 8))),
                               _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(y + i + 8))), acc1);
    }
    for (; i + 8 <= n; i += 8)
        acc0 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(x + i))),
                               _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(y + i))), acc0);
    float sum = k_hsum8(_mm256_add_ps(acc0, acc1));
    for (; i < n; i++)
        sum += k_h2f(x[i]) * k_h2f(y[i]);
    return sum;
}

void KERN(vec_dot_f16)(int n, float *s, const void *vx, const void *vy) { *s = k_dot_f16(n, vx, vy); }

/* s[t] = row t of x (rows `stride` elements apart) . y for t < rows, each exactly as
 * vec_dot_f16: attention scores of one query in one call. */
void KERN(dot_f16_rows)(int n, int rows, const void *vx, size_t stride, const void *vy, float *s)
{
    const uint16_t *x = vx, *y = vy;
    if (n % 16 || n > 256) {
        for (int t = 0; t < rows; t++)
            s[t] = k_dot_f16(n, x + (size_t)t * stride, y);
        return;
    }
    /* y converted once (the same floats k_dot_f16 converts for every row) */
    float yf[256] __attribute__((aligned(32)));
    for (int i = 0; i < n; i += 8)
        _mm256_store_ps(yf + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(y + i))));
    for (int t = 0; t < rows; t++) {
        const uint16_t *r = x + (size_t)t * stride;
        __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
        for (int i = 0; i < n; i += 16) {
            acc0 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(r + i))), _mm256_load_ps(yf + i),
                                   acc0);
            acc1 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(r + i + 8))),
                                   _mm256_load_ps(yf + i + 8), acc1);
        }
        s[t] = k_hsum8(_mm256_add_ps(acc0, acc1));
    }
}

/* Round to nearest even, as the scalar conversion (NaN payloads aside). */
void KERN(quantize_row_f16)(const float *x, void *vy, int64_t n)
{
    uint16_t *y = vy;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(y + i), _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT));
    for (; i < n; i++)
        y[i] = k_f2h(x[i]);
}

void KERN(dequantize_row_f16)(const void *vx, float *y, int64_t n)
{
    const uint16_t *x = vx;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(x + i))));
    for (; i < n; i++)
        y[i] = k_h2f(x[i]);
}

/* y += a * x (x in F16): the value-weighted sum of attention. */
void KERN(axpy_f16)(int n, float a, const void *vx, float *y)
{
    const uint16_t *x = vx;
    __m256 va = _mm256_set1_ps(a);
    int i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(x + i))),
                                                _mm256_loadu_ps(y + i)));
    for (; i < n; i++)
        y[i] += a * k_h2f(x[i]);
}

/* axpy_f16 with a[t] and row t of x (rows `stride` elements apart) for t < rows, in that
 * order: the same operations per element, with 32 elements of y kept in registers. */
void KERN(axpy_f16_rows)(int n, int rows, const float *a, const void *vx, size_t stride, float *y)
{
    const uint16_t *x = vx;
    int i = 0;
    for (; i + 32 <= n; i += 32) {
        __m256 y0 = _mm256_loadu_ps(y + i), y1 = _mm256_loadu_ps(y + i + 8);
        __m256 y2 = _mm256_loadu_ps(y + i + 16), y3 = _mm256_loadu_ps(y + i + 24);
        for (int t = 0; t < rows; t++) {
            const uint16_t *r = x + (size_t)t * stride + i;
            __m256 va = _mm256_set1_ps(a[t]);
            y0 = _mm256_fmadd_ps(va, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)r)), y0);
            y1 = _mm256_fmadd_ps(va, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(r + 8))), y1);
            y2 = _mm256_fmadd_ps(va, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(r + 16))), y2);
            y3 = _mm256_fmadd_ps(va, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(r + 24))), y3);
        }
        _mm256_storeu_ps(y + i, y0);
        _mm256_storeu_ps(y + i + 8, y1);
        _mm256_storeu_ps(y + i + 16, y2);
        _mm256_storeu_ps(y + i + 24, y3);
    }
    if (i < n)
        for (int t = 0; t < rows; t++)
            KERN(axpy_f16)(n - i, a[t], x + (size_t)t * stride + i, y + i);
}

/* r[i] (8 floats each) -> r[i] = element i of every input, for an 8x8 block. */
static inline void k_transpose8(__m256 r[8])
{
    __m256 t[8];
    for (int i = 0; i < 4; i++) {
        t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 2; i++) {
        r[4 * i + 0] = _mm256_shuffle_ps(t[4 * i + 0], t[4 * i + 2], _MM_SHUFFLE(1, 0, 1, 0));
        r[4 * i + 1] = _mm256_shuffle_ps(t[4 * i + 0], t[4 * i + 2], _MM_SHUFFLE(3, 2, 3, 2));
        r[4 * i + 2] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(1, 0, 1, 0));
        r[4 * i + 3] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(3, 2, 3, 2));
    }
    for (int i = 0; i < 4; i++) {
        t[i] = _mm256_permute2f128_ps(r[i], r[i + 4], 0x20);
        t[i + 4] = _mm256_permute2f128_ps(r[i], r[i + 4], 0x31);
    }
    for (int i = 0; i < 8; i++)
        r[i] = t[i];
}

/* Vectors of the multi-query attention kernels: 16 lanes where AVX-512 is compiled in, else
 * 8. Each lane does the same arithmetic either way, so both widths give the same results. */
#if defined(__AVX512F__)
#define MQ_W 16
typedef __m512 mq_vec;
#define MQ_ZERO() _mm512_setzero_ps()
#define MQ_LOAD(p) _mm512_load_ps(p)
#define MQ_LOADU(p) _mm512_loadu_ps(p)
#define MQ_STORE(p, v) _mm512_store_ps(p, v)
#define MQ_STOREU(p, v) _mm512_storeu_ps(p, v)
#define MQ_FMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define MQ_ADD(a, b) _mm512_add_ps(a, b)
#define MQ_BCAST(p) _mm512_set1_ps(*(p))
#define MQ_F16(p) _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(p)))
#else
#define MQ_W 8
typedef __m256 mq_vec;
#define MQ_ZERO() _mm256_setzero_ps()
#define MQ_LOAD(p) _mm256_load_ps(p)
#define MQ_LOADU(p) _mm256_loadu_ps(p)
#define MQ_STORE(p, v) _mm256_store_ps(p, v)
#define MQ_STOREU(p, v) _mm256_storeu_ps(p, v)
#define MQ_FMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#define MQ_ADD(a, b) _mm256_add_ps(a, b)
#define MQ_BCAST(p) _mm256_broadcast_ss(p)
#define MQ_F16(p) _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(p)))
#endif

/* Eight sums in one vector: lane i = v[i]'s lanes summed as ((0+1)+(2+3))+((4+5)+(6+7)),
 * the same tree for every input, wherever it sits. */
static inline __m256 k_hsum8x8(const __m256 v[8])
{
    __m256 a = _mm256_hadd_ps(_mm256_hadd_ps(v[0], v[1]), _mm256_hadd_ps(v[2], v[3]));
    __m256 b = _mm256_hadd_ps(_mm256_hadd_ps(v[4], v[5]), _mm256_hadd_ps(v[6], v[7]));
    return _mm256_add_ps(_mm256_permute2f128_ps(a, b, 0x20), _mm256_permute2f128_ps(a, b, 0x31));
}

/* dot_f16_multi for a few queries (generation: one token's heads of a K/V head): two rows
 * against up to four queries at a time, 8-lane partial sums over the dimensions, no
 * transpose. 256-bit code in every build, so all levels give the same bits. */
static void k_dot_f16_few(int n, int rows, const uint16_t *x, size_t stride, int nq, const float *y, float *s,
                          size_t ss)
{
    for (int t = 0; t < rows; t += 2) {
        const uint16_t *r0 = x + (size_t)t * stride, *r1 = t + 1 < rows ? r0 + stride : r0;
        for (int q0 = 0; q0 < nq; q0 += 4) {
            int m = nq - q0 < 4 ? nq - q0 : 4;
            const float *y0 = y + (size_t)q0 * n, *y1 = m > 1 ? y0 + n : y0, *y2 = m > 2 ? y0 + 2 * n : y0,
                        *y3 = m > 3 ? y0 + 3 * n : y0;
            __m256 acc[8];
            for (int i = 0; i < 8; i++)
                acc[i] = _mm256_setzero_ps();
            for (int d = 0; d < n; d += 8) {
                __m256 k0 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(r0 + d)));
                __m256 k1 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(r1 + d)));
                __m256 v0 = _mm256_loadu_ps(y0 + d), v1 = _mm256_loadu_ps(y1 + d), v2 = _mm256_loadu_ps(y2 + d),
                       v3 = _mm256_loadu_ps(y3 + d);
                acc[0] = _mm256_fmadd_ps(k0, v0, acc[0]);
                acc[1] = _mm256_fmadd_ps(k0, v1, acc[1]);
                acc[2] = _mm256_fmadd_ps(k0, v2, acc[2]);
                acc[3] = _mm256_fmadd_ps(k0, v3, acc[3]);
                acc[4] = _mm256_fmadd_ps(k1, v0, acc[4]);
                acc[5] = _mm256_fmadd_ps(k1, v1, acc[5]);
                acc[6] = _mm256_fmadd_ps(k1, v2, acc[6]);
                acc[7] = _mm256_fmadd_ps(k1, v3, acc[7]);
            }
            float out[8] __attribute__((aligned(32)));
            _mm256_store_ps(out, k_hsum8x8(acc));
            for (int j = 0; j < m; j++) {
                s[(size_t)(q0 + j) * ss + t] = out[j];
                if (t + 1 < rows)
                    s[(size_t)(q0 + j) * ss + t + 1] = out[4 + j];
            }
        }
    }
}

/* Scores of nq queries against F16 rows: s[q * ss + t] = x[t] . y[q] for t < rows (rows
 * `stride` elements apart; queries floats, n apart), n a multiple of 8 up to 256. Up to 8
 * queries: k_dot_f16_few. More (prompt blocks): MQ_W rows
 * at a time are converted once and transposed, so every query costs one FMA per dimension
 * for MQ_W rows and no horizontal sum; each sum runs over the dimensions in order, even and
 * odd ones apart (a summation order of its own: within float rounding of the per-row dot). */
void KERN(dot_f16_multi)(int n, int rows, const void *vx, size_t stride, int nq, const float *y, float *s,
                         size_t ss)
{
    const uint16_t *x = vx;
    if (nq <= 8) {
        k_dot_f16_few(n, rows, x, stride, nq, y, s, ss);
        return;
    }
    float kt[256 * MQ_W] __attribute__((aligned(64))); /* [dimension][row] */
    for (int t0 = 0; t0 < rows; t0 += MQ_W) {
        int nr = rows - t0 < MQ_W ? rows - t0 : MQ_W;
        for (int h = 0; h < MQ_W; h += 8) /* 8x8 transposes into lanes h..h+7 */
            for (int d = 0; d < n; d += 8) {
                __m256 r[8];
                for (int i = 0; i < 8; i++)
                    r[i] = h + i < nr ? _mm256_cvtph_ps(
                                            _mm_loadu_si128((const __m128i *)(x + (size_t)(t0 + h + i) * stride + d)))
                                      : _mm256_setzero_ps();
                k_transpose8(r);
                for (int i = 0; i < 8; i++)
                    _mm256_store_ps(kt + (size_t)(d + i) * MQ_W + h, r[i]);
            }
        for (int q0 = 0; q0 < nq; q0 += 4) { /* four queries' chains in registers */
            int m = nq - q0 < 4 ? nq - q0 : 4;
            const float *y0 = y + (size_t)q0 * n, *y1 = m > 1 ? y0 + n : y0, *y2 = m > 2 ? y0 + 2 * n : y0,
                        *y3 = m > 3 ? y0 + 3 * n : y0;
            mq_vec e0 = MQ_ZERO(), e1 = e0, e2 = e0, e3 = e0, o0 = e0, o1 = e0, o2 = e0, o3 = e0;
            for (int d = 0; d < n; d += 2) {
                mq_vec k0 = MQ_LOAD(kt + (size_t)d * MQ_W), k1 = MQ_LOAD(kt + (size_t)(d + 1) * MQ_W);
                e0 = MQ_FMA(MQ_BCAST(y0 + d), k0, e0);
                e1 = MQ_FMA(MQ_BCAST(y1 + d), k0, e1);
                e2 = MQ_FMA(MQ_BCAST(y2 + d), k0, e2);
                e3 = MQ_FMA(MQ_BCAST(y3 + d), k0, e3);
                o0 = MQ_FMA(MQ_BCAST(y0 + d + 1), k1, o0);
                o1 = MQ_FMA(MQ_BCAST(y1 + d + 1), k1, o1);
                o2 = MQ_FMA(MQ_BCAST(y2 + d + 1), k1, o2);
                o3 = MQ_FMA(MQ_BCAST(y3 + d + 1), k1, o3);
            }
            float out[4][MQ_W] __attribute__((aligned(64)));
            MQ_STORE(out[0], MQ_ADD(e0, o0));
            MQ_STORE(out[1], MQ_ADD(e1, o1));
            MQ_STORE(out[2], MQ_ADD(e2, o2));
            MQ_STORE(out[3], MQ_ADD(e3, o3));
            for (int j = 0; j < m; j++)
                memcpy(s + (size_t)(q0 + j) * ss + t0, out[j], (size_t)nr * sizeof(float));
        }
    }
}

/* y[q * n + d] += sum over t < rows of a[q * as + t] * x[t][d] (F16 rows `stride` elements
 * apart) for q < nq: per element the operations of axpy_f16_rows, in its order; each row's
 * pieces of 2 * MQ_W elements are converted once for four outputs. */
void KERN(axpy_f16_multi)(int n, int rows, const float *a, size_t as, const void *vx, size_t stride, int nq,
                          float *y)
{
    const uint16_t *x = vx;
    const int P = 2 * MQ_W, np = n / P * P;
    float spare[256] __attribute__((aligned(64))); /* the unused outputs of a last group of 1-3 */
    for (int q0 = 0; q0 < nq; q0 += 4) {
        int m = nq - q0 < 4 ? nq - q0 : 4;
        if (m < 4)
            memset(spare, 0, sizeof spare);
        const float *a0 = a + (size_t)q0 * as, *a1 = m > 1 ? a0 + as : a0, *a2 = m > 2 ? a0 + 2 * as : a0,
                    *a3 = m > 3 ? a0 + 3 * as : a0;
        float *y0 = y + (size_t)q0 * n, *y1 = m > 1 ? y0 + n : spare, *y2 = m > 2 ? y0 + 2 * n : spare,
              *y3 = m > 3 ? y0 + 3 * n : spare;
        for (int i = 0; i < np; i += P) {
            mq_vec l0 = MQ_LOADU(y0 + i), h0 = MQ_LOADU(y0 + i + MQ_W);
            mq_vec l1 = MQ_LOADU(y1 + i), h1 = MQ_LOADU(y1 + i + MQ_W);
            mq_vec l2 = MQ_LOADU(y2 + i), h2 = MQ_LOADU(y2 + i + MQ_W);
            mq_vec l3 = MQ_LOADU(y3 + i), h3 = MQ_LOADU(y3 + i + MQ_W);
            for (int t = 0; t < rows; t++) {
                const uint16_t *r = x + (size_t)t * stride + i;
                mq_vec v0 = MQ_F16(r), v1 = MQ_F16(r + MQ_W);
                mq_vec b0 = MQ_BCAST(a0 + t), b1 = MQ_BCAST(a1 + t), b2 = MQ_BCAST(a2 + t), b3 = MQ_BCAST(a3 + t);
                l0 = MQ_FMA(b0, v0, l0);
                h0 = MQ_FMA(b0, v1, h0);
                l1 = MQ_FMA(b1, v0, l1);
                h1 = MQ_FMA(b1, v1, h1);
                l2 = MQ_FMA(b2, v0, l2);
                h2 = MQ_FMA(b2, v1, h2);
                l3 = MQ_FMA(b3, v0, l3);
                h3 = MQ_FMA(b3, v1, h3);
            }
            MQ_STOREU(y0 + i, l0);
            MQ_STOREU(y0 + i + MQ_W, h0);
            MQ_STOREU(y1 + i, l1);
            MQ_STOREU(y1 + i + MQ_W, h1);
            MQ_STOREU(y2 + i, l2);
            MQ_STOREU(y2 + i + MQ_W, h2);
            MQ_STOREU(y3 + i, l3);
            MQ_STOREU(y3 + i + MQ_W, h3);
        }
    }
    if (np < n) /* the rest as axpy_f16_rows's tail: FMAs by 8, then scalar */
        for (int q = 0; q < nq; q++)
            for (int t = 0; t < rows; t++)
                KERN(axpy_f16)(n - np, a[(size_t)q * as + t], x + (size_t)t * stride + np, y + (size_t)q * n + np);
}

/* ---- GEMV for one token (generation): 4 weight rows share each activation block ----
 * Activations come pre-split (lbs_gemv_act): int8 values, float scales per 32-block and the
 * per-block lane sums times the weight offset (8 for Q4_0's nibbles, 128 for Q8_0 read as
 * unsigned), subtracted through the accumulator of VPDPBUSD. Integer parts are exact. */

static inline __m256 k_gemv_acc(__m256 acc, __m256i dp, __m256 dyv, uint16_t dx)
{
    return _mm256_fmadd_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(dp), dyv), _mm256_set1_ps(k_h2f(dx)), acc);
}

void KERN(gemv_q4_0)(int k, int r0, int r1, const void *w, size_t rb, const lbs_gemv_act *act, float *y)
{
    const int nb = k / LBS_QK;
    int r = r0;
    for (; r + 4 <= r1; r += 4) {
        const lbs_q4_0 *x0 = (const lbs_q4_0 *)((const char *)w + (size_t)r * rb);
        const lbs_q4_0 *x1 = (const lbs_q4_0 *)((const char *)x0 + rb);
        const lbs_q4_0 *x2 = (const lbs_q4_0 *)((const char *)x1 + rb);
        const lbs_q4_0 *x3 = (const lbs_q4_0 *)((const char *)x2 + rb);
        __m256 acc0 = _mm256_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
        for (int b = 0; b < nb; b++) {
            __m256i a = _mm256_loadu_si256((const __m256i *)(act->qs + b * 32));
            __m256i c = _mm256_slli_epi32(_mm256_loadu_si256((const __m256i *)(act->nls + b * 8)), 3);
            __m256 dyv = _mm256_set1_ps(act->dy[b]);
            acc0 = k_gemv_acc(acc0, DPBUSD(c, k_nibbles(x0[b].qs), a), dyv, x0[b].d);
            acc1 = k_gemv_acc(acc1, DPBUSD(c, k_nibbles(x1[b].qs), a), dyv, x1[b].d);
            acc2 = k_gemv_acc(acc2, DPBUSD(c, k_nibbles(x2[b].qs), a), dyv, x2[b].d);
            acc3 = k_gemv_acc(acc3, DPBUSD(c, k_nibbles(x3[b].qs), a), dyv, x3[b].d);
        }
        y[r] = k_hsum8(acc0);
        y[r + 1] = k_hsum8(acc1);
        y[r + 2] = k_hsum8(acc2);
        y[r + 3] = k_hsum8(acc3);
    }
    for (; r < r1; r++) {
        const lbs_q4_0 *x0 = (const lbs_q4_0 *)((const char *)w + (size_t)r * rb);
        __m256 acc0 = _mm256_setzero_ps();
        for (int b = 0; b < nb; b++) {
            __m256i a = _mm256_loadu_si256((const __m256i *)(act->qs + b * 32));
            __m256i c = _mm256_slli_epi32(_mm256_loadu_si256((const __m256i *)(act->nls + b * 8)), 3);
            acc0 = k_gemv_acc(acc0, DPBUSD(c, k_nibbles(x0[b].qs), a), _mm256_set1_ps(act->dy[b]), x0[b].d);
        }
        y[r] = k_hsum8(acc0);
    }
}

#ifdef KERN_VNNI
/* Q8_0 as unsigned (w ^ 0x80 = w + 128): needs real VPDPBUSD (u up to 255 overflows the
 * AVX2 emulation's int16 pairs). */
void KERN(gemv_q8_0)(int k, int r0, int r1, const void *w, size_t rb, const lbs_gemv_act *act, float *y)
{
    const int nb = k / LBS_QK;
    const __m256i flip = _mm256_set1_epi8((char)0x80);
    int r = r0;
    for (; r + 4 <= r1; r += 4) {
        const lbs_q8_0 *x0 = (const lbs_q8_0 *)((const char *)w + (size_t)r * rb);
        const lbs_q8_0 *x1 = (const lbs_q8_0 *)((const char *)x0 + rb);
        const lbs_q8_0 *x2 = (const lbs_q8_0 *)((const char *)x1 + rb);
        const lbs_q8_0 *x3 = (const lbs_q8_0 *)((const char *)x2 + rb);
        __m256 acc0 = _mm256_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
        for (int b = 0; b < nb; b++) {
            __m256i a = _mm256_loadu_si256((const __m256i *)(act->qs + b * 32));
            __m256i c = _mm256_slli_epi32(_mm256_loadu_si256((const __m256i *)(act->nls + b * 8)), 7);
            __m256 dyv = _mm256_set1_ps(act->dy[b]);
#define U(x) _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(x)[b].qs), flip)
            acc0 = k_gemv_acc(acc0, DPBUSD(c, U(x0), a), dyv, x0[b].d);
            acc1 = k_gemv_acc(acc1, DPBUSD(c, U(x1), a), dyv, x1[b].d);
            acc2 = k_gemv_acc(acc2, DPBUSD(c, U(x2), a), dyv, x2[b].d);
            acc3 = k_gemv_acc(acc3, DPBUSD(c, U(x3), a), dyv, x3[b].d);
        }
        y[r] = k_hsum8(acc0);
        y[r + 1] = k_hsum8(acc1);
        y[r + 2] = k_hsum8(acc2);
        y[r + 3] = k_hsum8(acc3);
    }
    for (; r < r1; r++) {
        const lbs_q8_0 *x0 = (const lbs_q8_0 *)((const char *)w + (size_t)r * rb);
        __m256 acc0 = _mm256_setzero_ps();
        for (int b = 0; b < nb; b++) {
            __m256i a = _mm256_loadu_si256((const __m256i *)(act->qs + b * 32));
            __m256i c = _mm256_slli_epi32(_mm256_loadu_si256((const __m256i *)(act->nls + b * 8)), 7);
            acc0 = k_gemv_acc(acc0, DPBUSD(c, U(x0), a), _mm256_set1_ps(act->dy[b]), x0[b].d);
        }
#undef U
        y[r] = k_hsum8(acc0);
    }
}
#endif

/* Splits a q8_0 row into the GEMV layout: values, float scales, negated lane sums. */
void KERN(gemv_act_from_q8_0)(const void *vq, int k, lbs_gemv_act *act)
{
    const lbs_q8_0 *q = vq;
    for (int b = 0; b < k / LBS_QK; b++) {
        __m256i a = _mm256_loadu_si256((const __m256i *)q[b].qs);
        _mm256_storeu_si256((__m256i *)(act->qs + b * 32), a);
        __m256i ls = DPBUSD(_mm256_setzero_si256(), _mm256_set1_epi8(1), a);
        _mm256_storeu_si256((__m256i *)(act->nls + b * 8), _mm256_sub_epi32(_mm256_setzero_si256(), ls));
        act->dy[b] = k_h2f(q[b].d);
    }
}

/* ---- Q4_1, Q5_0, Q5_1 (32-blocks), Q5_K, BF16 ---- */

/* The 32 bits of a Q5 block's qh as 32 bytes: 0x10 where the bit is set (element e = bit e). */
static inline __m256i k_q5_high(const uint8_t qh4[4])
{
    uint32_t x32;
    memcpy(&x32, qh4, 4);
    const __m256i shuf = _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202, 0x0101010101010101, 0);
    __m256i bytes = _mm256_shuffle_epi8(_mm256_set1_epi32((int)x32), shuf);
    bytes = _mm256_or_si256(bytes, _mm256_set1_epi64x(0x7fbfdfeff7fbfdfe));
    return _mm256_and_si256(_mm256_cmpeq_epi8(bytes, _mm256_set1_epi64x(-1)), _mm256_set1_epi8(0x10));
}

void KERN(vec_dot_q4_1_q8_1)(int n, float *s, const void *vx, const void *vy)
{
    const lbs_q4_1 *x = vx;
    const lbs_q8_1 *y = vy;
    __m256 acc = _mm256_setzero_ps();
    float summ = 0.0f;
    for (int i = 0; i < n / LBS_QK; i++) {
        __m256i a = _mm256_loadu_si256((const __m256i *)y[i].qs);
        __m256i p = DPBUSD(_mm256_setzero_si256(), k_nibbles(x[i].qs), a);
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(k_h2f(x[i].d) * k_h2f(y[i].d)), acc);
        summ += k_h2f(x[i].m) * k_h2f(y[i].s);
    }
    *s = k_hsum8(acc) + summ;
}

void KERN(vec_dot_q5_0_q8_0)(int n, float *s, const void *vx, const void *vy)
{
    const lbs_q5_0 *x = vx;
    const lbs_q8_0 *y = vy;
    const __m256i sixteen = _mm256_set1_epi8(16);
    __m256 acc = _mm256_setzero_ps();
    for (int i = 0; i < n / LBS_QK; i++) {
        __m256i a = _mm256_loadu_si256((const __m256i *)y[i].qs);
        __m256i u = _mm256_or_si256(k_nibbles(x[i].qs), k_q5_high(x[i].qh));
        __m256i p = _mm256_sub_epi32(DPBUSD(_mm256_setzero_si256(), u, a), DPBUSD(_mm256_setzero_si256(), sixteen, a));
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(k_h2f(x[i].d) * k_h2f(y[i].d)), acc);
    }
    *s = k_hsum8(acc);
}

void KERN(vec_dot_q5_1_q8_1)(int n, float *s, const void *vx, const void *vy)
{
    const lbs_q5_1 *x = vx;
    const lbs_q8_1 *y = vy;
    __m256 acc = _mm256_setzero_ps();
    float summ = 0.0f;
    for (int i = 0; i < n / LBS_QK; i++) {
        __m256i a = _mm256_loadu_si256((const __m256i *)y[i].qs);
        __m256i u = _mm256_or_si256(k_nibbles(x[i].qs), k_q5_high(x[i].qh));
        __m256i p = DPBUSD(_mm256_setzero_si256(), u, a);
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(k_h2f(x[i].d) * k_h2f(y[i].d)), acc);
        summ += k_h2f(x[i].m) * k_h2f(y[i].s);
    }
    *s = k_hsum8(acc) + summ;
}

void KERN(vec_dot_q5_K_q8_K)(int n, float *s, const void *vx, const void *vy)
{
    const lbs_q5_K *x = vx;
    const lbs_q8_K *y = vy;
    const __m256i lowmask = _mm256_set1_epi8(0x0f), one = _mm256_set1_epi8(1);
    __m256 acc = _mm256_setzero_ps(), accm = _mm256_setzero_ps();
    for (int i = 0; i < n / LBS_QK_K; i++) {
        uint32_t u[4];
        k_k4_scales(x[i].scales, u);
        const uint8_t *sc = (const uint8_t *)u, *mn = sc + 8;
        const float d = y[i].d * k_h2f(x[i].d);
        const float dmin = y[i].d * k_h2f(x[i].dmin);
        __m256i bs = _mm256_loadu_si256((const __m256i *)y[i].bsums);
        __m128i m8 = _mm_loadl_epi64((const __m128i *)mn);
        __m256i m16 = _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(m8, m8));
        accm = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_madd_epi16(bs, m16)), _mm256_set1_ps(dmin), accm);
        __m256i hb = _mm256_loadu_si256((const __m256i *)x[i].qh);
        __m256i sumi = _mm256_setzero_si256();
        const uint8_t *q = x[i].qs;
        const int8_t *a = y[i].qs;
        for (int j = 0; j < 4; j++, q += 32, a += 64) {
            __m256i qv = _mm256_loadu_si256((const __m256i *)q);
            __m256i hlo = _mm256_slli_epi16(_mm256_and_si256(hb, one), 4);
            __m256i hhi = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 1), one), 4);
            hb = _mm256_srli_epi16(hb, 2);
            __m256i lo = _mm256_or_si256(_mm256_and_si256(qv, lowmask), hlo);
            __m256i hi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(qv, 4), lowmask), hhi);
            __m256i plo = _mm256_maddubs_epi16(lo, _mm256_loadu_si256((const __m256i *)a));
            __m256i phi = _mm256_maddubs_epi16(hi, _mm256_loadu_si256((const __m256i *)(a + 32)));
            sumi = DPWSSD(sumi, plo, _mm256_set1_epi16(sc[2 * j]));
            sumi = DPWSSD(sumi, phi, _mm256_set1_epi16(sc[2 * j + 1]));
        }
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sumi), _mm256_set1_ps(d), acc);
    }
    *s = k_hsum8(acc) - k_hsum8(accm);
}

static inline __m256 k_bf16x8(const uint16_t *p)
{
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p)), 16));
}

void KERN(vec_dot_bf16)(int n, float *s, const void *vx, const void *vy)
{
    const uint16_t *x = vx, *y = vy;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        acc0 = _mm256_fmadd_ps(k_bf16x8(x + i), k_bf16x8(y + i), acc0);
        acc1 = _mm256_fmadd_ps(k_bf16x8(x + i + 8), k_bf16x8(y + i + 8), acc1);
    }
    for (; i + 8 <= n; i += 8)
        acc0 = _mm256_fmadd_ps(k_bf16x8(x + i), k_bf16x8(y + i), acc0);
    float sum = k_hsum8(_mm256_add_ps(acc0, acc1));
    for (; i < n; i++) {
        uint32_t a = (uint32_t)x[i] << 16, b = (uint32_t)y[i] << 16;
        float fa, fb;
        memcpy(&fa, &a, 4);
        memcpy(&fb, &b, 4);
        sum += fa * fb;
    }
    *s = sum;
}

/* ---- F16 accumulator of online-softmax attention (as llama.cpp's CPU flash attention) ----
 * acc[d] = f16(fma(f32(v[d]), vs, f32(acc[d]))) for d < n_fma (one rounding, like its SIMD
 * body), f16(f32(acc[d]) + f32(v[d]) * vs) for the rest (its scalar tail). Bit-identical to
 * the scalar code: F16C converts with round-to-nearest-even and FMA rounds once. */
void KERN(f16_acc_fma)(int n_fma, int n, uint16_t *acc, const uint16_t *v, float vs)
{
    __m256 s = _mm256_set1_ps(vs);
    int d = 0;
    for (; d + 8 <= n_fma; d += 8) {
        __m256 a = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(acc + d)));
        __m256 x = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(v + d)));
        _mm_storeu_si128((__m128i *)(acc + d), _mm256_cvtps_ph(_mm256_fmadd_ps(x, s, a), _MM_FROUND_TO_NEAREST_INT));
    }
    for (; d < n_fma; d++)
        acc[d] = k_f2h(fmaf(k_h2f(v[d]), vs, k_h2f(acc[d])));
    for (; d < n; d++) {
        float prod = k_h2f(v[d]) * vs;
        acc[d] = k_f2h(k_h2f(acc[d]) + prod);
    }
}

/* acc[d] = f16(f32(acc[d]) * ms) */
void KERN(f16_scale)(int n, uint16_t *acc, float ms)
{
    __m256 s = _mm256_set1_ps(ms);
    int d = 0;
    for (; d + 8 <= n; d += 8) {
        __m256 a = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(acc + d)));
        _mm_storeu_si128((__m128i *)(acc + d), _mm256_cvtps_ph(_mm256_mul_ps(a, s), _MM_FROUND_TO_NEAREST_INT));
    }
    for (; d < n; d++)
        acc[d] = k_f2h(k_h2f(acc[d]) * ms);
}

/* e^x with a degree-6 polynomial on x - n ln2 (relative error ~2e-7 for x in [-87, 88]; x is
 * clamped there, which only matters where silu is already 0 or x itself). */
static inline __m256 k_exp(__m256 x)
{
    x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.0f)), _mm256_set1_ps(88.0f));
    __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693145752f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(1.42860677e-6f), r);
    __m256 p = _mm256_set1_ps(1.0f / 720);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

/* Attention probabilities of one query as ggml's soft_max hands them to the V product:
 * p[t] = f16(e^(scale * s[t] - max) / sum) as a float, for t < n. The exps are summed in
 * double, 8 lanes at a time (ggml's AVX2 order). */
void KERN(softmax_f16r)(int n, float scale, const float *s, float *p)
{
    const __m256 vs = _mm256_set1_ps(scale);
    __m256 vmax = _mm256_set1_ps(-INFINITY);
    int i = 0;
    for (; i + 8 <= n; i += 8)
        vmax = _mm256_max_ps(vmax, _mm256_mul_ps(_mm256_loadu_ps(s + i), vs));
    __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(vmax), _mm256_extractf128_ps(vmax, 1));
    m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
    m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
    float max = _mm_cvtss_f32(m4);
    for (; i < n; i++)
        max = s[i] * scale > max ? s[i] * scale : max;
    const __m256 vm = _mm256_set1_ps(max);
    double sum = 0;
    for (i = 0; i + 8 <= n; i += 8) {
        __m256 e = k_exp(_mm256_sub_ps(_mm256_mul_ps(_mm256_loadu_ps(s + i), vs), vm));
        _mm256_storeu_ps(p + i, e);
        sum += k_hsum8(e);
    }
    for (; i < n; i++) {
        p[i] = expf(s[i] * scale - max);
        sum += p[i];
    }
    const __m256 inv = _mm256_set1_ps((float)(1.0 / sum));
    for (i = 0; i + 8 <= n; i += 8)
        _mm256_storeu_ps(p + i, _mm256_cvtph_ps(_mm256_cvtps_ph(_mm256_mul_ps(_mm256_loadu_ps(p + i), inv),
                                                                _MM_FROUND_TO_NEAREST_INT)));
    for (; i < n; i++)
        p[i] = k_h2f(k_f2h(p[i] * _mm256_cvtss_f32(inv)));
}

/* g[i] = silu(g[i]) * u[i] = g / (1 + e^-g) * u (the FFN gate). */
void KERN(silu_mul)(int n, float *g, const float *u)
{
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 x = _mm256_loadu_ps(g + i);
        __m256 d = _mm256_add_ps(_mm256_set1_ps(1.0f), k_exp(_mm256_sub_ps(_mm256_setzero_ps(), x)));
        _mm256_storeu_ps(g + i, _mm256_mul_ps(_mm256_div_ps(x, d), _mm256_loadu_ps(u + i)));
    }
    for (; i < n; i++)
        g[i] = g[i] / (1.0f + expf(-g[i])) * u[i];
}

#include "kern_x4.h"
