/* The x4 weight layout (engine/repack.h; Q4_0, Q8_0, Q4_K, Q6_K): packing is lossless, every ISA level's x4 kernels
 * give the scalar vec_dot's results on the plain rows (up to float summation order, for 1-9
 * tokens and sub-ranges of groups, including the extreme quants that overflow int16 pairs
 * without VNNI), and lb_matmul on a repacked weight equals lb_matmul on the plain one at the
 * current level (AMX for prompt batches where present) and at the scalar level. */
#include "../lib/harness.h"
#include "cpu_features.h"
#include "ggml_type.h"
#include "kern_simd.h"
#include "kernels.h"
#include "matmul.h"
#include "matmul_x4.h"
#include "repack.h"
#include "threadpool.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(void) { return lb_test_rnd(&rng); }

/* Random rows with sane fp16 scales (Q4_K: d and dmin); `extreme` puts quants at their
 * limits (Q8_0 -128/127, Q4_0 and Q4_K 0/15, Q6_K 0/63, Q4_K's 6-bit scales and mins 0/63)
 * to catch int16 overflow. */
static uint8_t *random_rows(uint32_t type, int rows, int k, int extreme)
{
    size_t rb = lb_type_row_bytes(type, k), bb = lb_type_block_bytes(type);
    uint8_t *w = malloc(rb * rows);
    for (size_t i = 0; i < rb * rows; i++)
        w[i] = extreme ? ((rnd() & 1) ? (type == LB_TYPE_Q8_0 ? 0x80 : 0x00) : (type == LB_TYPE_Q8_0 ? 0x7f : 0xff))
                       : (uint8_t)rnd();
    size_t d_at = type == LB_TYPE_Q6_K ? 208 : 0; /* Q6_K keeps d after its quants */
    for (size_t off = 0; off < rb * rows; off += bb) {
        uint16_t h = (uint16_t)(((6 + rnd() % 6) << 10) | (rnd() & 1023));
        memcpy(w + off + d_at, &h, 2);
        if (type == LB_TYPE_Q4_K) {
            h = (uint16_t)(((6 + rnd() % 6) << 10) | (rnd() & 1023));
            memcpy(w + off + 2, &h, 2);
        }
    }
    return w;
}

static float *random_x(int n, int extreme)
{
    float *x = malloc(sizeof(float) * n);
    for (int i = 0; i < n; i++)
        x[i] = extreme ? ((rnd() & 1) ? 3.0f : -3.0f) : (float)((int)(rnd() % 2001) - 1000) / 400.0f;
    return x;
}

/* y[t * rows + r] by the scalar reference on plain rows; mag: sum of |w x| for tolerances. */
static void reference(uint32_t type, const uint8_t *w, int rows, int k, const float *x, int n_tok, float *y, double *mag)
{
    size_t rb = lb_type_row_bytes(type, k);
    uint32_t at = lb_kernels_scalar(type)->vec_dot_type;
    uint8_t *q8 = malloc(lb_type_row_bytes(at, k));
    float *wf = malloc(sizeof(float) * k);
    for (int t = 0; t < n_tok; t++) {
        lb_kernels_scalar(at)->from_float(x + (size_t)t * k, q8, k);
        for (int r = 0; r < rows; r++) {
            lb_kernels_scalar(type)->vec_dot(k, &y[t * rows + r], w + r * rb, q8);
            lb_kernels_scalar(type)->to_float(w + r * rb, wf, k);
            double m = 0;
            for (int i = 0; i < k; i++)
                m += fabs((double)wf[i] * x[(size_t)t * k + i]);
            mag[t * rows + r] = m;
        }
    }
    free(q8);
    free(wf);
}

static int close_enough(const char *what, const float *got, const float *want, const double *mag, int n)
{
    int bad = 0;
    for (int i = 0; i < n; i++)
        if (!(fabs(got[i] - want[i]) <= 2e-5 * mag[i] + 1e-6) && bad++ < 3)
            CHECK_MSG(0, "%s: [%d] %g vs %g (mag %g)", what, i, got[i], want[i], mag[i]);
    return bad == 0;
}

TEST(x4_pack_is_lossless)
{
    const uint32_t types[] = { LB_TYPE_Q4_0, LB_TYPE_Q8_0, LB_TYPE_Q4_K, LB_TYPE_Q6_K };
    for (int ti = 0; ti < 4; ti++) {
        uint32_t type = types[ti];
        int rows = 12, be = lb_type_block_elems(type), k = 3 * be;
        size_t rb = lb_type_row_bytes(type, k), bb = lb_type_block_bytes(type);
        uint8_t *w = random_rows(type, rows, k, 0), *p = malloc(rb * rows), blk[256];
        CHECK_EQ(lb_x4_group_bytes(type, k), 4 * rb);
        lb_x4_pack(type, w, p, k, rows);
        CHECK(memcmp(w, p, rb * rows) != 0);
        int bad = 0;
        for (int r = 0; r < rows; r++)
            for (int b = 0; b < k / be; b++) {
                lb_x4_get_block(type, p + (size_t)(r / 4) * 4 * rb, k, r % 4, b, blk);
                bad += memcmp(blk, w + r * rb + b * bb, bb) != 0;
            }
        CHECK_EQ(bad, 0);
        free(w);
        free(p);
    }
    CHECK(lb_x4_fits(LB_TYPE_Q4_0, 64, 8));
    CHECK(lb_x4_fits(LB_TYPE_Q8_0, 32, 4));
    CHECK(!lb_x4_fits(LB_TYPE_Q4_0, 64, 6)); /* whole groups of 4 rows only */
    CHECK(lb_x4_fits(LB_TYPE_Q4_K, 256, 8));
    CHECK(!lb_x4_fits(LB_TYPE_Q4_K, 128, 8)); /* whole super-blocks only */
    CHECK(lb_x4_fits(LB_TYPE_Q6_K, 512, 4));
    CHECK(!lb_x4_fits(LB_TYPE_Q5_K, 256, 8));
    CHECK(!lb_x4_fits(LB_TYPE_F16, 64, 8));
}

TEST(x4_kernels_match_scalar_at_every_level)
{
    lb_isa best = lb_cpu_caps_get()->best;
    if (best < LB_ISA_AVX2)
        SKIP("no AVX2 on this CPU: only the scalar path exists");
    const uint32_t types[] = { LB_TYPE_Q4_0, LB_TYPE_Q8_0, LB_TYPE_Q4_K, LB_TYPE_Q6_K };
    const int shapes[][3][2] = { { { 16, 32 }, { 36, 256 }, { 8, 896 } },
                                 { { 16, 32 }, { 36, 256 }, { 8, 896 } },
                                 { { 16, 256 }, { 36, 512 }, { 8, 1792 } },
                                 { { 16, 256 }, { 36, 512 }, { 8, 1792 } } };
    const int toks[] = { 1, 2, 3, 4, 5, 9, 8, 13 };
    /* every level, and the AVX-512 level once with each width of the Q4_0/Q8_0 kernels
     * (lb_simd_kernels_for picks one by CPU vendor) */
    int last = best >= LB_ISA_AVX512 ? LB_ISA_AVX512 + 1 : (int)best;
    for (int v = LB_ISA_AVX2; v <= last; v++) {
        int l = v > LB_ISA_AVX512 ? LB_ISA_AVX512 : v;
        bool zmm = v > LB_ISA_AVX512;
        lb_simd_kernels kern;
        lb_simd_kernels_for((lb_isa)l, &kern);
        if (l == LB_ISA_AVX512) {
            kern.gemm_x4_q4_0 = zmm ? lb_kern_avx512_gemm_x4z_q4_0 : lb_kern_avx512_gemm_x4_q4_0;
            kern.gemm_x4_q8_0 = zmm ? lb_kern_avx512_gemm_x4z_q8_0 : lb_kern_avx512_gemm_x4_q8_0;
        }
        bool all = kern.gemm_x4_q4_0 && kern.gemm_x4_q8_0 && kern.gemm_x4_q4_K && kern.gemm_x4_q6_K && kern.x4_act &&
                   kern.x4_act_q4_K && kern.x4_act_q6_K;
        CHECK(all);
        if (!all)
            continue;
        for (int ti = 0; ti < 4; ti++)
            for (int si = 0; si < 3; si++)
                for (int extreme = 0; extreme < 2; extreme++) {
                    uint32_t type = types[ti];
                    int rows = shapes[ti][si][0], k = shapes[ti][si][1], n_tok = toks[(si * 2 + extreme + ti + 3 * zmm) % 8];
                    uint8_t *w = random_rows(type, rows, k, extreme), *p = malloc(lb_type_row_bytes(type, k) * rows);
                    float *x = random_x(k * n_tok, extreme);
                    float *want = malloc(sizeof(float) * rows * n_tok), *got = calloc((size_t)rows * n_tok, sizeof(float));
                    double *mag = malloc(sizeof(double) * rows * n_tok);
                    lb_x4_pack(type, w, p, k, rows);
                    reference(type, w, rows, k, x, n_tok, want, mag);
                    lbs_x4_act *act = malloc(sizeof *act * n_tok);
                    int8_t *mem = aligned_alloc(64, lbs_x4_act_bytes(k) * n_tok);
                    for (int t = 0; t < n_tok; t++) {
                        act[t] = lbs_x4_act_at(mem + lbs_x4_act_bytes(k) * t, k);
                        lb_simd_x4_act(&kern, type, x + (size_t)t * k, k, &act[t]);
                    }
                    lb_gemm_x4_fn f = lb_simd_gemm_x4(&kern, type);
                    int groups = rows / 4, split = groups / 2;
                    f(k, 0, split, p, act, n_tok, got, rows); /* two calls: sub-ranges of groups */
                    f(k, split, groups, p, act, n_tok, got, rows);
                    char what[96];
                    snprintf(what, sizeof what, "%s%s %s %dx%d tokens %d%s", lb_isa_name((lb_isa)l), zmm ? "-zmm" : "",
                             lb_type_name(type), rows, k, n_tok, extreme ? " extreme" : "");
                    CHECK(close_enough(what, got, want, mag, rows * n_tok));
                    free(w);
                    free(p);
                    free(x);
                    free(want);
                    free(got);
                    free(mag);
                    free(act);
                    free(mem);
                }
    }
}

static void matmul_case(lb_pool *pool, uint32_t type, int rows, int k, int n_tok)
{
    size_t rb = lb_type_row_bytes(type, k);
    uint8_t *w = random_rows(type, rows, k, 0), *p = malloc(rb * rows);
    float *x = random_x(k * n_tok, 0);
    float *y_plain = malloc(sizeof(float) * rows * n_tok), *y_x4 = malloc(sizeof(float) * rows * n_tok);
    double *mag = malloc(sizeof(double) * rows * n_tok);
    void *qbuf = malloc(lb_matmul_qbuf_size(k, n_tok));
    lb_x4_pack(type, w, p, k, rows);
    lb_wt plain = { .type = type, .ne0 = k, .ne1 = rows, .row_bytes = rb, .data = w, .layout = LB_LAYOUT_PLAIN };
    lb_wt x4 = plain;
    x4.data = p;
    x4.layout = LB_LAYOUT_X4;
    reference(type, w, rows, k, x, n_tok, y_plain, mag);
    char what[96];
    lb_matmul(pool, &x4, x, n_tok, y_x4, qbuf);
    snprintf(what, sizeof what, "%s %s %dx%d tokens %d", lb_isa_name(lb_cpu_isa()), lb_type_name(type), rows, k, n_tok);
    CHECK(close_enough(what, y_x4, y_plain, mag, rows * n_tok));
    lb_matmul(pool, &plain, x, n_tok, y_plain, qbuf);
    CHECK(close_enough(what, y_x4, y_plain, mag, rows * n_tok));
    free(w);
    free(p);
    free(x);
    free(y_plain);
    free(y_x4);
    free(mag);
    free(qbuf);
}

TEST(matmul_on_x4_weights_matches_plain)
{
    lb_pool *pool = NULL;
    lb_err err;
    CHECK_EQ(lb_pool_new(2, &pool, &err), LB_OK);
    if (!pool)
        return;
    lb_isa before = lb_cpu_isa();
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1)
            lb_cpu_isa_set(LB_ISA_SCALAR); /* no x4 kernels: the scalar fallback */
        /* rows, k, tokens; 21 tokens take AMX where present (x4 tiles unpacked; not Q6_K) */
        static const int cases[][3] = { { 40, 512, 21 }, { 36, 768, 8 }, { 20, 256, 3 }, { 132, 256, 1 },
                                        { 36, 96, 8 },   { 4, 64, 1 } };
        const uint32_t types[] = { LB_TYPE_Q4_0, LB_TYPE_Q8_0, LB_TYPE_Q4_K, LB_TYPE_Q6_K };
        for (int ti = 0; ti < 4; ti++)
            for (int ci = 0; ci < 6; ci++)
                if (cases[ci][1] % lb_type_block_elems(types[ti]) == 0) /* 96 and 64: 32-blocks only */
                    matmul_case(pool, types[ti], cases[ci][0], cases[ci][1], cases[ci][2]);
    }
    lb_cpu_isa_set(before);
    lb_pool_free(pool);
}

/* q/k/v-like weights of different heights through one lb_matmul_multi call (one activation
 * preparation, groups of all weights in one pass) equal separate lb_matmul calls; a plain
 * weight among them falls back to one call each. */
TEST(matmul_multi_matches_separate_calls)
{
    lb_pool *pool = NULL;
    lb_err err;
    CHECK_EQ(lb_pool_new(2, &pool, &err), LB_OK);
    if (!pool)
        return;
    const int k = 256, heights[3] = { 64, 16, 36 };
    const int toks[] = { 1, 3, 9 };
    for (int ti = 0; ti < 3; ti++) {
        int n_tok = toks[ti];
        lb_wt w[3];
        uint8_t *mem[3];
        float *sep[3], *multi[3];
        float *x = random_x(k * n_tok, 0);
        void *qbuf = malloc(lb_matmul_qbuf_size(k, n_tok));
        for (int i = 0; i < 3; i++) {
            size_t rb = lb_type_row_bytes(LB_TYPE_Q8_0, k);
            uint8_t *plain = random_rows(LB_TYPE_Q8_0, heights[i], k, 0);
            mem[i] = malloc(rb * heights[i]);
            lb_x4_pack(LB_TYPE_Q8_0, plain, mem[i], k, heights[i]);
            free(plain);
            w[i] = (lb_wt){ .type = LB_TYPE_Q8_0, .ne0 = k, .ne1 = heights[i], .row_bytes = rb, .data = mem[i],
                            .layout = LB_LAYOUT_X4 };
            sep[i] = malloc(sizeof(float) * heights[i] * n_tok);
            multi[i] = malloc(sizeof(float) * heights[i] * n_tok);
            lb_matmul(pool, &w[i], x, n_tok, sep[i], qbuf);
        }
        const lb_wt *ws[3] = { &w[0], &w[1], &w[2] };
        lb_matmul_multi(pool, ws, 3, x, n_tok, multi, qbuf);
        for (int i = 0; i < 3; i++)
            CHECK_MSG(memcmp(sep[i], multi[i], sizeof(float) * heights[i] * n_tok) == 0, "weight %d tokens %d", i, n_tok);
        CHECK(lb_matmul_x4_multi(pool, ws, 3, x, n_tok, multi, qbuf));
        w[1].layout = LB_LAYOUT_PLAIN; /* not x4: no single pass, and the plain rows would be read wrongly */
        CHECK(!lb_matmul_x4_multi(pool, ws, 3, x, n_tok, multi, qbuf));
        for (int i = 0; i < 3; i++) {
            free(mem[i]);
            free(sep[i]);
            free(multi[i]);
        }
        free(x);
        free(qbuf);
    }
    lb_pool_free(pool);
}
