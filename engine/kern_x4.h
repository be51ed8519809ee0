/* Kernels for the x4 weight layout (simd_blocks.h; packed by engine/repack.c), compiled per
 * ISA through kern_x86.h. A group of 4 rows is one contiguous stream; each block's quants are
 * unpacked once and multiplied against up to X4_TOKENS tokens' activations, so a
 * small decode batch reads the weights once. The integer sums per row are exact (lanes 2r and
 * 2r + 1 of the accumulator hold row r); only the float summation order differs from the
 * scalar reference. Included at the end of kern_x86.h. */

#define X4_TOKENS 4
/* Software prefetch X4_PREFETCH bytes ahead with the non-temporal hint: the weights are read
 * once per token, so they should not evict the activations and KV rows from L2. Measured on
 * AMD Zen 5 at 2 threads against 4 KiB with T0 (alternating runs, tg64 after pp128): 1B Q4_0
 * +20 %, Q8_0 +9 %, Q4_K +14 %, qwen2 +16 %; NTA at 2/4/12/16 KiB and T0 at 8 KiB in between. */
#ifndef X4_PREFETCH
#define X4_PREFETCH 8192
#endif
#define X4_HINT _MM_HINT_NTA

/* Quantizes one token to q8_0 (as the vec_dot path does) for the Q4_0/Q8_0 x4 kernels; the
 * block sums are stored times -(1 << shift), the weights' offset (3 for Q4_0, 7 for Q8_0). */
void KERN(x4_act)(const float *x, int k, int shift, lbs_x4_act *act)
{
    const __m256i ones = _mm256_set1_epi8(1);
    for (int b = 0; b < k / LBS_QK; b++) {
        lbs_q8_0 q;
        KERN(quantize_row_q8_0)(x + (size_t)b * LBS_QK, &q, LBS_QK);
        __m256i a = _mm256_loadu_si256((const __m256i *)q.qs);
        _mm256_storeu_si256((__m256i *)(act->qs + (size_t)b * 32), a);
        act->ns[2 * b] = -k_hsum8i(DPBUSD(_mm256_setzero_si256(), ones, a)) * (1 << shift);
        act->ns[2 * b + 1] = 0;
        act->dx[b] = k_h2f(q.d);
    }
}

/* Quantizes one token to q8_K (as the vec_dot path does) for the Q4_K or Q6_K x4 kernel,
 * with the group sums in the order the kernel's vpmaddwd pairs need. */
static inline void x4_act_k(const float *x, int k, int six, lbs_x4_act *act)
{
    for (int i = 0; i < k / LBS_QK_K; i++) {
        lbs_q8_K q;
        KERN(quantize_row_q8_K)(x + (size_t)i * LBS_QK_K, &q, LBS_QK_K);
        memcpy(act->qs + (size_t)i * LBS_QK_K, q.qs, LBS_QK_K);
        if (six) {
            for (int e = 0; e < 64; e++)
                act->bs[(size_t)i * 64 + e] = q.bsums[lbs_x6k_group_at(e)];
        } else {
            for (int j = 0; j < 8; j++) {
                int16_t sum = (int16_t)(q.bsums[2 * j] + q.bsums[2 * j + 1]);
                for (int r = 0; r < 4; r++) /* the same sum for every row's min */
                    act->bs[(size_t)i * 32 + lbs_x4k_min_at(r, j)] = sum;
            }
        }
        act->dx[i] = q.d;
    }
}

void KERN(x4_act_q4_K)(const float *x, int k, lbs_x4_act *act) { x4_act_k(x, k, 0, act); }
void KERN(x4_act_q6_K)(const float *x, int k, lbs_x4_act *act) { x4_act_k(x, k, 1, act); }

/* Prefetches the `bytes` after p + X4_PREFETCH (one super-block of the K-quants). */
static inline __attribute__((always_inline)) void x4_prefetch(const uint8_t *p, int bytes)
{
#pragma GCC unroll 14
    for (int l = 0; l < bytes; l += 64)
        _mm_prefetch((const char *)p + X4_PREFETCH + l, X4_HINT);
}

/* Prefetches, X4_PREFETCH ahead, the lines that start in [p + from, p + to): called with the
 * consecutive byte ranges of a group's blocks, it covers the whole group (scales included),
 * each line once. */
static inline __attribute__((always_inline)) void x4_prefetch_span(const uint8_t *p, size_t from, size_t to)
{
    uintptr_t a = ((uintptr_t)p + X4_PREFETCH + from + 63) & ~(uintptr_t)63, end = (uintptr_t)p + X4_PREFETCH + to;
    for (; a < end; a += 64)
        _mm_prefetch((const char *)a, X4_HINT);
}

/* The 4 rows' fp16 scales of one block as [d0 d0 d1 d1 d2 d2 d3 d3] (row r's lanes). */
static inline __attribute__((always_inline)) __m256 x4_scales(const uint16_t *sc)
{
    __m128i v = _mm_loadl_epi64((const __m128i *)sc);
    return _mm256_cvtph_ps(_mm_unpacklo_epi16(v, v));
}

/* Lanes 2r and 2r + 1 of 4 bytes [b0 b1 b2 b3] zero-extended: one byte per row. */
static inline __attribute__((always_inline)) __m256i x4_row_bytes(const uint8_t *b)
{
    int32_t w;
    memcpy(&w, b, 4);
    __m128i v = _mm_cvtsi32_si128(w);
    return _mm256_cvtepu8_epi32(_mm_unpacklo_epi8(v, v));
}

/* y[r] = lanes 2r + 2r+1 of acc. */
static inline __attribute__((always_inline)) void x4_store(__m256 acc, float *y)
{
    __m256 s = _mm256_add_ps(acc, _mm256_permute_ps(acc, 0xb1));
    _mm_storeu_ps(y, _mm256_castps256_ps128(_mm256_permutevar8x32_ps(s, _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6))));
}

static inline __attribute__((always_inline)) void x4_zero(__m256 acc[X4_TOKENS], const int nt)
{
#pragma GCC unroll 4
    for (int t = 0; t < nt; t++)
        acc[t] = _mm256_setzero_ps();
}

/* Token t's 4 results to y + t * ldy. */
static inline __attribute__((always_inline)) void x4_store_all(const __m256 acc[X4_TOKENS], const int nt, float *y,
                                                               size_t ldy)
{
#pragma GCC unroll 4
    for (int t = 0; t < nt; t++)
        x4_store(acc[t], y + (size_t)t * ldy);
}

/* Activation bytes 8v..8v+7 of block b, broadcast to the 4 rows (a load, no shuffle). */
static inline __attribute__((always_inline)) __m256i x4_e(const lbs_x4_act *a, int b, int v)
{
    long long q;
    memcpy(&q, a->qs + (size_t)b * 32 + v * 8, 8);
    return _mm256_set1_epi64x(q);
}

/* The block's start value for the Q4_0/Q8_0 sums: minus the offset times the block sum in
 * each row's first lane. */
static inline __attribute__((always_inline)) __m256i x4_ns(const lbs_x4_act *a, int b)
{
    long long q;
    memcpy(&q, a->ns + (size_t)b * 2, 8);
    return _mm256_set1_epi64x(q);
}

/* Q4_0: nibble byte j*32 + r*8 + i holds elements 8j+i (low) and 16+8j+i (high) of row r, so
 * vector 0 pairs with activation bytes 0-7 (low) and 16-23 (high), vector 1 with 8-15 and
 * 24-31. The nibbles' offset of 8 comes back through the block sum (ns = -8 * sum). */
static inline __attribute__((always_inline)) void x4_q4_0_group(int nb, const uint8_t *g, const lbs_x4_act *act,
                                                                const int nt, float *y, size_t ldy)
{
    const uint16_t *sc = (const uint16_t *)g;
    const uint8_t *qs = g + (size_t)nb * 8;
    const __m256i m4 = _mm256_set1_epi8(0x0f);
    __m256 acc[X4_TOKENS];
    x4_zero(acc, nt);
    for (int b = 0; b < nb; b++, qs += LBS_X4_QBYTES_Q4_0) {
        x4_prefetch_span(g, (size_t)b * (8 + LBS_X4_QBYTES_Q4_0), (size_t)(b + 1) * (8 + LBS_X4_QBYTES_Q4_0));
        __m256i v0 = _mm256_loadu_si256((const __m256i *)qs), v1 = _mm256_loadu_si256((const __m256i *)(qs + 32));
        __m256i l0 = _mm256_and_si256(v0, m4), h0 = _mm256_and_si256(_mm256_srli_epi16(v0, 4), m4);
        __m256i l1 = _mm256_and_si256(v1, m4), h1 = _mm256_and_si256(_mm256_srli_epi16(v1, 4), m4);
        __m256 dw = x4_scales(sc + 4 * b);
#pragma GCC unroll 4
        for (int t = 0; t < nt; t++) {
            __m256i p = x4_ns(&act[t], b);
            p = DPBUSD(DPBUSD(p, l0, x4_e(&act[t], b, 0)), l1, x4_e(&act[t], b, 1));
            p = DPBUSD(DPBUSD(p, h0, x4_e(&act[t], b, 2)), h1, x4_e(&act[t], b, 3));
            acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p),
                                     _mm256_mul_ps(dw, _mm256_set1_ps(act[t].dx[b])), acc[t]);
        }
    }
    x4_store_all(acc, nt, y, ldy);
}

/* Q8_0: vector v (bytes 32v..) holds bytes 8v..8v+7 of each row.
 * VNNI multiplies unsigned by signed: the weights are read as w + 128 and 128 * sum comes
 * back through the block sum (ns = -128 * sum). Without VNNI (maddubs pairs saturate at int16) the sign moves
 * to the activations instead: |w| * (a * sign(w)). */
static inline __attribute__((always_inline)) void x4_q8_0_group(int nb, const uint8_t *g, const lbs_x4_act *act,
                                                                const int nt, float *y, size_t ldy)
{
    const uint16_t *sc = (const uint16_t *)g;
    const uint8_t *qs = g + (size_t)nb * 8;
    __m256 acc[X4_TOKENS];
    x4_zero(acc, nt);
    for (int b = 0; b < nb; b++, qs += LBS_X4_QBYTES_Q8_0) {
        x4_prefetch_span(g, (size_t)b * (8 + LBS_X4_QBYTES_Q8_0), (size_t)(b + 1) * (8 + LBS_X4_QBYTES_Q8_0));
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
            __m256i p = x4_ns(&act[t], b);
            p = DPBUSD(DPBUSD(p, w0, x4_e(&act[t], b, 0)), w1, x4_e(&act[t], b, 1));
            p = DPBUSD(DPBUSD(p, w2, x4_e(&act[t], b, 2)), w3, x4_e(&act[t], b, 3));
#else
            __m256i p = DPBUSD(_mm256_setzero_si256(), _mm256_abs_epi8(w0), _mm256_sign_epi8(x4_e(&act[t], b, 0), w0));
            p = DPBUSD(p, _mm256_abs_epi8(w1), _mm256_sign_epi8(x4_e(&act[t], b, 1), w1));
            p = DPBUSD(p, _mm256_abs_epi8(w2), _mm256_sign_epi8(x4_e(&act[t], b, 2), w2));
            p = DPBUSD(p, _mm256_abs_epi8(w3), _mm256_sign_epi8(x4_e(&act[t], b, 3), w3));
#endif
            acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p),
                                     _mm256_mul_ps(dw, _mm256_set1_ps(act[t].dx[b])), acc[t]);
        }
    }
    x4_store_all(acc, nt, y, ldy);
}

/* Q4_K: super-block b is [d x4][dmin x4][scales and mins, 48 bytes][quants, 512 bytes]
 * (simd_blocks.h). Chunk c of the quants (128 bytes) holds sub-blocks 2c (low nibbles) and
 * 2c + 1 (high), vector v of it with activation bytes 8v..8v+7 of those sub-blocks.
 * A sub-block's 4 dpbusd sums stay within int16 (16 products of 15 * 127 per lane), so one
 * vpdpwssd against the zero-extended scale multiplies and accumulates them; the mins meet the
 * activations' sub-block sums in int16 pairs (lbs_x4k_min_at's order). */
static inline __attribute__((always_inline)) void x4_q4_K_group(int nsb, const uint8_t *g, const lbs_x4_act *act,
                                                                const int nt, float *y, size_t ldy)
{
    const __m256i m4 = _mm256_set1_epi8(0x0f);
    uint32_t scw[8] __attribute__((aligned(32)));
    __m256 acc[X4_TOKENS];
    x4_zero(acc, nt);
    for (int b = 0; b < nsb; b++, g += LBS_X4_SB_Q4_K) {
        x4_prefetch(g, LBS_X4_SB_Q4_K);
        __m256i sc, mn;
        lbs_x4k_unpack_avx2(g + 16, &sc, &mn);
        _mm256_store_si256((__m256i *)scw, sc);
        __m256i mn0 = _mm256_cvtepu8_epi16(_mm256_castsi256_si128(mn));
        __m256i mn1 = _mm256_cvtepu8_epi16(_mm256_extracti128_si256(mn, 1));
        __m256i isum[X4_TOKENS];
#pragma GCC unroll 4
        for (int t = 0; t < nt; t++)
            isum[t] = _mm256_setzero_si256();
        const uint8_t *qs = g + LBS_X4_HDR_Q4_K;
#pragma GCC unroll 4
        for (int c = 0; c < 4; c++, qs += 128) {
            __m256i w0 = _mm256_loadu_si256((const __m256i *)qs), w1 = _mm256_loadu_si256((const __m256i *)(qs + 32));
            __m256i w2 = _mm256_loadu_si256((const __m256i *)(qs + 64)), w3 = _mm256_loadu_si256((const __m256i *)(qs + 96));
            __m256i l0 = _mm256_and_si256(w0, m4), h0 = _mm256_and_si256(_mm256_srli_epi16(w0, 4), m4);
            __m256i l1 = _mm256_and_si256(w1, m4), h1 = _mm256_and_si256(_mm256_srli_epi16(w1, 4), m4);
            __m256i l2 = _mm256_and_si256(w2, m4), h2 = _mm256_and_si256(_mm256_srli_epi16(w2, 4), m4);
            __m256i l3 = _mm256_and_si256(w3, m4), h3 = _mm256_and_si256(_mm256_srli_epi16(w3, 4), m4);
            /* row r's lanes: its scale of sub-block 2c (s0) and 2c + 1 (s1) */
            __m256i s0 = x4_row_bytes((const uint8_t *)&scw[2 * c]), s1 = x4_row_bytes((const uint8_t *)&scw[2 * c + 1]);
            const int sb = b * 8 + 2 * c;
#pragma GCC unroll 4
            for (int t = 0; t < nt; t++) {
                __m256i p = DPBUSD(_mm256_setzero_si256(), l0, x4_e(&act[t], sb, 0));
                p = DPBUSD(DPBUSD(DPBUSD(p, l1, x4_e(&act[t], sb, 1)), l2, x4_e(&act[t], sb, 2)), l3,
                           x4_e(&act[t], sb, 3));
                __m256i q = DPBUSD(_mm256_setzero_si256(), h0, x4_e(&act[t], sb + 1, 0));
                q = DPBUSD(DPBUSD(DPBUSD(q, h1, x4_e(&act[t], sb + 1, 1)), h2, x4_e(&act[t], sb + 1, 2)), h3,
                           x4_e(&act[t], sb + 1, 3));
                isum[t] = DPWSSD(DPWSSD(isum[t], p, s0), q, s1);
            }
        }
        __m256 dw = x4_scales((const uint16_t *)g), dm = x4_scales((const uint16_t *)(g + 8));
#pragma GCC unroll 4
        for (int t = 0; t < nt; t++) {
            const __m256i *bs = (const __m256i *)(act[t].bs + (size_t)b * 32);
            __m256i mins = _mm256_add_epi32(_mm256_madd_epi16(mn0, _mm256_load_si256(bs)),
                                            _mm256_madd_epi16(mn1, _mm256_load_si256(bs + 1)));
            __m256 da = _mm256_set1_ps(act[t].dx[b]);
            acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[t]), _mm256_mul_ps(dw, da), acc[t]);
            acc[t] = _mm256_fnmadd_ps(_mm256_cvtepi32_ps(mins), _mm256_mul_ps(dm, da), acc[t]);
        }
    }
    x4_store_all(acc, nt, y, ldy);
}

/* Q6_K: super-block b is [d x4][scales x4, 64 bytes][ql, 512 bytes][qh, 256 bytes]
 * (simd_blocks.h). For each half n and vector v, ql chunks 2n and 2n + 1 with qh chunk n give
 * the 6-bit values (0-63) of 32-blocks 4n .. 4n + 3 at activation bytes 8v..8v+7; a row's two
 * lanes are in one group of 16, scale 8n + 2k + v / 2 for block 4n + k. Four products of
 * 63 * 127 stay within int16, so one vpdpwssd applies each (signed) scale; the values' offset
 * of 32 comes back as 32 * sum(scale * group sum) (vpmaddwd pairs, lbs_x6k_group_at). */
static inline __attribute__((always_inline)) void x4_q6_K_group(int nsb, const uint8_t *g, const lbs_x4_act *act,
                                                                const int nt, float *y, size_t ldy)
{
    const __m256i lo16 = _mm256_set1_epi32(0xffff);
    const __m128i pairs = _mm_setr_epi8(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    __m256 acc[X4_TOKENS];
    x4_zero(acc, nt);
    for (int b = 0; b < nsb; b++, g += LBS_X4_SB_Q6_K) {
        x4_prefetch(g, LBS_X4_SB_Q6_K);
        const uint8_t *scb = g + 8;
        __m256i isum[X4_TOKENS];
#pragma GCC unroll 4
        for (int t = 0; t < nt; t++)
            isum[t] = _mm256_setzero_si256();
        for (int n = 0; n < 2; n++) {
#pragma GCC unroll 2
            for (int vp = 0; vp < 2; vp++) {
                __m256i sc[4]; /* scales of groups 8n + 2k + vp, one per 32-block 4n + k */
#pragma GCC unroll 4
                for (int k = 0; k < 4; k++) {
                    int32_t w;
                    memcpy(&w, scb + 4 * (8 * n + 2 * k + vp), 4);
                    __m128i x = _mm_cvtsi32_si128(w);
                    sc[k] = _mm256_and_si256(_mm256_cvtepi8_epi32(_mm_unpacklo_epi8(x, x)), lo16);
                }
#pragma GCC unroll 2
                for (int v = 2 * vp; v < 2 * vp + 2; v++) {
                    const uint8_t *ql = g + LBS_X4_QL_Q6_K + 256 * n + 32 * v;
                    __m256i q[4];
                    k_q6_values(ql, ql + 128, g + LBS_X4_QH_Q6_K + 128 * n + 32 * v, q);
                    const int blk = b * 8 + 4 * n;
#pragma GCC unroll 4
                    for (int t = 0; t < nt; t++) {
#pragma GCC unroll 4
                        for (int k = 0; k < 4; k++)
                            isum[t] = DPWSSD(isum[t], DPBUSD(_mm256_setzero_si256(), q[k], x4_e(&act[t], blk + k, v)),
                                             sc[k]);
                    }
                }
            }
        }
        __m256i s16[4];
#pragma GCC unroll 4
        for (int i = 0; i < 4; i++)
            s16[i] = _mm256_cvtepi8_epi16(_mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(scb + 16 * i)), pairs));
        __m256 dw = x4_scales((const uint16_t *)g);
#pragma GCC unroll 4
        for (int t = 0; t < nt; t++) {
            const __m256i *bs = (const __m256i *)(act[t].bs + (size_t)b * 64);
            __m256i off = _mm256_add_epi32(_mm256_madd_epi16(s16[0], _mm256_load_si256(bs)),
                                           _mm256_madd_epi16(s16[1], _mm256_load_si256(bs + 1)));
            off = _mm256_add_epi32(off, _mm256_add_epi32(_mm256_madd_epi16(s16[2], _mm256_load_si256(bs + 2)),
                                                         _mm256_madd_epi16(s16[3], _mm256_load_si256(bs + 3))));
            __m256i is = _mm256_sub_epi32(isum[t], _mm256_slli_epi32(off, 5));
            acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(is), _mm256_mul_ps(dw, _mm256_set1_ps(act[t].dx[b])), acc[t]);
        }
    }
    x4_store_all(acc, nt, y, ldy);
}

/* y[t * ldy + r] = row r . token t for the rows of groups [g0, g1) and n_tok tokens, up to
 * `step` tokens per pass over a group (the token count is a constant in each call, so the
 * group kernel's token loops unroll; X4_NT clamps the cases a 4-token kernel never sees). */
#define X4_NT(n, step) ((n) < (step) ? (n) : (step))
#define X4_GEMM(name, group, blk, blk_bytes, step)                                                                \
    void KERN(name)(int k, int g0, int g1, const void *w, const lbs_x4_act *act, int n_tok, float *y, size_t ldy) \
    {                                                                                                             \
        const int nb = k / (blk);                                                                                 \
        for (int g = g0; g < g1; g++) {                                                                           \
            const uint8_t *wg = (const uint8_t *)w + (size_t)g * nb * (blk_bytes);                                \
            for (int t = 0; t < n_tok; t += (step)) {                                                             \
                float *yt = y + (size_t)t * ldy + (size_t)g * 4;                                                  \
                switch (n_tok - t) {                                                                              \
                case 1: group(nb, wg, act + t, X4_NT(1, step), yt, ldy); break;                                   \
                case 2: group(nb, wg, act + t, X4_NT(2, step), yt, ldy); break;                                   \
                case 3: group(nb, wg, act + t, X4_NT(3, step), yt, ldy); break;                                   \
                case 4: group(nb, wg, act + t, X4_NT(4, step), yt, ldy); break;                                   \
                case 5: group(nb, wg, act + t, X4_NT(5, step), yt, ldy); break;                                   \
                case 6: group(nb, wg, act + t, X4_NT(6, step), yt, ldy); break;                                   \
                case 7: group(nb, wg, act + t, X4_NT(7, step), yt, ldy); break;                                   \
                default: group(nb, wg, act + t, (step), yt, ldy); break;                                          \
                }                                                                                                 \
            }                                                                                                     \
        }                                                                                                         \
    }
X4_GEMM(gemm_x4_q4_0, x4_q4_0_group, LBS_QK, 8 + LBS_X4_QBYTES_Q4_0, X4_TOKENS)
X4_GEMM(gemm_x4_q8_0, x4_q8_0_group, LBS_QK, 8 + LBS_X4_QBYTES_Q8_0, X4_TOKENS)
X4_GEMM(gemm_x4_q4_K, x4_q4_K_group, LBS_QK_K, LBS_X4_SB_Q4_K, X4_TOKENS)
X4_GEMM(gemm_x4_q6_K, x4_q6_K_group, LBS_QK_K, LBS_X4_SB_Q6_K, X4_TOKENS)

#ifdef KERN_ZMM
/* The Q4_0/Q8_0 kernels in 512-bit registers (selected where lb_cpu_caps says zmm_x4): one
 * zmm holds a Q4_0 block's 64 quant bytes (vectors 0 and 1 of the 256-bit kernel side by
 * side), a Q8_0 block takes two; one vpermq spreads activation bytes 0-15 (or 16-31) to
 * match: [8v..8v+7 for the 4 rows | 8v+8..8v+15 for the 4 rows]. Row r's integer sums sit in
 * lanes 2r, 2r+1, 8+2r, 9+2r. Up to X4Z_TOKENS tokens per pass over a group. */
#define X4Z_TOKENS 8 /* measured: 8 tokens per pass gave 10 % more prompt tokens/s than 4 */

static inline __attribute__((always_inline)) __m512 x4z_scales(const uint16_t *sc)
{
    __m128i v = _mm_loadl_epi64((const __m128i *)sc);
    return _mm512_cvtph_ps(_mm256_broadcastsi128_si256(_mm_unpacklo_epi16(v, v)));
}

/* acc + the block's 4 row sums for one token: lo pairs with activation bytes 0-15, hi with
 * 16-31; the offset term (ns) enters each row's first lane of the low half only. */
static inline __attribute__((always_inline)) __m512 x4z_token(__m512i lo, __m512i hi, const lbs_x4_act *a, int b,
                                                             __m512 dw, __m512 acc)
{
    const __m512i ilo = _mm512_set_epi64(1, 1, 1, 1, 0, 0, 0, 0), ihi = _mm512_set_epi64(3, 3, 3, 3, 2, 2, 2, 2);
    __m512i e = _mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)(a->qs + (size_t)b * 32)));
    long long ns;
    memcpy(&ns, a->ns + (size_t)b * 2, 8);
    __m512i p = _mm512_maskz_set1_epi64(0x0f, ns);
    p = _mm512_dpbusd_epi32(p, lo, _mm512_permutexvar_epi64(ilo, e));
    p = _mm512_dpbusd_epi32(p, hi, _mm512_permutexvar_epi64(ihi, e));
    return _mm512_fmadd_ps(_mm512_cvtepi32_ps(p), _mm512_mul_ps(dw, _mm512_set1_ps(a->dx[b])), acc);
}

static inline __attribute__((always_inline)) void x4z_group(const int q8, int nb, const uint8_t *g,
                                                            const lbs_x4_act *act, const int nt, float *y, size_t ldy)
{
    const size_t bb = 8 + (q8 ? LBS_X4_QBYTES_Q8_0 : LBS_X4_QBYTES_Q4_0);
    const uint16_t *sc = (const uint16_t *)g;
    const uint8_t *qs = g + (size_t)nb * 8;
    const __m512i m4 = _mm512_set1_epi8(0x0f), flip = _mm512_set1_epi8((char)0x80);
    __m512 acc[X4Z_TOKENS];
#pragma GCC unroll 8
    for (int t = 0; t < nt; t++)
        acc[t] = _mm512_setzero_ps();
    for (int b = 0; b < nb; b++, qs += bb - 8) {
        x4_prefetch_span(g, (size_t)b * bb, (size_t)(b + 1) * bb);
        __m512i lo, hi;
        if (q8) { /* read as w + 128 (VNNI multiplies unsigned by signed); ns = -128 * sum */
            lo = _mm512_xor_si512(_mm512_loadu_si512((const void *)qs), flip);
            hi = _mm512_xor_si512(_mm512_loadu_si512((const void *)(qs + 64)), flip);
        } else { /* nibbles; ns = -8 * sum */
            __m512i v = _mm512_loadu_si512((const void *)qs);
            lo = _mm512_and_si512(v, m4);
            hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), m4);
        }
        __m512 dw = x4z_scales(sc + 4 * b);
#pragma GCC unroll 8
        for (int t = 0; t < nt; t++)
            acc[t] = x4z_token(lo, hi, &act[t], b, dw, acc[t]);
    }
#pragma GCC unroll 8
    for (int t = 0; t < nt; t++)
        x4_store(_mm256_add_ps(_mm512_castps512_ps256(acc[t]), _mm512_extractf32x8_ps(acc[t], 1)), y + (size_t)t * ldy);
}

static inline __attribute__((always_inline)) void x4z_q4_0_group(int nb, const uint8_t *g, const lbs_x4_act *act,
                                                                 const int nt, float *y, size_t ldy)
{
    x4z_group(0, nb, g, act, nt, y, ldy);
}

static inline __attribute__((always_inline)) void x4z_q8_0_group(int nb, const uint8_t *g, const lbs_x4_act *act,
                                                                 const int nt, float *y, size_t ldy)
{
    x4z_group(1, nb, g, act, nt, y, ldy);
}

X4_GEMM(gemm_x4z_q4_0, x4z_q4_0_group, LBS_QK, 8 + LBS_X4_QBYTES_Q4_0, X4Z_TOKENS)
X4_GEMM(gemm_x4z_q8_0, x4z_q8_0_group, LBS_QK, 8 + LBS_X4_QBYTES_Q8_0, X4Z_TOKENS)
#endif
#undef X4_GEMM
#undef X4_NT
