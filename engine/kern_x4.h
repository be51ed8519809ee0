/* Kernels for the x4 weight layout (simd_blocks.h; packed by engine/repack.c), compiled per
 * ISA through kern_x86.h. A group of 4 rows is one contiguous stream; each block's quants are
 * unpacked once and multiplied against up to X4_TOKENS tokens' activations, so a
 * small decode batch reads the weights once. The integer sums per row are exact (lanes r and
 * r + 4 of the accumulator hold row r); only the float summation order differs from the
 * scalar reference. Included at the end of kern_x86.h. */

#define X4_TOKENS 4
#ifndef X4_PREFETCH
#define X4_PREFETCH 4096 /* bytes ahead: far enough to cover memory latency at full bandwidth (measured) */
#endif

/* Quantizes one token to q8_0 (as the vec_dot path does) for the x4 kernels; the block sums
 * are stored times -(1 << shift), the weights' offset (3 for Q4_0, 7 for Q8_0). */
void KERN(x4_act)(const float *x, int k, int shift, lbs_x4_act *act)
{
    const __m256i ones = _mm256_set1_epi8(1);
    for (int b = 0; b < k / LBS_QK; b++) {
        lbs_q8_0 q;
        KERN(quantize_row_q8_0)(x + (size_t)b * LBS_QK, &q, LBS_QK);
        __m256i a = _mm256_loadu_si256((const __m256i *)q.qs);
        _mm256_storeu_si256((__m256i *)(act->qs + (size_t)b * 32), a);
        int s = -k_hsum8i(DPBUSD(_mm256_setzero_si256(), ones, a)) * (1 << shift);
        _mm256_storeu_si256((__m256i *)(act->ns + (size_t)b * 8), _mm256_setr_epi32(s, s, s, s, 0, 0, 0, 0));
        act->dx[b] = k_h2f(q.d);
    }
}

/* The 4 rows' scales of one block as [d0 d1 d2 d3 d0 d1 d2 d3]. */
static inline __attribute__((always_inline)) __m256 x4_scales(const uint16_t *sc)
{
    long long v;
    memcpy(&v, sc, 8);
    return _mm256_cvtph_ps(_mm_set1_epi64x(v));
}

static inline __attribute__((always_inline)) void x4_store(__m256 acc, float *y)
{
    _mm_storeu_ps(y, _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1)));
}

/* Activation groups 2v and 2v+1 (4 values each) of a block, each repeated for the 4 rows:
 * the lanes line up with weight bytes j*16 + r*4 of the x4 layout. */
#define X4_E(a, v) _mm256_permutevar8x32_epi32((a), _mm256_setr_epi32(2 * (v), 2 * (v), 2 * (v), 2 * (v), \
                                                                   2 * (v) + 1, 2 * (v) + 1, 2 * (v) + 1, 2 * (v) + 1))

static inline __attribute__((always_inline)) __m256i x4_qs(const lbs_x4_act *a, int b)
{
    return _mm256_loadu_si256((const __m256i *)(a->qs + (size_t)b * 32));
}

/* Q4_0: nibble byte j*16 + r*4 + i holds elements 4j+i (low) and 16+4j+i (high) of row r, so
 * vector 0 (j = 0, 1) pairs with activation groups 0-1 (low) and 4-5 (high), vector 1 with 2-3
 * and 6-7. The nibbles' offset of 8 comes back through the block sum (ns = -8 * sum). */
static inline __attribute__((always_inline)) void x4_q4_0_group(int nb, const uint8_t *g, const lbs_x4_act *act,
                                                                const int nt, float *y, size_t ldy)
{
    const uint16_t *sc = (const uint16_t *)g;
    const uint8_t *qs = g + (size_t)nb * 8;
    const __m256i m4 = _mm256_set1_epi8(0x0f);
    __m256 acc[X4_TOKENS];
#pragma GCC unroll 4
    for (int t = 0; t < nt; t++)
        acc[t] = _mm256_setzero_ps();
    for (int b = 0; b < nb; b++, qs += LBS_X4_QBYTES_Q4_0) {
        _mm_prefetch((const char *)qs + X4_PREFETCH, _MM_HINT_T0);
        __m256i v0 = _mm256_loadu_si256((const __m256i *)qs), v1 = _mm256_loadu_si256((const __m256i *)(qs + 32));
        __m256i l0 = _mm256_and_si256(v0, m4), h0 = _mm256_and_si256(_mm256_srli_epi16(v0, 4), m4);
        __m256i l1 = _mm256_and_si256(v1, m4), h1 = _mm256_and_si256(_mm256_srli_epi16(v1, 4), m4);
        __m256 dw = x4_scales(sc + 4 * b);
#pragma GCC unroll 4
        for (int t = 0; t < nt; t++) {
            __m256i a = x4_qs(&act[t], b), p = _mm256_loadu_si256((const __m256i *)(act[t].ns + (size_t)b * 8));
            p = DPBUSD(DPBUSD(p, l0, X4_E(a, 0)), l1, X4_E(a, 1));
            p = DPBUSD(DPBUSD(p, h0, X4_E(a, 2)), h1, X4_E(a, 3));
            acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p),
                                     _mm256_mul_ps(dw, _mm256_set1_ps(act[t].dx[b])), acc[t]);
        }
    }
#pragma GCC unroll 4
    for (int t = 0; t < nt; t++)
        x4_store(acc[t], y + (size_t)t * ldy);
}

/* Q8_0: vector v (bytes 32v..) holds groups 2v and 2v+1, the lanes of X4_E(a, v).
 * VNNI multiplies unsigned by signed: the weights are read as w + 128 and 128 * sum comes
 * back through the block sum (ns = -128 * sum). Without VNNI (maddubs pairs saturate at int16) the sign moves
 * to the activations instead: |w| * (a * sign(w)). */
static inline __attribute__((always_inline)) void x4_q8_0_group(int nb, const uint8_t *g, const lbs_x4_act *act,
                                                                const int nt, float *y, size_t ldy)
{
    const uint16_t *sc = (const uint16_t *)g;
    const uint8_t *qs = g + (size_t)nb * 8;
    __m256 acc[X4_TOKENS];
#pragma GCC unroll 4
    for (int t = 0; t < nt; t++)
        acc[t] = _mm256_setzero_ps();
    for (int b = 0; b < nb; b++, qs += LBS_X4_QBYTES_Q8_0) {
        _mm_prefetch((const char *)qs + X4_PREFETCH, _MM_HINT_T0);
        _mm_prefetch((const char *)qs + X4_PREFETCH + 64, _MM_HINT_T0);
        __m256i w0 = _mm256_loadu_si256((const __m256i *)qs), w1 = _mm256_loadu_si256((const __m256i *)(qs + 32));
        __m256i w2 = _mm256_loadu_si256((const __m256i *)(qs + 64)), w3 = _mm256_loadu_si256((const __m256i *)(qs + 96));
        __m256 dw = x4_scales(sc + 4 * b);
#ifdef KERN_VNNI
        const __m256i flip = _mm256_set1_epi8((char)0x80);
        w0 = _mm256_xor_si256(w0, flip);
        w1 = _mm256_xor_si256(w1, flip);
        w2 = _mm256_xor_si256(w2, flip);
        w3 = _mm256_xor_si256(w3, flip);
#endif
#pragma GCC unroll 4
        for (int t = 0; t < nt; t++) {
#ifdef KERN_VNNI
            __m256i a = x4_qs(&act[t], b), p = _mm256_loadu_si256((const __m256i *)(act[t].ns + (size_t)b * 8));
            p = DPBUSD(DPBUSD(p, w0, X4_E(a, 0)), w1, X4_E(a, 1));
            p = DPBUSD(DPBUSD(p, w2, X4_E(a, 2)), w3, X4_E(a, 3));
#else
            __m256i a = x4_qs(&act[t], b);
            __m256i p = DPBUSD(_mm256_setzero_si256(), _mm256_abs_epi8(w0), _mm256_sign_epi8(X4_E(a, 0), w0));
            p = DPBUSD(p, _mm256_abs_epi8(w1), _mm256_sign_epi8(X4_E(a, 1), w1));
            p = DPBUSD(p, _mm256_abs_epi8(w2), _mm256_sign_epi8(X4_E(a, 2), w2));
            p = DPBUSD(p, _mm256_abs_epi8(w3), _mm256_sign_epi8(X4_E(a, 3), w3));
#endif
            acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p),
                                     _mm256_mul_ps(dw, _mm256_set1_ps(act[t].dx[b])), acc[t]);
        }
    }
#pragma GCC unroll 4
    for (int t = 0; t < nt; t++)
        x4_store(acc[t], y + (size_t)t * ldy);
}

/* y[t * ldy + r] = row r . token t for the rows of groups [g0, g1) and n_tok tokens. */
#define X4_GEMM(type, group_bytes)                                                                              \
    void KERN(gemm_x4_##type)(int k, int g0, int g1, const void *w, const lbs_x4_act *act, int n_tok, float *y, \
                              size_t ldy)                                                                       \
    {                                                                                                           \
        const int nb = k / LBS_QK;                                                                              \
        for (int g = g0; g < g1; g++) {                                                                         \
            const uint8_t *wg = (const uint8_t *)w + (size_t)g * nb * (group_bytes);                            \
            for (int t = 0; t < n_tok; t += X4_TOKENS) {                                                        \
                float *yt = y + (size_t)t * ldy + (size_t)g * 4;                                                \
                switch (n_tok - t < X4_TOKENS ? n_tok - t : X4_TOKENS) {                                        \
                case 1: x4_##type##_group(nb, wg, act + t, 1, yt, ldy); break;                                  \
                case 2: x4_##type##_group(nb, wg, act + t, 2, yt, ldy); break;                                  \
                case 3: x4_##type##_group(nb, wg, act + t, 3, yt, ldy); break;                                  \
                default: x4_##type##_group(nb, wg, act + t, 4, yt, ldy); break;                                 \
                }                                                                                               \
            }                                                                                                   \
        }                                                                                                       \
    }
X4_GEMM(q4_0, 8 + LBS_X4_QBYTES_Q4_0)
X4_GEMM(q8_0, 8 + LBS_X4_QBYTES_Q8_0)
#undef X4_GEMM
#undef X4_E
