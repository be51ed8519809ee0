/* AMX-INT8 tile GEMM (see gemm.h). One TDPBSSD per 16 weight rows x 16 tokens x one block of
 * 32; the int32 tile is scaled by (row scale x token scale) into float accumulators. Weights
 * are unpacked to signed int8 two 16-row groups at a time and reused for every token tile;
 * each step multiplies those 32 rows with 32 tokens (four C tiles from two A and two B tiles,
 * so every tile load serves two products). */
#include <immintrin.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "gemm.h"
#include "kern_simd.h"
#include "repack.h"
#include "simd_blocks.h"
#include "x4k_unpack.h"

enum { T_Q4_0 = 2, T_Q8_0 = 8, T_Q4_K = 12 };

typedef struct {
    uint8_t palette, start_row, reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} tile_cfg;

/* Tile registers: 0-3 = C (16 x 16 int32) of row group i and token tile j at 2i + j;
 * 4, 5 = A of row groups 0, 1 (16 rows x 32 int8); 6, 7 = B of token tiles 0, 1 (8 x 64 int8). */
static __thread int t_configured;

static void tiles_config(void)
{
    if (t_configured)
        return;
    tile_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.palette = 1;
    for (int t = 0; t < 8; t++) {
        cfg.rows[t] = t >= 6 ? 8 : 16;
        cfg.colsb[t] = t == 4 || t == 5 ? 32 : 64;
    }
    _tile_loadconfig(&cfg);
    t_configured = 1;
}

static char *align64(void *p) { return (char *)(((uintptr_t)p + 63) & ~(uintptr_t)63); }

static inline float h2f(uint16_t h) { return _cvtsh_ss(h); }

/* Scatter one quantized token (int8 blocks of 32) into the B tiles of its 16-token tile. */
static void scatter_token(lb_gemm_acts *a, int t, const int8_t *q32 /* kb*32 contiguous */)
{
    int tile = t / 16, lane = t % 16;
    for (int kb = 0; kb < a->kb; kb++) {
        int8_t *b = a->b + ((size_t)tile * a->kb + kb) * 512 + lane * 4;
        const uint32_t *src = (const uint32_t *)(q32 + kb * 32);
        for (int r = 0; r < 8; r++)
            memcpy(b + r * 64, &src[r], 4);
    }
}

void lb_amx_acts_quantize(lb_gemm_acts *a, const float *x, size_t ldx, int t0, int t1, void *scratch)
{
    int8_t *row = (int8_t *)align64(scratch);
    char *qbuf = (char *)row + ((a->k + 63) & ~63);
    for (int t = t0; t < t1; t++) {
        const float *xt = x + (size_t)t * ldx;
        int tile = t / 16, lane = t % 16;
        float *da = a->da + (size_t)tile * a->kb * 16 + lane;
        float *as = a->asum + (size_t)tile * a->kb * 16 + lane;
        if (a->wtype == T_Q4_K) {
            lbs_q8_K *q = (lbs_q8_K *)qbuf;
            lb_kern_avx512_quantize_row_q8_K(xt, q, a->k);
            for (int i = 0; i < a->k / 256; i++) {
                memcpy(row + i * 256, q[i].qs, 256);
                for (int sb = 0; sb < 8; sb++) {
                    da[(i * 8 + sb) * 16] = q[i].d;
                    as[(i * 8 + sb) * 16] = q[i].d * (float)(q[i].bsums[2 * sb] + q[i].bsums[2 * sb + 1]);
                }
            }
        } else {
            lbs_q8_0 *q = (lbs_q8_0 *)qbuf;
            lb_kern_avx512_quantize_row_q8_0(xt, q, a->k);
            for (int i = 0; i < a->kb; i++) {
                memcpy(row + i * 32, q[i].qs, 32);
                da[i * 16] = h2f(q[i].d);
            }
        }
        scatter_token(a, t, row);
    }
}

/* Unpack rows [r0, r0+16) (rows >= n_rows zero) into A tiles [kb][16][32] with scales
 * s[kb][16] and, for Q4_K, mins m[kb][16] (subtracted times asum). */
static void unpack_q4_0(const char *w, size_t rb, int n_rows, int r0, int kb_n, int8_t *A, float *s)
{
    const __m128i lo = _mm_set1_epi8(0x0f), eight = _mm_set1_epi8(8);
    for (int m = 0; m < 16; m++) {
        int r = r0 + m;
        if (r >= n_rows) {
            for (int kb = 0; kb < kb_n; kb++) {
                memset(A + (size_t)kb * 512 + m * 32, 0, 32);
                s[kb * 16 + m] = 0.0f;
            }
            continue;
        }
        const lbs_q4_0 *x = (const lbs_q4_0 *)(w + (size_t)r * rb);
        for (int kb = 0; kb < kb_n; kb++) {
            __m128i q = _mm_loadu_si128((const __m128i *)x[kb].qs);
            __m128i v0 = _mm_sub_epi8(_mm_and_si128(q, lo), eight);
            __m128i v1 = _mm_sub_epi8(_mm_and_si128(_mm_srli_epi16(q, 4), lo), eight);
            int8_t *dst = A + (size_t)kb * 512 + m * 32;
            _mm_storeu_si128((__m128i *)dst, v0);
            _mm_storeu_si128((__m128i *)(dst + 16), v1);
            s[kb * 16 + m] = h2f(x[kb].d);
        }
    }
}

/* The 16 bytes of each of the 4 rows in 64 bytes of the x4 layout (two 32-byte vectors, each
 * 8 bytes per row). */
static inline void x4_transpose(const uint8_t *q, __m128i row[4])
{
    __m128i c0 = _mm_loadu_si128((const __m128i *)q), c1 = _mm_loadu_si128((const __m128i *)(q + 16));
    __m128i c2 = _mm_loadu_si128((const __m128i *)(q + 32)), c3 = _mm_loadu_si128((const __m128i *)(q + 48));
    row[0] = _mm_unpacklo_epi64(c0, c2);
    row[1] = _mm_unpackhi_epi64(c0, c2);
    row[2] = _mm_unpacklo_epi64(c1, c3);
    row[3] = _mm_unpackhi_epi64(c1, c3);
}

/* Zero rows 4gi..4gi+3 of the A tiles, their scales and (when mn) mins: a group past the
 * weight's last row (whole groups only: ne1 % 4 == 0). */
static void zero_group(int8_t *A, float *s, float *mn, int kb_n, int gi)
{
    for (int kb = 0; kb < kb_n; kb++) {
        memset(A + (size_t)kb * 512 + gi * 128, 0, 128);
        memset(s + kb * 16 + gi * 4, 0, 4 * sizeof(float));
        if (mn)
            memset(mn + kb * 16 + gi * 4, 0, 4 * sizeof(float));
    }
}

/* Like unpack_q4_0/unpack_q8_0 for the x4 layout (simd_blocks.h): 4 groups of 4 rows. */
static void unpack_x4(int type, const char *w, int n_rows, int r0, int kb_n, int8_t *A, float *s)
{
    const int qbytes = type == T_Q4_0 ? LBS_X4_QBYTES_Q4_0 : LBS_X4_QBYTES_Q8_0;
    const size_t gbytes = (size_t)kb_n * (8 + (size_t)qbytes);
    const __m128i lo = _mm_set1_epi8(0x0f), eight = _mm_set1_epi8(8);
    for (int gi = 0; gi < 4; gi++) {
        int r = r0 + 4 * gi;
        if (r >= n_rows) { /* whole groups only: ne1 % 4 == 0 */
            zero_group(A, s, NULL, kb_n, gi);
            continue;
        }
        const uint8_t *g = (const uint8_t *)w + (size_t)(r / 4) * gbytes;
        const uint16_t *sc = (const uint16_t *)g;
        const uint8_t *qs = g + (size_t)kb_n * 8;
        for (int kb = 0; kb < kb_n; kb++, qs += qbytes) {
            int8_t *dst = A + (size_t)kb * 512 + gi * 128;
            __m128i row[4], row2[4];
            x4_transpose(qs, row);
            if (type == T_Q4_0) {
                for (int m = 0; m < 4; m++) {
                    _mm_storeu_si128((__m128i *)(dst + m * 32), _mm_sub_epi8(_mm_and_si128(row[m], lo), eight));
                    _mm_storeu_si128((__m128i *)(dst + m * 32 + 16),
                                     _mm_sub_epi8(_mm_and_si128(_mm_srli_epi16(row[m], 4), lo), eight));
                }
            } else {
                x4_transpose(qs + 64, row2);
                for (int m = 0; m < 4; m++) {
                    _mm_storeu_si128((__m128i *)(dst + m * 32), row[m]);
                    _mm_storeu_si128((__m128i *)(dst + m * 32 + 16), row2[m]);
                }
            }
            for (int m = 0; m < 4; m++)
                s[kb * 16 + gi * 4 + m] = h2f(sc[kb * 4 + m]);
        }
    }
}

/* Like unpack_q4_K for the Q4_K x4 layout (simd_blocks.h): 4 groups of 4 rows. */
static void unpack_x4_q4_K(const char *w, int n_rows, int r0, int kb_n, int8_t *A, float *s, float *mn)
{
    const size_t gbytes = (size_t)kb_n / 8 * LBS_X4_SB_Q4_K;
    const __m128i lo = _mm_set1_epi8(0x0f);
    for (int gi = 0; gi < 4; gi++) {
        int r = r0 + 4 * gi;
        if (r >= n_rows) {
            zero_group(A, s, mn, kb_n, gi);
            continue;
        }
        const uint8_t *sb = (const uint8_t *)w + (size_t)(r / 4) * gbytes;
        for (int i = 0; i < kb_n / 8; i++, sb += LBS_X4_SB_Q4_K) {
            uint8_t u[64] __attribute__((aligned(32)));
            __m256i vsc, vmn;
            lbs_x4k_unpack_avx2(sb + 16, &vsc, &vmn);
            _mm256_store_si256((__m256i *)u, vsc);
            _mm256_store_si256((__m256i *)(u + 32), vmn);
            for (int c = 0; c < 4; c++) {
                const uint8_t *qs = sb + LBS_X4_HDR_Q4_K + c * 128;
                __m128i ra[4], rb[4];
                x4_transpose(qs, ra);
                x4_transpose(qs + 64, rb);
                int8_t *dlo = A + (size_t)(i * 8 + 2 * c) * 512 + gi * 128, *dhi = dlo + 512;
                for (int m = 0; m < 4; m++) {
                    _mm_storeu_si128((__m128i *)(dlo + m * 32), _mm_and_si128(ra[m], lo));
                    _mm_storeu_si128((__m128i *)(dlo + m * 32 + 16), _mm_and_si128(rb[m], lo));
                    _mm_storeu_si128((__m128i *)(dhi + m * 32), _mm_and_si128(_mm_srli_epi16(ra[m], 4), lo));
                    _mm_storeu_si128((__m128i *)(dhi + m * 32 + 16), _mm_and_si128(_mm_srli_epi16(rb[m], 4), lo));
                }
            }
            for (int m = 0; m < 4; m++) {
                uint16_t d, dmin;
                memcpy(&d, sb + 2 * m, 2);
                memcpy(&dmin, sb + 8 + 2 * m, 2);
                for (int j = 0; j < 8; j++) {
                    s[(i * 8 + j) * 16 + gi * 4 + m] = h2f(d) * (float)u[4 * j + m];
                    mn[(i * 8 + j) * 16 + gi * 4 + m] = h2f(dmin) * (float)u[32 + lbs_x4k_min_at(m, j)];
                }
            }
        }
    }
}

static void unpack_q8_0(const char *w, size_t rb, int n_rows, int r0, int kb_n, int8_t *A, float *s)
{
    for (int m = 0; m < 16; m++) {
        int r = r0 + m;
        const lbs_q8_0 *x = (const lbs_q8_0 *)(w + (size_t)r * rb);
        for (int kb = 0; kb < kb_n; kb++) {
            int8_t *dst = A + (size_t)kb * 512 + m * 32;
            if (r < n_rows) {
                memcpy(dst, x[kb].qs, 32);
                s[kb * 16 + m] = h2f(x[kb].d);
            } else {
                memset(dst, 0, 32);
                s[kb * 16 + m] = 0.0f;
            }
        }
    }
}

static void unpack_q4_K(const char *w, size_t rb, int n_rows, int r0, int kb_n, int8_t *A, float *s, float *mn)
{
    const __m256i lo = _mm256_set1_epi8(0x0f);
    for (int m = 0; m < 16; m++) {
        int r = r0 + m;
        if (r >= n_rows) {
            for (int kb = 0; kb < kb_n; kb++) {
                memset(A + (size_t)kb * 512 + m * 32, 0, 32);
                s[kb * 16 + m] = 0.0f;
                mn[kb * 16 + m] = 0.0f;
            }
            continue;
        }
        const lbs_q4_K *x = (const lbs_q4_K *)(w + (size_t)r * rb);
        for (int i = 0; i < kb_n / 8; i++) {
            uint8_t sc[8], mi[8];
            lbs_k4_scales(x[i].scales, sc, mi);
            float d = h2f(x[i].d), dmin = h2f(x[i].dmin);
            for (int j = 0; j < 4; j++) {
                __m256i q = _mm256_loadu_si256((const __m256i *)(x[i].qs + 32 * j));
                int kb = i * 8 + 2 * j;
                _mm256_storeu_si256((__m256i *)(A + (size_t)kb * 512 + m * 32), _mm256_and_si256(q, lo));
                _mm256_storeu_si256((__m256i *)(A + (size_t)(kb + 1) * 512 + m * 32),
                                    _mm256_and_si256(_mm256_srli_epi16(q, 4), lo));
            }
            for (int sb = 0; sb < 8; sb++) {
                s[(i * 8 + sb) * 16 + m] = d * (float)sc[sb];
                mn[(i * 8 + sb) * 16 + m] = dmin * (float)mi[sb];
            }
        }
    }
}

/* acc[m] (16 tokens) += C[m] * da * s[m]  (- mn[m] * asum) for one block, acc taken as zero
 * for the first: the same float operations, in the same order, whatever the blocking. */
static inline void scale_block(float *acc, const int32_t *cbuf, const float *da, const float *as, const float *s,
                               const float *mn, bool first)
{
    __m512 dav = _mm512_loadu_ps(da);
#pragma GCC unroll 16
    for (int m = 0; m < 16; m++) {
        __m512 c = _mm512_cvtepi32_ps(_mm512_load_si512(cbuf + 16 * m));
        __m512 prev = first ? _mm512_setzero_ps() : _mm512_load_ps(acc + 16 * m);
        _mm512_store_ps(acc + 16 * m, _mm512_fmadd_ps(_mm512_mul_ps(c, dav), _mm512_set1_ps(s[m]), prev));
    }
    if (mn) {
        __m512 asv = _mm512_loadu_ps(as);
#pragma GCC unroll 16
        for (int m = 0; m < 16; m++)
            _mm512_store_ps(acc + 16 * m, _mm512_fnmadd_ps(_mm512_set1_ps(mn[m]), asv, _mm512_load_ps(acc + 16 * m)));
    }
}

/* r[m][t] -> r[t][m] for a 16x16 float block. */
static inline void transpose16(__m512 r[16])
{
    __m512 t[16];
#pragma GCC unroll 8
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
#pragma GCC unroll 4
    for (int i = 0; i < 4; i++) {
        r[4 * i + 0] = _mm512_shuffle_ps(t[4 * i + 0], t[4 * i + 2], _MM_SHUFFLE(1, 0, 1, 0));
        r[4 * i + 1] = _mm512_shuffle_ps(t[4 * i + 0], t[4 * i + 2], _MM_SHUFFLE(3, 2, 3, 2));
        r[4 * i + 2] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(1, 0, 1, 0));
        r[4 * i + 3] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(3, 2, 3, 2));
    }
#pragma GCC unroll 4
    for (int i = 0; i < 4; i++) {
        t[i] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0x88);
        t[i + 4] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0xdd);
        t[i + 8] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0x88);
        t[i + 12] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0xdd);
    }
#pragma GCC unroll 4
    for (int i = 0; i < 4; i++) {
        r[i] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0x88);
        r[i + 8] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0xdd);
        r[i + 4] = _mm512_shuffle_f32x4(t[i + 4], t[i + 12], 0x88);
        r[i + 12] = _mm512_shuffle_f32x4(t[i + 4], t[i + 12], 0xdd);
    }
}

/* Transposed write of a 16x16 result (rows x tokens) into y (tokens x rows). */
static void store_tile(const float *obuf, float *y, size_t ldy, int t_end, int rows_valid)
{
    __m512 r[16]; /* unrolled throughout, so r and transpose16's temporaries stay in registers */
#pragma GCC unroll 16
    for (int m = 0; m < 16; m++)
        r[m] = _mm512_load_ps(obuf + 16 * m);
    transpose16(r);
    __mmask16 keep = (__mmask16)((1u << rows_valid) - 1);
#pragma GCC unroll 16
    for (int t = 0; t < 16; t++)
        if (t < t_end)
            _mm512_mask_storeu_ps(y + (size_t)t * ldy, keep, r[t]);
}

/* The next row groups' weights, fetched into L2 a few lines per step while these compute:
 * unpacking them then reads cache instead of waiting on memory. */
typedef struct {
    const char *p;
    int lines, per_step;
} next_rows;

static next_rows next_rows_of(const char *w, size_t row_bytes, int r, int r1, int steps)
{
    next_rows n = { NULL, 0, 0 };
    if (r < r1) {
        int rows = r1 - r < 32 ? r1 - r : 32;
        n.p = w + (size_t)r * row_bytes;
        n.lines = (int)(((size_t)rows * row_bytes + 63) / 64);
        n.per_step = (n.lines + steps - 1) / steps;
    }
    return n;
}

static inline void next_rows_step(next_rows *n)
{
    for (int i = 0; i < n->per_step && n->lines > 0; i++, n->lines--, n->p += 64)
        _mm_prefetch(n->p, _MM_HINT_T1);
}

/* One 16-row group unpacked: A tiles [kb][16][32], scales s[kb][16], mins mn[kb][16] (Q4_K). */
typedef struct {
    int8_t *A;
    float *s, *mn;
    int rows_valid;
} row_group;

static void unpack_group(const lb_gemm_acts *a, const char *w, size_t row_bytes, uint32_t layout, int r1, int g,
                         row_group *rg)
{
    const int kb_n = a->kb;
    rg->rows_valid = r1 - g < 16 ? r1 - g : 16;
    if (layout == LB_LAYOUT_X4 && a->wtype == T_Q4_K)
        unpack_x4_q4_K(w, r1, g, kb_n, rg->A, rg->s, rg->mn);
    else if (layout == LB_LAYOUT_X4)
        unpack_x4((int)a->wtype, w, r1, g, kb_n, rg->A, rg->s);
    else if (a->wtype == T_Q4_0)
        unpack_q4_0(w, row_bytes, r1, g, kb_n, rg->A, rg->s);
    else if (a->wtype == T_Q8_0)
        unpack_q8_0(w, row_bytes, r1, g, kb_n, rg->A, rg->s);
    else
        unpack_q4_K(w, row_bytes, r1, g, kb_n, rg->A, rg->s, rg->mn);
}

/* In tiles_2x2's block loop: product c = A tile ta x B tile tb for block kb (loading either
 * tile first when asked), with the previous block's tile c scaled in between. */
#define STEP(c, ta, pa, load_a, tb, pb, load_b, da, as, s, mn)                                                     \
    do {                                                                                                         \
        if (now) {                                                                                               \
            if (load_a)                                                                                          \
                _tile_loadd(ta, (pa) + (size_t)kb * 512, 32);                                                    \
            if (load_b)                                                                                          \
                _tile_loadd(tb, (pb) + (size_t)kb * 512, 64);                                                    \
            _tile_zero(c);                                                                                       \
        }                                                                                                        \
        if (prev)                                                                                                \
            scale_block(acc + (c) * 256, cp + (c) * 256, (da) + o, (as) + o, (s) + o, (mn) ? (mn) + o : NULL,    \
                        kb == 1);                                                                                \
        if (now) {                                                                                               \
            _tile_dpbssd(c, ta, tb);                                                                             \
            _tile_stored(c, cc + (c) * 256, 64);                                                                 \
        }                                                                                                        \
    } while (0)

/* Row groups 0..nr-1 times token tiles tile..tile+nt-1 (nr, nt in 1..2) over all blocks. Each
 * product's C tile is stored right after it and scaled one block later, while the AMX unit
 * works on the next block; cb holds the two blocks' C tiles, acc the four float results. */
static void tiles_2x2(const lb_gemm_acts *a, const row_group *rg, int nr, int tile, int nt, int32_t *cb, float *acc,
                      float *y, size_t ldy, int r0, next_rows *next)
{
    const int nkb = a->kb;
    const size_t b_tile = (size_t)nkb * 512, s_tile = (size_t)nkb * 16; /* one token tile's B and scales */
    const int8_t *B0 = a->b + (size_t)tile * b_tile, *B1 = B0 + b_tile;
    const float *da0 = a->da + (size_t)tile * s_tile, *da1 = da0 + s_tile;
    const float *as0 = a->asum + (size_t)tile * s_tile, *as1 = as0 + s_tile;
    const int8_t *A0 = rg[0].A, *A1 = rg[nr - 1].A;
    const float *s0 = rg[0].s, *s1 = rg[nr - 1].s, *mn0 = rg[0].mn, *mn1 = rg[nr - 1].mn;
    for (int kb = 0; kb <= nkb; kb++) {
        const bool now = kb < nkb, prev = kb > 0;
        int32_t *cc = cb + (kb & 1) * 1024, *cp = cb + (~kb & 1) * 1024;
        const size_t o = (size_t)(kb - 1) * 16; /* the previous block's scales */
        next_rows_step(next);
        /* the result lines of two tokens, owned for writing by the time store_tile gets there
         * (rows of y are far apart: each line is a miss otherwise) */
        for (int t = 2 * kb; t < 2 * kb + 2 && t < 16 * nt && tile * 16 + t < a->n_tok; t++)
            for (int i = 0; i < nr; i++)
                __builtin_prefetch(y + (size_t)(tile * 16 + t) * ldy + r0 + 16 * i, 1, 3);
        STEP(0, 4, A0, 1, 6, B0, 1, da0, as0, s0, mn0);
        if (nt == 2)
            STEP(1, 4, A0, 0, 7, B1, 1, da1, as1, s0, mn0);
        if (nr == 2) {
            STEP(2, 5, A1, 1, 6, B0, 0, da0, as0, s1, mn1);
            if (nt == 2)
                STEP(3, 5, A1, 0, 7, B1, 0, da1, as1, s1, mn1);
        }
    }
    for (int i = 0; i < nr; i++)
        for (int j = 0; j < nt; j++) {
            int t0 = (tile + j) * 16, t_end = a->n_tok - t0 < 16 ? a->n_tok - t0 : 16;
            store_tile(acc + (2 * i + j) * 256, y + (size_t)t0 * ldy + r0 + 16 * i, ldy, t_end, rg[i].rows_valid);
        }
}

#undef STEP

void lb_amx_rows(const lb_gemm_acts *a, const void *w, size_t row_bytes, uint32_t layout, int n_rows, int r0,
                 int r1, float *y, size_t ldy, void *scratch)
{
    tiles_config();
    const size_t kb_n = (size_t)a->kb;
    char *p = align64(scratch);
    row_group rg[2];
    for (int i = 0; i < 2; i++) {
        rg[i].A = (int8_t *)p;
        p += (kb_n * 512 + 63) & ~(size_t)63;
        rg[i].s = (float *)p;
        p += (kb_n * 64 + 63) & ~(size_t)63;
        rg[i].mn = a->wtype == T_Q4_K ? (float *)p : NULL;
        p += (kb_n * 64 + 63) & ~(size_t)63;
    }
    int32_t *cb = (int32_t *)p; /* [2 blocks][4 tiles][256] */
    float *acc = (float *)(p + 2 * 4 * 1024);
    const char *wb = w;
    const int steps = (a->n_tiles + 1) / 2 * (a->kb + 1);
    for (int g = r0; g < r1; g += 32) {
        int nr = g + 16 < r1 ? 2 : 1;
        for (int i = 0; i < nr; i++)
            unpack_group(a, wb, row_bytes, layout, r1, g + 16 * i, &rg[i]);
        next_rows next = next_rows_of(wb, row_bytes, g + 32, r1, steps);
        for (int tile = 0; tile < a->n_tiles; tile += 2)
            tiles_2x2(a, rg, nr, tile, a->n_tiles - tile < 2 ? 1 : 2, cb, acc, y, ldy, g, &next);
    }
    (void)n_rows;
}
