/* SIMD kernels per ISA level (engine/kern_*.c), and the selection of the best set for the
 * level lb_cpu_isa() allows. Signatures follow the engine's dispatch table:
 *   vec_dot(n, &s, weight_row, activation_row): n elements, activations quantized to the
 *   type's partner (q8_0 for Q4_0/Q8_0, q8_K for the K-quants);
 *   quantize_row(x, y, n): n floats to blocks. */
#ifndef LB_KERN_SIMD_H
#define LB_KERN_SIMD_H

#include <stdint.h>

#include <stddef.h>

#include "cpu_features.h"
#include "simd_blocks.h"

typedef void (*lb_vec_dot_fn)(int n, float *s, const void *vx, const void *vy);
typedef void (*lb_quantize_row_fn)(const float *x, void *y, int64_t n);
typedef void (*lb_dequantize_row_fn)(const void *x, float *y, int64_t n);
typedef void (*lb_axpy_fn)(int n, float a, const void *x, float *y);
typedef void (*lb_gemv_fn)(int k, int r0, int r1, const void *w, size_t rb, const lbs_gemv_act *act, float *y);
typedef void (*lb_gemm_x4_fn)(int k, int g0, int g1, const void *w, const lbs_x4_act *act, int n_tok, float *y,
                              size_t ldy);

typedef struct lb_simd_kernels {
    lb_isa isa; /* level these kernels were compiled for (SCALAR: none, use the reference) */
    lb_quantize_row_fn quantize_row_q8_0, quantize_row_q8_K;
    lb_vec_dot_fn vec_dot_q4_0_q8_0, vec_dot_q8_0_q8_0, vec_dot_q4_K_q8_K, vec_dot_q6_K_q8_K;
    lb_vec_dot_fn vec_dot_f16, vec_dot_bf16;
    lb_vec_dot_fn vec_dot_q4_1_q8_1, vec_dot_q5_0_q8_0, vec_dot_q5_1_q8_1, vec_dot_q5_K_q8_K;
    lb_quantize_row_fn quantize_row_f16;
    lb_dequantize_row_fn dequantize_row_f16;
    lb_axpy_fn axpy_f16;
    /* attention over a run of K/V rows: per-row dots and axpys, results as the per-row calls */
    void (*dot_f16_rows)(int n, int rows, const void *x, size_t stride, const void *y, float *s);
    void (*axpy_f16_rows)(int n, int rows, const float *a, const void *x, size_t stride, float *y);
    /* the same for several queries sharing the rows (query heads of one K/V head, tokens) */
    void (*dot_f16_multi)(int n, int rows, const void *x, size_t stride, int nq, const float *y, float *s,
                          size_t ss);
    void (*axpy_f16_multi)(int n, int rows, const float *a, size_t as, const void *x, size_t stride, int nq,
                           float *y);
    /* GEMV for one token over rows [r0, r1); gemv_q8_0 is NULL without VNNI. */
    lb_gemv_fn gemv_q4_0, gemv_q8_0;
    void (*gemv_act_from_q8_0)(const void *q, int k, lbs_gemv_act *act);
    /* x4 layout (repack.h): rows of groups [g0, g1) times n_tok tokens; x4_act (Q4_0, Q8_0)
     * x4_act_q4_K and x4_act_q6_K prepare one token. */
    lb_gemm_x4_fn gemm_x4_q4_0, gemm_x4_q8_0, gemm_x4_q4_K, gemm_x4_q6_K;
    void (*x4_act)(const float *x, int k, int shift, lbs_x4_act *act);
    void (*x4_act_q4_K)(const float *x, int k, lbs_x4_act *act);
    void (*x4_act_q6_K)(const float *x, int k, lbs_x4_act *act);
    void (*silu_mul)(int n, float *g, const float *u);
    void (*softmax_f16r)(int n, float scale, const float *s, float *p);
    void (*f16_acc_fma)(int n_fma, int n, uint16_t *acc, const uint16_t *v, float vs);
    void (*f16_scale)(int n, uint16_t *acc, float ms);
} lb_simd_kernels;

/* The x4 kernel of a ggml type (Q4_0, Q8_0, Q4_K, Q6_K) in k, NULL for other types or at the
 * scalar level; and the preparation of one token's activations for it. */
lb_gemm_x4_fn lb_simd_gemm_x4(const lb_simd_kernels *k, uint32_t type);
void lb_simd_x4_act(const lb_simd_kernels *k, uint32_t type, const float *x, int n, lbs_x4_act *act);

/* Attention's F16 accumulator (forward.c), dispatched like lb_axpy_f16; bit-identical at
 * every level: acc[d] = f16(fma(v[d], vs, acc[d])) for d < n_fma, f16(acc[d] + v[d] * vs)
 * after; and acc[d] = f16(acc[d] * ms). */
void lb_f16_acc_fma(int n_fma, int n, uint16_t *acc, const uint16_t *v, float vs);
void lb_f16_scale(int n, uint16_t *acc, float ms);

/* g[i] = silu(g[i]) * u[i] at the current level (vectorized exp; scalar expf without AVX2). */
void lb_silu_mul(int n, float *g, const float *u);

/* Attention probabilities of one query from its raw scores, at the current level:
 * p[t] = e^(scale * s[t] - max) / sum over t < n, rounded to F16 (as ggml's soft_max feeds
 * the V product). Levels differ from the scalar expf by the vectorized exp (~2e-7 relative)
 * and the order of the double sum, i.e. at most one F16 rounding step. */
void lb_softmax_f16r(int n, float scale, const float *s, float *p);

/* y += a * x for an F16 row x, at the current level (scalar when no F16C): attention's
 * value accumulation. Selected once, like the dispatch table. */
void lb_axpy_f16(int n, float a, const void *x, float *y);

/* s[t] = row t of x . y, and y += sum over t of a[t] * row t of x (F16 rows `stride`
 * elements apart, t < rows): attention's scores and values in one call per query, with the
 * results of the per-row F16 dot (lb_kernels) and lb_axpy_f16 at the current level. */
void lb_dot_f16_rows(int n, int rows, const void *x, size_t stride, const void *y, float *s);
void lb_axpy_f16_rows(int n, int rows, const float *a, const void *x, size_t stride, float *y);

/* Several queries over the same F16 rows (x, rows `stride` elements apart), at the current
 * level: s[q * ss + t] = x[t] . y[q] for float queries y (n apart; n % 8 == 0, n <= 256),
 * summed in an order of its own (within float rounding of lb_dot_f16_rows); and
 * y[q * n + d] += sum over t of a[q * as + t] * x[t][d], equal to lb_axpy_f16_rows per query. */
void lb_dot_f16_multi(int n, int rows, const void *x, size_t stride, int nq, const float *y, float *s, size_t ss);
void lb_axpy_f16_multi(int n, int rows, const float *a, size_t as, const void *x, size_t stride, int nq, float *y);

/* Kernels for exactly `isa` (AVX2, AVXVNNI, AVX512; AMX uses the AVX512 vector kernels) —
 * for tests comparing each level against scalar. Entries are NULL for SCALAR. The caller must
 * not call them unless the CPU supports isa (lb_cpu_caps_get()->best >= isa). */
void lb_simd_kernels_for(lb_isa isa, lb_simd_kernels *out);

/* Overrides entries of the engine's dispatch table (kernels.h, indexed by ggml type) with
 * the kernels of the current level lb_cpu_isa(); returns the level's name. */
struct lb_type_traits;
const char *lb_kernels_install_simd(struct lb_type_traits *table);

#define LB_DECL_KERNELS(isa)                                                        \
    void lb_kern_##isa##_quantize_row_q8_0(const float *x, void *y, int64_t n);     \
    void lb_kern_##isa##_quantize_row_q8_K(const float *x, void *y, int64_t n);     \
    void lb_kern_##isa##_vec_dot_q4_0_q8_0(int n, float *s, const void *vx, const void *vy); \
    void lb_kern_##isa##_vec_dot_q8_0_q8_0(int n, float *s, const void *vx, const void *vy); \
    void lb_kern_##isa##_vec_dot_q4_K_q8_K(int n, float *s, const void *vx, const void *vy); \
    void lb_kern_##isa##_vec_dot_q6_K_q8_K(int n, float *s, const void *vx, const void *vy); \
    void lb_kern_##isa##_vec_dot_f16(int n, float *s, const void *vx, const void *vy);       \
    void lb_kern_##isa##_vec_dot_bf16(int n, float *s, const void *vx, const void *vy);      \
    void lb_kern_##isa##_vec_dot_q4_1_q8_1(int n, float *s, const void *vx, const void *vy); \
    void lb_kern_##isa##_vec_dot_q5_0_q8_0(int n, float *s, const void *vx, const void *vy); \
    void lb_kern_##isa##_vec_dot_q5_1_q8_1(int n, float *s, const void *vx, const void *vy); \
    void lb_kern_##isa##_vec_dot_q5_K_q8_K(int n, float *s, const void *vx, const void *vy); \
    void lb_kern_##isa##_quantize_row_f16(const float *x, void *y, int64_t n);              \
    void lb_kern_##isa##_dequantize_row_f16(const void *x, float *y, int64_t n);            \
    void lb_kern_##isa##_axpy_f16(int n, float a, const void *x, float *y);                 \
    void lb_kern_##isa##_dot_f16_rows(int n, int rows, const void *x, size_t stride, const void *y, float *s); \
    void lb_kern_##isa##_axpy_f16_rows(int n, int rows, const float *a, const void *x, size_t stride, float *y); \
    void lb_kern_##isa##_dot_f16_multi(int n, int rows, const void *x, size_t stride, int nq, const float *y, \
                                       float *s, size_t ss);                                   \
    void lb_kern_##isa##_axpy_f16_multi(int n, int rows, const float *a, size_t as, const void *x, size_t stride, \
                                        int nq, float *y);                                     \
    void lb_kern_##isa##_gemv_q4_0(int k, int r0, int r1, const void *w, size_t rb, const lbs_gemv_act *act, float *y); \
    void lb_kern_##isa##_gemv_act_from_q8_0(const void *q, int k, lbs_gemv_act *act);      \
    void lb_kern_##isa##_f16_acc_fma(int n_fma, int n, uint16_t *acc, const uint16_t *v, float vs); \
    void lb_kern_##isa##_f16_scale(int n, uint16_t *acc, float ms);                          \
    void lb_kern_##isa##_gemm_x4_q4_0(int k, int g0, int g1, const void *w, const lbs_x4_act *act, int n_tok, \
                                      float *y, size_t ldy);                                 \
    void lb_kern_##isa##_gemm_x4_q8_0(int k, int g0, int g1, const void *w, const lbs_x4_act *act, int n_tok, \
                                      float *y, size_t ldy);                                 \
    void lb_kern_##isa##_gemm_x4_q4_K(int k, int g0, int g1, const void *w, const lbs_x4_act *act, int n_tok, \
                                      float *y, size_t ldy);                                 \
    void lb_kern_##isa##_x4_act(const float *x, int k, int shift, lbs_x4_act *act);                     \
    void lb_kern_##isa##_gemm_x4_q6_K(int k, int g0, int g1, const void *w, const lbs_x4_act *act, int n_tok, \
                                      float *y, size_t ldy);                                 \
    void lb_kern_##isa##_x4_act_q4_K(const float *x, int k, lbs_x4_act *act);                           \
    void lb_kern_##isa##_x4_act_q6_K(const float *x, int k, lbs_x4_act *act);                           \
    void lb_kern_##isa##_silu_mul(int n, float *g, const float *u);                                           \
    void lb_kern_##isa##_softmax_f16r(int n, float scale, const float *s, float *p);
LB_DECL_KERNELS(avx2)
LB_DECL_KERNELS(avxvnni)
LB_DECL_KERNELS(avx512)
#undef LB_DECL_KERNELS
void lb_kern_avxvnni_gemv_q8_0(int k, int r0, int r1, const void *w, size_t rb, const lbs_gemv_act *act, float *y);
void lb_kern_avx512_gemv_q8_0(int k, int r0, int r1, const void *w, size_t rb, const lbs_gemv_act *act, float *y);
/* The 512-bit x4 kernels for Q4_0/Q8_0 (kern_x4.h), the level's gemm_x4_q4_0/q8_0 where
 * lb_cpu_caps_get()->zmm_x4; the same contract as lb_gemm_x4_fn. */
void lb_kern_avx512_gemm_x4z_q4_0(int k, int g0, int g1, const void *w, const lbs_x4_act *act, int n_tok, float *y,
                                  size_t ldy);
void lb_kern_avx512_gemm_x4z_q8_0(int k, int g0, int g1, const void *w, const lbs_x4_act *act, int n_tok, float *y,
                                  size_t ldy);
void lb_kern_zmm_avx512_vec_dot_q4_0_q8_0(int n, float *s, const void *vx, const void *vy);

#endif
