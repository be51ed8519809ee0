/* Matrix-matrix path for prompt processing (many tokens per matmul) on AMX tiles.
 * Activations are quantized once per matmul (q8_0 blocks for Q4_0/Q8_0 weights, q8_K for
 * Q4_K, exactly as the vec_dot path quantizes them) and laid out as AMX B tiles; weights are
 * unpacked 32 rows at a time into int8 A tiles and reused for every token. Integer products are exact; results differ from vec_dot only in float summation
 * order. Threads split tokens (quantize) and 16-row groups (rows). */
#ifndef LB_GEMM_H
#define LB_GEMM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "repack.h"

typedef struct lb_gemm_acts {
    uint32_t wtype;   /* ggml weight type the activations were prepared for */
    int n_tok, k, kb; /* kb = k / 32 */
    int n_tiles;      /* tokens padded to tiles of 16 */
    int8_t *b;        /* [n_tiles][kb][8 rows][64 bytes]: B tiles (4 bytes per token per row) */
    float *da;        /* [n_tiles][kb][16] activation scale per 32-block and token */
    float *asum;      /* [n_tiles][kb][16] da * sum(q) per 32-block (K-quant mins) */
} lb_gemm_acts;

/* True when the AMX path handles this weight type, row length and layout (repack.h) on this
 * CPU at the current ISA level (LLMBOX_ISA=avx512 or lower disables it). */
bool lb_gemm_amx_usable(uint32_t wtype, int k, uint32_t layout);

/* Memory for lb_gemm_acts_init (64-byte aligned by the caller). */
size_t lb_gemm_acts_bytes(int n_tok, int k);
/* Per-thread scratch for lb_gemm_rows and lb_gemm_acts_quantize (64-byte aligned). */
size_t lb_gemm_scratch_bytes(int k);

void lb_gemm_acts_init(lb_gemm_acts *a, void *mem, uint32_t wtype, int n_tok, int k);
/* Quantizes tokens [t0, t1) of x (row stride ldx floats) into a. Threads may split tokens. */
void lb_gemm_acts_quantize(lb_gemm_acts *a, const float *x, size_t ldx, int t0, int t1, void *scratch);
/* y[t * ldy + r] = W[r] . x[t] for rows [r0, r1) (r0 a multiple of 16, r1 <= n_rows) and all
 * tokens. w: n_rows rows of row_bytes each, plain or in the x4 layout. */
void lb_gemm_rows(const lb_gemm_acts *a, const void *w, size_t row_bytes, uint32_t layout, int n_rows, int r0,
                  int r1, float *y, size_t ldy, void *scratch);

/* Implemented in gemm_amx.c (AMX + AVX-512 code, called only when lb_gemm_amx_usable). */
void lb_amx_acts_quantize(lb_gemm_acts *a, const float *x, size_t ldx, int t0, int t1, void *scratch);
void lb_amx_rows(const lb_gemm_acts *a, const void *w, size_t row_bytes, uint32_t layout, int n_rows, int r0,
                 int r1, float *y, size_t ldy, void *scratch);

#endif
