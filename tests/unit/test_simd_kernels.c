/* Every SIMD kernel level this CPU supports against the scalar reference, on random blocks.
 * Activation quantization must be bit-identical; dot products agree within 1e-5 of the sum
 * of |terms| (the integer parts are exact, only the float accumulation order differs). */
#include "../lib/harness.h"
#include "cpu_features.h"
#include "kern_simd.h"
#include "simd_blocks.h"
#include "ggml_type.h"
#include "kernels.h"
#include "quant.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- the reference is the engine's scalar table (lb_kernels_scalar); the local sums
 * below only give the magnitude of the terms for the tolerance ---- */
static float h2f(uint16_t h)
{
    uint32_t sign = (uint32_t)(h >> 15) << 31, exp = (h >> 10) & 31, man = h & 1023, bits;
    if (exp == 0) {
        float v = ldexpf((float)man, -24);
        return sign ? -v : v;
    }
    if (exp == 31)
        bits = sign | 0x7f800000u | (man << 13);
    else
        bits = sign | ((exp + 112) << 23) | (man << 13);
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

/* fp32 -> fp16, round to nearest even (as F16C and ggml do). */
static uint16_t f2h(float f)
{
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000, ax = x & 0x7fffffff;
    if (ax >= 0x7f800000)
        return (uint16_t)(sign | 0x7c00 | (ax > 0x7f800000 ? 0x200 : 0));
    if (ax >= 0x477ff000) /* rounds to >= 65520: infinity */
        return (uint16_t)(sign | 0x7c00);
    if (ax < 0x38800000) { /* subnormal half: value / 2^-24, rounded to nearest even */
        float a;
        memcpy(&a, &ax, 4);
        return (uint16_t)(sign | (uint32_t)nearbyintf(a * 16777216.0f));
    }
    uint32_t m = ax + 0xfff + ((ax >> 13) & 1); /* round mantissa to 10 bits, ties to even */
    return (uint16_t)(sign | ((m - 0x38000000) >> 13));
}

/* Each returns the dot product and, in *mag, the sum of |terms| for the tolerance. */
static float ref_dot_q4_0(int n, const lbs_q4_0 *x, const lbs_q8_0 *y, float *mag)
{
    float s = 0;
    *mag = 0;
    for (int i = 0; i < n / 32; i++) {
        int si = 0, sa = 0;
        for (int j = 0; j < 16; j++) {
            int w0 = (x[i].qs[j] & 15) - 8, w1 = (x[i].qs[j] >> 4) - 8;
            si += w0 * y[i].qs[j] + w1 * y[i].qs[j + 16];
            sa += abs(w0 * y[i].qs[j]) + abs(w1 * y[i].qs[j + 16]);
        }
        float d = h2f(x[i].d) * h2f(y[i].d);
        s += si * d;
        *mag += sa * fabsf(d);
    }
    return s;
}

static float ref_dot_q8_0(int n, const lbs_q8_0 *x, const lbs_q8_0 *y, float *mag)
{
    float s = 0;
    *mag = 0;
    for (int i = 0; i < n / 32; i++) {
        int si = 0, sa = 0;
        for (int j = 0; j < 32; j++) {
            si += x[i].qs[j] * y[i].qs[j];
            sa += abs(x[i].qs[j] * y[i].qs[j]);
        }
        float d = h2f(x[i].d) * h2f(y[i].d);
        s += si * d;
        *mag += sa * fabsf(d);
    }
    return s;
}

static float ref_dot_q4_K(int n, const lbs_q4_K *x, const lbs_q8_K *y, float *mag)
{
    float s = 0;
    *mag = 0;
    for (int i = 0; i < n / 256; i++) {
        uint8_t sc[8], mn[8];
        lbs_k4_scales(x[i].scales, sc, mn);
        float d = h2f(x[i].d) * y[i].d, dmin = h2f(x[i].dmin) * y[i].d;
        for (int sb = 0; sb < 8; sb++) {
            int si = 0, sa = 0, sq = 0;
            for (int j = 0; j < 32; j++) {
                int e = sb * 32 + j;
                const uint8_t b = x[i].qs[(sb / 2) * 32 + j];
                int q = (sb & 1) ? (b >> 4) : (b & 15);
                si += q * y[i].qs[e];
                sa += abs(q * y[i].qs[e]) + abs(mn[sb] * y[i].qs[e]);
                sq += y[i].qs[e];
            }
            s += d * sc[sb] * si - dmin * mn[sb] * sq;
            *mag += fabsf(d) * sc[sb] * sa + fabsf(dmin) * sa;
        }
    }
    return s;
}

static float ref_dot_q6_K(int n, const lbs_q6_K *x, const lbs_q8_K *y, float *mag)
{
    float s = 0;
    *mag = 0;
    for (int i = 0; i < n / 256; i++) {
        int8_t q[256];
        for (int h = 0; h < 2; h++) {
            const uint8_t *ql = x[i].ql + 64 * h, *qh = x[i].qh + 32 * h;
            int8_t *o = q + 128 * h;
            for (int l = 0; l < 32; l++) {
                o[l] = (int8_t)(((ql[l] & 15) | ((qh[l] & 3) << 4)) - 32);
                o[l + 32] = (int8_t)(((ql[l + 32] & 15) | (((qh[l] >> 2) & 3) << 4)) - 32);
                o[l + 64] = (int8_t)(((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
                o[l + 96] = (int8_t)(((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
            }
        }
        float d = h2f(x[i].d) * y[i].d;
        for (int g = 0; g < 16; g++) {
            int si = 0, sa = 0;
            for (int j = 0; j < 16; j++) {
                si += q[g * 16 + j] * y[i].qs[g * 16 + j];
                sa += abs(q[g * 16 + j] * y[i].qs[g * 16 + j]);
            }
            s += d * x[i].scales[g] * si;
            *mag += fabsf(d * x[i].scales[g]) * sa;
        }
    }
    return s;
}

/* ---- random data ---- */
static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(void) { return lb_test_rnd(&rng); }
static float frnd(void) { return ((float)(rnd() & 0xffffff) / 16777216.0f) * 2.0f - 1.0f; }
static void fill_bytes(void *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ((uint8_t *)p)[i] = (uint8_t)rnd();
}
static uint16_t rnd_scale(void) { return f2h(0.001f + 0.05f * fabsf(frnd())); }

static void fill_floats(float *x, int n, int pattern)
{
    for (int i = 0; i < n; i++)
        x[i] = frnd() * (pattern == 1 ? 1000.0f : 3.0f);
    if (pattern == 2) /* zeros and exact halves exercise the rounding edges */
        for (int i = 0; i < n; i++)
            x[i] = (i % 64 < 32) ? 0.0f : (float)((int)(rnd() % 255) - 127) * 0.5f;
}

enum { N = 4096 };

/* Levels to test: every one the CPU supports. */
static int levels(lb_isa out[LB_ISA_COUNT])
{
    int n = 0;
    lb_isa best = lb_cpu_caps_get()->best;
    for (int l = LB_ISA_AVX2; l <= (int)best && l <= LB_ISA_AVX512; l++)
        out[n++] = (lb_isa)l;
    return n;
}

TEST(simd_levels_cover_this_cpu)
{
    lb_isa lv[LB_ISA_COUNT];
    int n = levels(lv);
    if (n == 0)
        SKIP("no AVX2 on this CPU: only the scalar path exists");
    for (int i = 0; i < n; i++) {
        lb_simd_kernels k;
        lb_simd_kernels_for(lv[i], &k);
        CHECK(k.quantize_row_q8_0 && k.quantize_row_q8_K && k.vec_dot_q4_0_q8_0 &&
              k.vec_dot_q8_0_q8_0 && k.vec_dot_q4_K_q8_K && k.vec_dot_q6_K_q8_K);
    }
}

TEST(simd_quantize_q8_0_bit_identical)
{
    lb_isa lv[LB_ISA_COUNT];
    int nl = levels(lv);
    static float x[N];
    static lbs_q8_0 ref[N / 32], got[N / 32];
    for (int l = 0; l < nl; l++) {
        lb_simd_kernels k;
        lb_simd_kernels_for(lv[l], &k);
        for (int pattern = 0; pattern < 3; pattern++) {
            fill_floats(x, N, pattern);
            lb_kernels_scalar(LB_TYPE_Q8_0)->from_float(x, ref, N);
            k.quantize_row_q8_0(x, got, N);
            CHECK_MSG(memcmp(ref, got, sizeof ref) == 0, "%s pattern %d differs", lb_isa_name(lv[l]), pattern);
        }
    }
}

TEST(simd_quantize_q8_K_bit_identical)
{
    lb_isa lv[LB_ISA_COUNT];
    int nl = levels(lv);
    static float x[N];
    static lbs_q8_K ref[N / 256], got[N / 256];
    for (int l = 0; l < nl; l++) {
        lb_simd_kernels k;
        lb_simd_kernels_for(lv[l], &k);
        for (int pattern = 0; pattern < 3; pattern++) {
            fill_floats(x, N, pattern);
            lb_kernels_scalar(LB_TYPE_Q8_K)->from_float(x, ref, N);
            k.quantize_row_q8_K(x, got, N);
            for (int b = 0; b < N / 256; b++) {
                CHECK_MSG(memcmp(ref[b].qs, got[b].qs, 256) == 0, "%s pattern %d block %d qs", lb_isa_name(lv[l]), pattern, b);
                CHECK_MSG(memcmp(ref[b].bsums, got[b].bsums, 32) == 0, "%s pattern %d block %d bsums", lb_isa_name(lv[l]), pattern, b);
                CHECK_MSG(ref[b].d == got[b].d, "%s pattern %d block %d d %g vs %g", lb_isa_name(lv[l]), pattern, b, ref[b].d, got[b].d);
            }
        }
    }
}

#define CHECK_DOT(name, got, ref, mag) \
    CHECK_MSG(fabsf((got) - (ref)) <= 1e-5f * (mag) + 1e-6f, "%s %s: %.9g vs %.9g (mag %g)", lb_isa_name(lv[l]), name, (double)(got), (double)(ref), (double)(mag))

TEST(simd_vec_dot_32_blocks)
{
    lb_isa lv[LB_ISA_COUNT];
    int nl = levels(lv);
    static float x[N];
    static lbs_q4_0 w4[N / 32];
    static lbs_q8_0 w8[N / 32], a[N / 32];
    for (int l = 0; l < nl; l++) {
        lb_simd_kernels k;
        lb_simd_kernels_for(lv[l], &k);
        for (int rep = 0; rep < 20; rep++) {
            int n = rep == 0 ? 32 : rep == 1 ? 96 : N; /* odd block counts hit the tail loops */
            fill_floats(x, n, rep % 3);
            lb_kernels_scalar(LB_TYPE_Q8_0)->from_float(x, a, n);
            fill_bytes(w4, sizeof w4);
            fill_bytes(w8, sizeof w8);
            for (int b = 0; b < n / 32; b++) {
                w4[b].d = rnd_scale();
                w8[b].d = rnd_scale();
                for (int j = 0; j < 32; j++)
                    if (w8[b].qs[j] == -128) /* q8_0 blocks hold -127..127 */
                        w8[b].qs[j] = -127;
            }
            float mag, ref, got;
            (void)ref_dot_q4_0(n, w4, a, &mag);
            lb_kernels_scalar(LB_TYPE_Q4_0)->vec_dot(n, &ref, w4, a);
            k.vec_dot_q4_0_q8_0(n, &got, w4, a);
            CHECK_DOT("q4_0", got, ref, mag);
            (void)ref_dot_q8_0(n, w8, a, &mag);
            lb_kernels_scalar(LB_TYPE_Q8_0)->vec_dot(n, &ref, w8, a);
            k.vec_dot_q8_0_q8_0(n, &got, w8, a);
            CHECK_DOT("q8_0", got, ref, mag);
        }
    }
}

TEST(simd_vec_dot_k_quants)
{
    lb_isa lv[LB_ISA_COUNT];
    int nl = levels(lv);
    static float x[N];
    static lbs_q4_K w4[N / 256];
    static lbs_q6_K w6[N / 256];
    static lbs_q8_K a[N / 256];
    for (int l = 0; l < nl; l++) {
        lb_simd_kernels k;
        lb_simd_kernels_for(lv[l], &k);
        for (int rep = 0; rep < 20; rep++) {
            int n = rep == 0 ? 256 : N;
            fill_floats(x, n, rep % 3);
            lb_kernels_scalar(LB_TYPE_Q8_K)->from_float(x, a, n);
            fill_bytes(w4, sizeof w4);
            fill_bytes(w6, sizeof w6);
            for (int b = 0; b < n / 256; b++) {
                w4[b].d = rnd_scale();
                w4[b].dmin = rnd_scale();
                w6[b].d = rnd_scale();
            }
            float mag, ref, got;
            (void)ref_dot_q4_K(n, w4, a, &mag);
            lb_kernels_scalar(LB_TYPE_Q4_K)->vec_dot(n, &ref, w4, a);
            k.vec_dot_q4_K_q8_K(n, &got, w4, a);
            CHECK_DOT("q4_K", got, ref, mag);
            (void)ref_dot_q6_K(n, w6, a, &mag);
            lb_kernels_scalar(LB_TYPE_Q6_K)->vec_dot(n, &ref, w6, a);
            k.vec_dot_q6_K_q8_K(n, &got, w6, a);
            CHECK_DOT("q6_K", got, ref, mag);
        }
    }
}

TEST(simd_f16_rows)
{
    lb_isa lv[LB_ISA_COUNT];
    int nl = levels(lv);
    enum { M = 1027 }; /* not a multiple of 8 or 16: tails */
    static float x[M], y[M], got[M], ref[M];
    static uint16_t hx[M], hy[M], href[M], hgot[M];
    const lb_type_traits *sc = lb_kernels_scalar(LB_TYPE_F16);
    for (int l = 0; l < nl; l++) {
        lb_simd_kernels k;
        lb_simd_kernels_for(lv[l], &k);
        for (int rep = 0; rep < 3; rep++) {
            fill_floats(x, M, rep);
            fill_floats(y, M, (rep + 1) % 3);
            x[5] = 1.0f + ldexpf(1, -11); /* a rounding tie */
            x[6] = 70000.0f;              /* overflows to inf */
            x[7] = ldexpf(3, -25);        /* subnormal tie */
            sc->from_float(x, href, M);
            k.quantize_row_f16(x, hgot, M);
            CHECK_MSG(memcmp(href, hgot, sizeof href) == 0, "%s f16 quantize differs", lb_isa_name(lv[l]));
            sc->to_float(href, ref, M);
            k.dequantize_row_f16(href, got, M);
            CHECK_MSG(memcmp(ref, got, sizeof ref) == 0, "%s f16 dequantize differs", lb_isa_name(lv[l]));
            x[6] = 3.0f;
            sc->from_float(x, hx, M);
            sc->from_float(y, hy, M);
            for (int n = 1; n <= M; n += (n < 40 ? 1 : 331)) {
                float r, g, mag = 0;
                for (int i = 0; i < n; i++)
                    mag += fabsf(h2f(hx[i]) * h2f(hy[i]));
                sc->vec_dot(n, &r, hx, hy);
                k.vec_dot_f16(n, &g, hx, hy);
                CHECK_MSG(fabsf(g - r) <= 1e-5f * mag + 1e-6f, "%s f16 dot n=%d: %g vs %g", lb_isa_name(lv[l]), n, g, r);
            }
            for (int i = 0; i < M; i++)
                ref[i] = got[i] = y[i];
            for (int i = 0; i < M; i++)
                ref[i] += 0.37f * h2f(hx[i]);
            k.axpy_f16(M, 0.37f, hx, got);
            int bad = 0;
            for (int i = 0; i < M; i++)
                bad += fabsf(ref[i] - got[i]) > 1e-6f * (fabsf(ref[i]) + 1.0f);
            CHECK_MSG(bad == 0, "%s axpy_f16: %d elements differ", lb_isa_name(lv[l]), bad);
        }
    }
    /* the dispatched entry point agrees too */
    for (int i = 0; i < M; i++)
        ref[i] = got[i] = 0.5f;
    for (int i = 0; i < M; i++)
        ref[i] += -1.25f * h2f(hx[i]);
    lb_axpy_f16(M, -1.25f, hx, got);
    for (int i = 0; i < M; i++)
        CHECK_NEAR(got[i], ref[i], 1e-6 * (fabs(ref[i]) + 1.0));
}

/* Attention's row kernels give exactly the per-row calls' results (scores: vec_dot_f16 per
 * row; values: axpy_f16 row after row), at every level and through the dispatched entry
 * points, for head sizes with and without tails and K/V rows spaced apart. */
TEST(simd_f16_attention_rows_equal_per_row_calls)
{
    lb_isa lv[LB_ISA_COUNT];
    int nl = levels(lv);
    enum { STRIDE = 200, ROWS = 9 };
    static uint16_t kv[ROWS * STRIDE], q[STRIDE];
    for (int i = 0; i < ROWS * STRIDE; i++)
        kv[i] = f2h(frnd());
    for (int i = 0; i < STRIDE; i++)
        q[i] = f2h(frnd());
    float a[ROWS];
    for (int t = 0; t < ROWS; t++)
        a[t] = h2f(f2h(fabsf(frnd())));
    const int ns[] = { 64, 128, 72, 37 };
    for (int l = 0; l <= nl; l++) { /* nl: the dispatched entry points */
        lb_simd_kernels k;
        if (l < nl)
            lb_simd_kernels_for(lv[l], &k);
        for (int ni = 0; ni < 4; ni++)
            for (int rows = 1; rows <= ROWS; rows += 4) {
                int n = ns[ni];
                float s_ref[ROWS], s_got[ROWS], y_ref[STRIDE], y_got[STRIDE];
                for (int d = 0; d < n; d++)
                    y_ref[d] = y_got[d] = frnd();
                for (int t = 0; t < rows; t++) {
                    if (l < nl) {
                        k.vec_dot_f16(n, &s_ref[t], kv + t * STRIDE, q);
                        k.axpy_f16(n, a[t], kv + t * STRIDE, y_ref);
                    } else {
                        lb_kernels(LB_TYPE_F16)->vec_dot(n, &s_ref[t], kv + t * STRIDE, q);
                        lb_axpy_f16(n, a[t], kv + t * STRIDE, y_ref);
                    }
                }
                if (l < nl) {
                    k.dot_f16_rows(n, rows, kv, STRIDE, q, s_got);
                    k.axpy_f16_rows(n, rows, a, kv, STRIDE, y_got);
                } else {
                    lb_dot_f16_rows(n, rows, kv, STRIDE, q, s_got);
                    lb_axpy_f16_rows(n, rows, a, kv, STRIDE, y_got);
                }
                const char *lvl = l < nl ? lb_isa_name(lv[l]) : "dispatched";
                CHECK_MSG(memcmp(s_ref, s_got, sizeof(float) * rows) == 0, "%s dot rows n=%d rows=%d", lvl, n, rows);
                CHECK_MSG(memcmp(y_ref, y_got, sizeof(float) * n) == 0, "%s axpy rows n=%d rows=%d", lvl, n, rows);
            }
    }
}

TEST(simd_q4_0_zmm_variant)
{
    if (lb_cpu_caps_get()->best < LB_ISA_AVX512)
        SKIP("no AVX-512 VNNI on this CPU");
    static float x[N];
    static lbs_q4_0 w4[N / 32];
    static lbs_q8_0 a[N / 32];
    lb_isa lv[1] = { LB_ISA_AVX512 };
    int l = 0;
    for (int rep = 0; rep < 12; rep++) {
        int n = 32 * (1 + rep % 7) + (rep >= 7 ? N - 32 * 8 : 0); /* 1..7 blocks: every tail */
        fill_floats(x, n, rep % 3);
        lb_kernels_scalar(LB_TYPE_Q8_0)->from_float(x, a, n);
        fill_bytes(w4, sizeof w4);
        for (int b = 0; b < n / 32; b++)
            w4[b].d = rnd_scale();
        float mag, ref, got;
        (void)ref_dot_q4_0(n, w4, a, &mag);
        lb_kernels_scalar(LB_TYPE_Q4_0)->vec_dot(n, &ref, w4, a);
        lb_kern_zmm_avx512_vec_dot_q4_0_q8_0(n, &got, w4, a);
        CHECK_DOT("q4_0 zmm", got, ref, mag);
    }
}

/* Several queries over shared K/V rows: scores within float rounding of the exact dot
 * (their summation order is their own) and the same at every level, value sums equal to
 * axpy_f16_rows per query bit for bit, at every level and dispatched; row counts around the
 * 8- and 16-row blocks, query counts around the kernels' groups of 4, head sizes with
 * 8-element tails or none. */
TEST(simd_f16_attention_multi_queries)
{
    lb_isa lv[LB_ISA_COUNT];
    int nl = levels(lv);
    enum { STRIDE = 160, ROWS = 37, NQ = 13, HD = 136 };
    static uint16_t kv[ROWS * STRIDE];
    static float qf[NQ * HD], a[NQ * ROWS], s_got[NQ * ROWS], s_first[NQ * ROWS], y_ref[NQ * HD], y_got[NQ * HD];
    for (int i = 0; i < ROWS * STRIDE; i++)
        kv[i] = f2h(frnd() * 4);
    for (int i = 0; i < NQ * HD; i++)
        qf[i] = h2f(f2h(frnd() * 4));
    for (int i = 0; i < NQ * ROWS; i++)
        a[i] = h2f(f2h(fabsf(frnd())));
    const int ns[] = { 64, 128, 136, 8 }, rs[] = { 1, 7, 8, 9, 17, 37 }, qs[] = { 1, 3, 4, 7, 13 };
    for (int ni = 0; ni < 4; ni++)
        for (int ri = 0; ri < 6; ri++)
            for (int qi = 0; qi < 5; qi++)
                for (int l = 0; l <= nl; l++) {
                    int n = ns[ni], rows = rs[ri], nq = qs[qi];
                    lb_simd_kernels k;
                    if (l < nl)
                        lb_simd_kernels_for(lv[l], &k);
                    const char *lvl = l < nl ? lb_isa_name(lv[l]) : "dispatched";
                    if (l < nl)
                        k.dot_f16_multi(n, rows, kv, STRIDE, nq, qf, s_got, ROWS);
                    else
                        lb_dot_f16_multi(n, rows, kv, STRIDE, nq, qf, s_got, ROWS);
                    int bad = 0;
                    for (int q = 0; q < nq; q++)
                        for (int t = 0; t < rows; t++) {
                            double want = 0, mag = 0;
                            for (int d = 0; d < n; d++) {
                                double p = (double)h2f(kv[t * STRIDE + d]) * qf[q * n + d];
                                want += p;
                                mag += fabs(p);
                            }
                            if (!(fabs(s_got[q * ROWS + t] - want) <= 1e-6 * mag + 1e-30) && bad++ < 3)
                                CHECK_MSG(0, "%s dot multi n=%d rows=%d nq=%d: q %d row %d: %g vs %g", lvl, n, rows, nq, q,
                                          t, s_got[q * ROWS + t], want);
                            /* 8- and 16-lane builds do the same arithmetic per row */
                            if (l == 0)
                                s_first[q * ROWS + t] = s_got[q * ROWS + t];
                            else if (memcmp(&s_first[q * ROWS + t], &s_got[q * ROWS + t], sizeof(float)) && bad++ < 3)
                                CHECK_MSG(0, "%s dot multi n=%d rows=%d nq=%d: q %d row %d differs from %s", lvl, n, rows,
                                          nq, q, t, lb_isa_name(lv[0]));
                        }
                    for (int i = 0; i < nq * n; i++)
                        y_ref[i] = y_got[i] = frnd();
                    for (int q = 0; q < nq; q++) {
                        if (l < nl)
                            k.axpy_f16_rows(n, rows, a + q * ROWS, kv, STRIDE, y_ref + q * n);
                        else
                            lb_axpy_f16_rows(n, rows, a + q * ROWS, kv, STRIDE, y_ref + q * n);
                    }
                    if (l < nl)
                        k.axpy_f16_multi(n, rows, a, ROWS, kv, STRIDE, nq, y_got);
                    else
                        lb_axpy_f16_multi(n, rows, a, ROWS, kv, STRIDE, nq, y_got);
                    CHECK_MSG(memcmp(y_ref, y_got, sizeof(float) * nq * n) == 0, "%s axpy multi n=%d rows=%d nq=%d", lvl,
                              n, rows, nq);
                }
}

TEST(simd_gemv_rows_match_vec_dot)
{
    lb_isa lv[LB_ISA_COUNT];
    int nl = levels(lv);
    enum { K = 1024, R = 23 };
    static float x[K];
    static lbs_q4_0 w4[R][K / 32];
    static lbs_q8_0 w8[R][K / 32], a[K / 32];
    static int8_t qs[K];
    static int32_t nls[K / 32 * 8];
    static float dy[K / 32], y[R];
    for (int l = 0; l < nl; l++) {
        lb_simd_kernels k;
        lb_simd_kernels_for(lv[l], &k);
        CHECK(k.gemv_q4_0 && k.gemv_act_from_q8_0);
        CHECK_EQ(k.gemv_q8_0 != NULL, lv[l] >= LB_ISA_AVXVNNI);
        for (int rep = 0; rep < 3; rep++) {
            fill_floats(x, K, rep);
            lb_kernels_scalar(LB_TYPE_Q8_0)->from_float(x, a, K);
            fill_bytes(w4, sizeof w4);
            fill_bytes(w8, sizeof w8);
            for (int r = 0; r < R; r++)
                for (int b = 0; b < K / 32; b++) {
                    w4[r][b].d = rnd_scale();
                    w8[r][b].d = rnd_scale();
                    for (int j = 0; j < 32; j++)
                        if (w8[r][b].qs[j] == -128)
                            w8[r][b].qs[j] = -127;
                }
            lbs_gemv_act act = { qs, nls, dy };
            k.gemv_act_from_q8_0(a, K, &act);
            for (int t = 0; t < 2; t++) {
                if (t == 1 && !k.gemv_q8_0)
                    continue;
                for (int r = 0; r < R; r++)
                    y[r] = NAN;
                /* rows [1, 22): a 4-row body and a tail, leaving rows 0 and 22 alone */
                if (t == 0)
                    k.gemv_q4_0(K, 1, R - 1, w4, sizeof w4[0], &act, y);
                else
                    k.gemv_q8_0(K, 1, R - 1, w8, sizeof w8[0], &act, y);
                CHECK(isnan(y[0]) && isnan(y[R - 1]));
                for (int r = 1; r < R - 1; r++) {
                    float ref, mag;
                    if (t == 0) {
                        (void)ref_dot_q4_0(K, w4[r], a, &mag);
                        lb_kernels_scalar(LB_TYPE_Q4_0)->vec_dot(K, &ref, w4[r], a);
                    } else {
                        (void)ref_dot_q8_0(K, w8[r], a, &mag);
                        lb_kernels_scalar(LB_TYPE_Q8_0)->vec_dot(K, &ref, w8[r], a);
                    }
                    CHECK_DOT(t ? "gemv q8_0" : "gemv q4_0", y[r], ref, mag);
                }
            }
        }
    }
}

/* The remaining types, generically: random blocks (sane fp16 scales in the first 1 or 2
 * halves), activations from the scalar quantizer, tolerance from dequantized |w|.|a|. */
TEST(simd_vec_dot_other_types)
{
    lb_isa lv[LB_ISA_COUNT];
    int nl = levels(lv);
    enum { K = 2048 };
    static float x[K], wf[K], af[K];
    static uint8_t w[K * 4], a[K * 4];
    for (int l = 0; l < nl; l++) {
        lb_simd_kernels k;
        lb_simd_kernels_for(lv[l], &k);
        struct { uint32_t type; int halves; lb_vec_dot_fn fn; const char *name; } cases[] = {
            { LB_TYPE_Q4_1, 2, k.vec_dot_q4_1_q8_1, "q4_1" }, { LB_TYPE_Q5_0, 1, k.vec_dot_q5_0_q8_0, "q5_0" },
            { LB_TYPE_Q5_1, 2, k.vec_dot_q5_1_q8_1, "q5_1" }, { LB_TYPE_Q5_K, 2, k.vec_dot_q5_K_q8_K, "q5_K" },
            { LB_TYPE_BF16, -1, k.vec_dot_bf16, "bf16" },
        };
        for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
            const lb_type_traits *st = lb_kernels_scalar(cases[c].type);
            const lb_type_traits *at = lb_kernels_scalar(st->vec_dot_type);
            CHECK_MSG(cases[c].fn != NULL, "%s %s missing", lb_isa_name(lv[l]), cases[c].name);
            if (!cases[c].fn)
                continue;
            for (int rep = 0; rep < 6; rep++) {
                int n = rep == 0 ? (cases[c].type == LB_TYPE_Q5_K ? 256 : 32) : K;
                if (cases[c].type == LB_TYPE_BF16 && rep == 1)
                    n = 37; /* tails */
                fill_floats(x, n, rep % 3);
                at->from_float(x, a, n);
                if (cases[c].halves < 0) {
                    fill_floats(wf, n, (rep + 1) % 3);
                    st->from_float(wf, w, n);
                } else {
                    size_t rb = lb_type_row_bytes(cases[c].type, n), bb = lb_type_block_bytes(cases[c].type);
                    fill_bytes(w, rb);
                    for (size_t off = 0; off < rb; off += bb)
                        for (int h = 0; h < cases[c].halves; h++) {
                            uint16_t v = rnd_scale();
                            memcpy(w + off + 2 * h, &v, 2);
                        }
                }
                st->to_float(w, wf, n);
                at->to_float(a, af, n);
                float mag = 0, ref, got;
                for (int i = 0; i < n; i++)
                    mag += fabsf(wf[i] * af[i]);
                st->vec_dot(n, &ref, w, a);
                cases[c].fn(n, &got, w, a);
                CHECK_DOT(cases[c].name, got, ref, mag);
            }
        }
    }
}

/* Attention's F16 accumulator: every level bit-identical to the scalar fmaf/rounding code. */
TEST(simd_f16_accumulator_bit_identical)
{
    lb_isa lv[LB_ISA_COUNT];
    int nl = levels(lv);
    enum { HD = 80 }; /* 64 FMA lanes + a 16-element tail, as forward.c splits it */
    static uint16_t v[HD], ref[HD], got[HD];
    static float tmp[HD];
    for (int l = 0; l < nl; l++) {
        lb_simd_kernels k;
        lb_simd_kernels_for(lv[l], &k);
        for (int rep = 0; rep < 200; rep++) {
            fill_floats(tmp, HD, rep % 3);
            lb_kernels_scalar(LB_TYPE_F16)->from_float(tmp, v, HD);
            fill_floats(tmp, HD, (rep + 1) % 3);
            lb_kernels_scalar(LB_TYPE_F16)->from_float(tmp, ref, HD);
            memcpy(got, ref, sizeof got);
            float vs = frnd() * 2.0f, ms = fabsf(frnd());
            int n_fma = rep % 2 ? 64 : 61;
            for (int d = 0; d < n_fma; d++)
                ref[d] = lb_f32_to_f16(fmaf(lb_f16_to_f32(v[d]), vs, lb_f16_to_f32(ref[d])));
            for (int d = n_fma; d < HD; d++) {
                float prod = lb_f16_to_f32(v[d]) * vs;
                ref[d] = lb_f32_to_f16(lb_f16_to_f32(ref[d]) + prod);
            }
            k.f16_acc_fma(n_fma, HD, got, v, vs);
            CHECK_MSG(memcmp(ref, got, sizeof ref) == 0, "%s f16_acc_fma rep %d", lb_isa_name(lv[l]), rep);
            for (int d = 0; d < HD; d++)
                ref[d] = lb_f32_to_f16(lb_f16_to_f32(ref[d]) * ms);
            memcpy(got, ref, sizeof got); /* compare scale on identical input */
            for (int d = 0; d < HD; d++)
                got[d] = v[d], ref[d] = lb_f32_to_f16(lb_f16_to_f32(v[d]) * ms);
            k.f16_scale(HD, got, ms);
            CHECK_MSG(memcmp(ref, got, sizeof ref) == 0, "%s f16_scale rep %d", lb_isa_name(lv[l]), rep);
        }
    }
    /* dispatched entry points */
    for (int d = 0; d < HD; d++)
        got[d] = ref[d] = v[d];
    for (int d = 0; d < 64; d++)
        ref[d] = lb_f32_to_f16(fmaf(lb_f16_to_f32(v[d]), 0.75f, lb_f16_to_f32(ref[d])));
    for (int d = 64; d < HD; d++) {
        float prod = lb_f16_to_f32(v[d]) * 0.75f;
        ref[d] = lb_f32_to_f16(lb_f16_to_f32(ref[d]) + prod);
    }
    lb_f16_acc_fma(64, HD, got, v, 0.75f);
    CHECK(memcmp(ref, got, sizeof ref) == 0);
}

/* Attention probabilities: every level (vectorized exp, 8-lane sums) within one F16 rounding
 * step of the exact softmax computed in double, for lengths around the vector width, flat
 * and peaked scores, at the scale 1/sqrt(head size). */
TEST(softmax_f16r_matches_reference)
{
    enum { NMAX = 333 };
    static float sc[NMAX], got[NMAX];
    const int ns[] = { 1, 7, 8, 9, 64, 333 };
    lb_isa lv[LB_ISA_COUNT];
    int nl = levels(lv);
    for (int shape = 0; shape < 3; shape++) {
        for (int i = 0; i < NMAX; i++) /* raw q.k: wide spread, all equal, one far above */
            sc[i] = shape == 1 ? 3.5f : (float)(((int)(rnd() % 20001) - 10000) / 100.0);
        if (shape == 2)
            sc[NMAX / 2] = sc[0] = 900.0f;
        for (int l = 0; l <= nl; l++)
            for (size_t ni = 0; ni < sizeof ns / sizeof *ns; ni++) {
                int n = ns[ni];
                const float scale = 0.125f;
                lb_simd_kernels k;
                if (l < nl) {
                    lb_simd_kernels_for(lv[l], &k);
                    k.softmax_f16r(n, scale, sc, got);
                } else {
                    lb_softmax_f16r(n, scale, sc, got); /* the dispatched entry point */
                }
                double max = -INFINITY, sum = 0, total = 0;
                for (int i = 0; i < n; i++)
                    max = (double)sc[i] * scale > max ? (double)sc[i] * scale : max;
                for (int i = 0; i < n; i++)
                    sum += exp((double)sc[i] * scale - max);
                int bad = 0;
                for (int i = 0; i < n; i++) {
                    double want = exp((double)sc[i] * scale - max) / sum;
                    total += got[i];
                    /* one F16 step: 2^-10 relative for normals, 2^-24 absolute below them */
                    if (!(fabs(got[i] - want) <= fabs(want) / 1024 + 6e-8) && bad++ < 3)
                        CHECK_MSG(0, "%s shape %d n=%d p[%d] = %g, want %g", l < nl ? lb_isa_name(lv[l]) : "dispatched",
                                  shape, n, i, got[i], want);
                }
                CHECK_MSG(fabs(total - 1.0) <= n / 2048.0 + 1e-6, "shape %d n=%d: probabilities sum to %g", shape, n,
                          total);
            }
    }
}

/* silu(g) * u with the vectorized exp: within 1e-6 relative of a double-precision reference
 * over the whole float range silu meets (including the clamped tails), at every level. */
TEST(silu_mul_matches_reference)
{
    enum { NS = 1003 };
    static float g[NS], u[NS], got[NS];
    for (int i = 0; i < NS; i++) {
        g[i] = (float)(((int)(rnd() % 200001) - 100000) / 1000.0);
        u[i] = (float)(((int)(rnd() % 2001) - 1000) / 250.0);
    }
    const float special[] = { 0.0f, -0.0f, 1e-3f, -1e-3f, 20.0f, -20.0f, 87.5f, -87.5f, 88.5f, -88.5f, 1e4f, -1e4f };
    for (size_t i = 0; i < sizeof special / sizeof *special; i++)
        g[i] = special[i];
    lb_isa lv[LB_ISA_COUNT];
    int nl = levels(lv);
    for (int l = 0; l <= nl; l++) {
        lb_simd_kernels k;
        if (l < nl)
            lb_simd_kernels_for(lv[l], &k);
        memcpy(got, g, sizeof got);
        if (l < nl)
            k.silu_mul(NS, got, u);
        else
            lb_silu_mul(NS, got, u); /* the dispatched entry point */
        int bad = 0;
        for (int i = 0; i < NS; i++) {
            double want = (double)g[i] / (1.0 + exp(-(double)g[i])) * u[i];
            if (!(fabs(got[i] - want) <= 1e-6 * fabs(want) + 1e-30) && bad++ < 3)
                CHECK_MSG(0, "%s silu(%g) * %g = %g, want %g", l < nl ? lb_isa_name(lv[l]) : "dispatched", g[i], u[i],
                          got[i], want);
        }
    }
}
