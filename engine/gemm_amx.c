/* AMX-INT8 tile GEMM (see gemm.h). One TDPBSSD per 16 weight rows x 16 tokens x one block of
 * 32: the int32 tile is scaled by (row scale x token scale) into 16 float accumulators per
 * 16-token tile. Weights are unpacked to signed int8 once per 16-row group and reused for
 * every token tile; Q8_0 rows are loaded straight from the model. */
#include <immintrin.h>
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

/* Tile registers: 0 = C (16 x 16 int32), 1 = A (16 rows x 32 int8), 2 = B (8 x 64 int8);
 * 3, 4, 5 the same for odd blocks. */
static __thread int t_configured;

static void tiles_config(void)
{
    if (t_configured)
        return;
    tile_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.palette = 1;
    cfg.rows[0] = 16;
    cfg.colsb[0] = 64;
    cfg.rows[1] = 16;
    cfg.colsb[1] = 32;
    cfg.rows[2] = 8;
    cfg.colsb[2] = 64;
    cfg.rows[3] = 16; /* 3..5: a second C/A/B set so one product runs while the other is scaled */
    cfg.colsb[3] = 64;
    cfg.rows[4] = 16;
    cfg.colsb[4] = 32;
    cfg.rows[5] = 8;
    cfg.colsb[5] = 64;
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

static void scales_q8_0(const char *w, size_t rb, int r0, int kb_n, float *s)
{
    for (int m = 0; m < 16; m++) {
        const lbs_q8_0 *x = (const lbs_q8_0 *)(w + (size_t)(r0 + m) * rb);
        for (int kb = 0; kb < kb_n; kb++)
            s[kb * 16 + m] = h2f(x[kb].d);
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

#define ISSUE(C, TA, TB, kb)                                              \
    do {                                                                  \
        _tile_loadd(TA, A + (size_t)(kb) * a_kb_stride, a_row_stride);    \
        _tile_loadd(TB, B + (size_t)(kb) * 512, 64);                      \
        _tile_zero(C);                                                    \
        _tile_dpbssd(C, TA, TB);                                          \
    } while (0)

/* acc[m] (16 tokens) += C[m] * da * s[m]  (- mn[m] * asum) for block kb. */
static inline void scale_block(__m512 acc[16], const int32_t *cbuf, const float *da, const float *as, const float *s,
                               const float *mn, int kb)
{
    __m512 dav = _mm512_loadu_ps(da + kb * 16);
    const float *sk = s + kb * 16;
#pragma GCC unroll 16
    for (int m = 0; m < 16; m++) {
        __m512 c = _mm512_cvtepi32_ps(_mm512_load_si512(cbuf + 16 * m));
        acc[m] = _mm512_fmadd_ps(_mm512_mul_ps(c, dav), _mm512_set1_ps(sk[m]), acc[m]);
    }
    if (mn) {
        __m512 asv = _mm512_loadu_ps(as + kb * 16);
        const float *mk = mn + kb * 16;
#pragma GCC unroll 16
        for (int m = 0; m < 16; m++)
            acc[m] = _mm512_fnmadd_ps(_mm512_set1_ps(mk[m]), asv, acc[m]);
    }
}

/* r[m][t] -> r[t][m] for a 16x16 float block. */
static inline void transpose16(__m512 r[16])
{
    __m512 t[16];
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 4; i++) {
        r[4 * i + 0] = _mm512_shuffle_ps(t[4 * i + 0], t[4 * i + 2], _MM_SHUFFLE(1, 0, 1, 0));
        r[4 * i + 1] = _mm512_shuffle_ps(t[4 * i + 0], t[4 * i + 2], _MM_SHUFFLE(3, 2, 3, 2));
        r[4 * i + 2] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(1, 0, 1, 0));
        r[4 * i + 3] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(3, 2, 3, 2));
    }
    for (int i = 0; i < 4; i++) {
        t[i] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0x88);
        t[i + 4] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0xdd);
        t[i + 8] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0x88);
        t[i + 12] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0xdd);
    }
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
    __m512 r[16];
    for (int m = 0; m < 16; m++)
        r[m] = _mm512_load_ps(obuf + 16 * m);
    transpose16(r);
    __mmask16 keep = (__mmask16)((1u << rows_valid) - 1);
    for (int t = 0; t < t_end; t++)
        _mm512_mask_storeu_ps(y + (size_t)t * ldy, keep, r[t]);
}

/* The next 16-row group's weights, fetched into L2 a few lines per tile step while this group
 * computes: unpacking it then reads cache instead of waiting on memory. */
typedef struct {
    const char *p;
    int lines, per_step;
} next_group;

static next_group next_group_of(const char *w, size_t row_bytes, int g, int r1, int steps)
{
    next_group n = { NULL, 0, 0 };
    if (g + 16 < r1) {
        int rows = r1 - (g + 16) < 16 ? r1 - (g + 16) : 16;
        n.p = w + (size_t)(g + 16) * row_bytes;
        n.lines = (int)(((size_t)rows * row_bytes + 63) / 64);
        n.per_step = (n.lines + steps - 1) / steps;
    }
    return n;
}

static inline void next_group_step(next_group *n)
{
    for (int i = 0; i < n->per_step && n->lines > 0; i++, n->lines--, n->p += 64)
        _mm_prefetch(n->p, _MM_HINT_T1);
}

/* All token tiles of one 16-row group. Two tile sets alternate so the AMX unit computes
 * block kb+1 while the vector units scale block kb. */
static void group_tiles(const lb_gemm_acts *a, const int8_t *A, size_t a_kb_stride, size_t a_row_stride,
                        const float *s, const float *mn, int32_t *cbuf, float *obuf, float *y, size_t ldy, int r0,
                        int rows_valid, next_group *next)
{
    const int nkb = a->kb;
    for (int tile = 0; tile < a->n_tiles; tile++) {
        __m512 acc[16];
#pragma GCC unroll 16
        for (int m = 0; m < 16; m++)
            acc[m] = _mm512_setzero_ps();
        const int8_t *B = a->b + (size_t)tile * nkb * 512;
        const float *da = a->da + (size_t)tile * nkb * 16;
        const float *as = a->asum + (size_t)tile * nkb * 16;
        ISSUE(0, 1, 2, 0);
        for (int kb = 0; kb < nkb; kb += 2) {
            next_group_step(next);
            if (kb + 1 < nkb)
                ISSUE(3, 4, 5, kb + 1);
            _tile_stored(0, cbuf, 64);
            scale_block(acc, cbuf, da, as, s, mn, kb);
            if (kb + 1 < nkb) {
                if (kb + 2 < nkb)
                    ISSUE(0, 1, 2, kb + 2);
                _tile_stored(3, cbuf, 64);
                scale_block(acc, cbuf, da, as, s, mn, kb + 1);
            }
        }
#pragma GCC unroll 16
        for (int m = 0; m < 16; m++)
            _mm512_store_ps(obuf + 16 * m, acc[m]);
        int t_end = a->n_tok - tile * 16 < 16 ? a->n_tok - tile * 16 : 16;
        store_tile(obuf, y + (size_t)tile * 16 * ldy + r0, ldy, t_end, rows_valid);
    }
}

void lb_amx_rows(const lb_gemm_acts *a, const void *w, size_t row_bytes, uint32_t layout, int n_rows, int r0,
                 int r1, float *y, size_t ldy, void *scratch)
{
    tiles_config();
    int kb_n = a->kb;
    char *p = align64(scratch);
    int8_t *A = (int8_t *)p;
    p += ((size_t)kb_n * 512 + 63) & ~(size_t)63;
    float *s = (float *)p;
    p += ((size_t)kb_n * 64 + 63) & ~(size_t)63;
    float *mn = (float *)p;
    p += ((size_t)kb_n * 64 + 63) & ~(size_t)63;
    p += ((size_t)a->k / 256 * 292 + 292 + 63) & ~(size_t)63;
    int32_t *cbuf = (int32_t *)p;
    float *obuf = (float *)(p + 1024);
    const char *wb = w;
    const int steps = a->n_tiles * ((kb_n + 1) / 2);
    for (int g = r0; g < r1; g += 16) {
        int rows_valid = r1 - g < 16 ? r1 - g : 16;
        next_group next = next_group_of(wb, row_bytes, g, r1, steps);
        if (layout == LB_LAYOUT_X4 && a->wtype == T_Q4_K) {
            unpack_x4_q4_K(wb, r1, g, kb_n, A, s, mn);
            group_tiles(a, A, 512, 32, s, mn, cbuf, obuf, y, ldy, g, rows_valid, &next);
            continue;
        }
        if (layout == LB_LAYOUT_X4) {
            unpack_x4((int)a->wtype, wb, r1, g, kb_n, A, s);
            group_tiles(a, A, 512, 32, s, NULL, cbuf, obuf, y, ldy, g, rows_valid, &next);
            continue;
        }
        switch (a->wtype) {
        case T_Q4_0:
            unpack_q4_0(wb, row_bytes, r1, g, kb_n, A, s);
            group_tiles(a, A, 512, 32, s, NULL, cbuf, obuf, y, ldy, g, rows_valid, &next);
            break;
        case T_Q8_0:
            if (rows_valid == 16) { /* tiles straight from the model's blocks */
                scales_q8_0(wb, row_bytes, g, kb_n, s);
                group_tiles(a, (const int8_t *)(wb + (size_t)g * row_bytes + 2), sizeof(lbs_q8_0), row_bytes, s,
                            NULL, cbuf, obuf, y, ldy, g, rows_valid, &next);
            } else {
                unpack_q8_0(wb, row_bytes, r1, g, kb_n, A, s);
                group_tiles(a, A, 512, 32, s, NULL, cbuf, obuf, y, ldy, g, rows_valid, &next);
            }
            break;
        case T_Q4_K:
            unpack_q4_K(wb, row_bytes, r1, g, kb_n, A, s, mn);
            group_tiles(a, A, 512, 32, s, mn, cbuf, obuf, y, ldy, g, rows_valid, &next);
            break;
        default: break;
        }
    }
    (void)n_rows;
}
