/* Prompt-processing matmul microbenchmark, one thread: for weight types Q4_0/Q8_0/Q4_K/Q6_K and
 * the 1B model's matmul shapes, times (a) the vec_dot path (activations quantized once, one
 * dot per row and token), (b) the AMX tile GEMM, (c) OpenBLAS cblas_sgemm on weights
 * dequantized per call (what a BLAS path costs: weights stay quantized in memory), (d) the
 * x4-layout kernels (4 tokens per weight pass; the path of CPUs without AMX).
 *   gemm_bench [-n TOKENS] [-r REPS] [-c] [-s 1b|qwen2] [-y TYPE]
 *   -> one JSON line per (type, shape, method), GFLOP/s. -s qwen2: the 0.5B qwen2 model's shapes;
 *   -y: one weight type only (q4_0, q8_0, q4_K, q6_K). */
#include <cblas.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cpu_features.h"
#include "gemm.h"
#include "ggml_type.h"
#include "kern_simd.h"
#include "kernels.h"
#include "repack.h"

static clockid_t g_clock = CLOCK_MONOTONIC;

/* -c: thread CPU time instead of wall time (robust to other processes taking the core). */
static double now(void)
{
    struct timespec ts;
    clock_gettime(g_clock, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static uint64_t rng = 88172645463325252ull;
static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

/* Random blocks with small positive fp16 scales (Q4_0/Q8_0: d; Q4_K: d, dmin; Q6_K: d at the
 * block's end). */
static void fill(uint32_t type, uint8_t *w, size_t bytes)
{
    for (size_t i = 0; i < bytes; i++)
        w[i] = (uint8_t)rnd();
    size_t bb = lb_type_block_bytes(type);
    for (size_t off = 0; off + bb <= bytes; off += bb) {
        uint16_t h = (uint16_t)(((6 + rnd() % 6) << 10) | (rnd() & 1023));
        memcpy(w + off + (type == LB_TYPE_Q6_K ? 208 : 0), &h, 2);
        if (type == LB_TYPE_Q4_K)
            memcpy(w + off + 2, &h, 2);
    }
}

static void *xalloc(size_t n)
{
    void *p = aligned_alloc(64, (n + 63) & ~(size_t)63);
    if (!p) {
        fprintf(stderr, "gemm_bench: out of memory\n");
        exit(1);
    }
    return p;
}

/* One JSON line per measurement (bench/run.py reads them). */
static void report(uint32_t type, int rows, int k, int n_tok, const char *method, const char *suffix, double flop_per_s)
{
    printf("{\"type\":\"%s\",\"rows\":%d,\"k\":%d,\"tokens\":%d,\"method\":\"%s%s\",\"gflops\":%.1f}\n",
           lb_type_name(type), rows, k, n_tok, method, suffix, flop_per_s / 1e9);
}

int main(int argc, char **argv)
{
    int n_tok = 128, reps = 3;
    const char *shape_set = "1b", *only = NULL;
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "-c"))
            g_clock = CLOCK_THREAD_CPUTIME_ID;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "-c")) {
            i--;
            continue;
        }
        if (!strcmp(argv[i], "-n"))
            n_tok = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "-r"))
            reps = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "-s"))
            shape_set = argv[i + 1];
        else if (!strcmp(argv[i], "-y"))
            only = argv[i + 1];
    }
    if (n_tok < 1 || n_tok > 4096 || reps < 1)
        return 2;
    const char *isa = lb_kernels_init();
    const uint32_t types[] = { LB_TYPE_Q4_0, LB_TYPE_Q8_0, LB_TYPE_Q4_K, LB_TYPE_Q6_K };
    const int shapes_1b[][2] = { { 2048, 2048 }, { 8192, 2048 }, { 2048, 8192 } }; /* rows, k */
    const int shapes_qwen2[][2] = { { 896, 896 }, { 4864, 896 }, { 896, 4864 } };
    const int(*shapes)[2] = strcmp(shape_set, "qwen2") ? shapes_1b : shapes_qwen2;
    for (size_t ti = 0; ti < 4; ti++) {
        uint32_t type = types[ti];
        if (only && strcmp(only, lb_type_name(type)))
            continue;
        const lb_type_traits *tr = lb_kernels(type), *at = lb_kernels(tr->vec_dot_type);
        for (size_t si = 0; si < 3; si++) {
            int rows = shapes[si][0], k = shapes[si][1];
            size_t rb = lb_type_row_bytes(type, k), arb = lb_type_row_bytes(tr->vec_dot_type, k);
            uint8_t *w = xalloc(rb * rows);
            float *x = xalloc(sizeof(float) * k * n_tok), *y = xalloc(sizeof(float) * rows * n_tok);
            uint8_t *xq = xalloc(arb * n_tok);
            fill(type, w, rb * rows);
            for (int i = 0; i < k * n_tok; i++)
                x[i] = (float)((int)(rnd() % 2001) - 1000) / 500.0f;
            double flop = 2.0 * rows * k * n_tok;

            /* (a) vec_dot */
            double best = 1e30;
            for (int r = 0; r < reps; r++) {
                double t0 = now();
                for (int t = 0; t < n_tok; t++)
                    at->from_float(x + (size_t)t * k, xq + t * arb, k);
                for (int row = 0; row < rows; row++)
                    for (int t = 0; t < n_tok; t++)
                        tr->vec_dot(k, &y[(size_t)t * rows + row], w + row * rb, xq + t * arb);
                double dt = now() - t0;
                best = dt < best ? dt : best;
            }
            report(type, rows, k, n_tok, "vec_dot_", isa, flop / best);

            /* The engine repacks Q4_0/Q8_0/Q4_K/Q6_K at load (engine/repack.h): AMX and x4 read that layout. */
            uint32_t layout = lb_x4_fits(type, k, rows) ? LB_LAYOUT_X4 : LB_LAYOUT_PLAIN;
            uint8_t *wl = w;
            if (layout == LB_LAYOUT_X4) {
                wl = xalloc(rb * rows);
                lb_x4_pack(type, w, wl, k, rows);
            }

            /* (b) AMX */
            if (lb_gemm_amx_usable(type, k, layout)) {
                void *am = xalloc(lb_gemm_acts_bytes(n_tok, k)), *scr = xalloc(lb_gemm_scratch_bytes(k));
                lb_gemm_acts a;
                best = 1e30;
                for (int r = 0; r < reps; r++) {
                    double t0 = now();
                    lb_gemm_acts_init(&a, am, type, n_tok, k);
                    lb_gemm_acts_quantize(&a, x, k, 0, n_tok, scr);
                    lb_gemm_rows(&a, wl, rb, layout, rows, 0, rows, y, rows, scr);
                    double dt = now() - t0;
                    best = dt < best ? dt : best;
                }
                report(type, rows, k, n_tok, "amx", "", flop / best);
                free(am);
                free(scr);
            }

            /* (d) x4 kernels (VNNI or AVX2; 4 tokens per pass over the weights, 8 in the zmm Q4_0/Q8_0 kernels): the path without AMX */
            lb_simd_kernels kern;
            lb_simd_kernels_for(lb_cpu_isa(), &kern);
            lb_gemm_x4_fn gx4 = lb_simd_gemm_x4(&kern, type);
            if (layout == LB_LAYOUT_X4 && gx4) {
                size_t per = lbs_x4_act_bytes(k);
                int8_t *am = xalloc(per * n_tok);
                lbs_x4_act *acts = xalloc(sizeof *acts * n_tok);
                for (int t = 0; t < n_tok; t++)
                    acts[t] = lbs_x4_act_at(am + per * t, k);
                best = 1e30;
                for (int r = 0; r < reps; r++) {
                    double t0 = now();
                    for (int t = 0; t < n_tok; t++)
                        lb_simd_x4_act(&kern, type, x + (size_t)t * k, k, &acts[t]);
                    gx4(k, 0, rows / 4, wl, acts, n_tok, y, rows);
                    double dt = now() - t0;
                    best = dt < best ? dt : best;
                }
                report(type, rows, k, n_tok, "x4", "", flop / best);
                free(am);
                free(acts);
            }
            if (wl != w)
                free(wl);

            /* (c) OpenBLAS on dequantized weights, 64-row tiles so the tile stays in cache */
            {
                enum { TR = 64 };
                float *wt = xalloc(sizeof(float) * TR * k);
                best = 1e30;
                for (int r = 0; r < reps; r++) {
                    double t0 = now();
                    for (int r0 = 0; r0 < rows; r0 += TR) {
                        for (int i = 0; i < TR; i++)
                            tr->to_float(w + (size_t)(r0 + i) * rb, wt + (size_t)i * k, k);
                        /* y[t][r0..r0+TR) = x[t] . wt[i] */
                        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n_tok, TR, k, 1.0f, x, k, wt, k, 0.0f,
                                    y + r0, rows);
                    }
                    double dt = now() - t0;
                    best = dt < best ? dt : best;
                }
                report(type, rows, k, n_tok, "openblas_sgemm", "", flop / best);
                free(wt);
            }
            fflush(stdout);
            free(w);
            free(x);
            free(y);
            free(xq);
        }
    }
    return 0;
}
