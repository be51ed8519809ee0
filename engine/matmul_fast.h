/* Fast paths of the matmul layer (engine/matmul.c tries them before the vec_dot loop). */
#ifndef LB_MATMUL_FAST_H
#define LB_MATMUL_FAST_H

#include <stdbool.h>
#include <stddef.h>

#include "ggml_type.h"
#include "model.h"
#include "repack.h"
#include "threadpool.h"

/* Below this many tokens the x4 kernels (one pass over the weights per 4 tokens) beat AMX,
 * whose fixed cost is unpacking every weight into tiles: measured end to end with `llmbox
 * bench -p N` on the 1B and qwen2 models, 2 threads (bench/RESULTS.md), x4 wins up to 12
 * tokens for Q4_0/Q8_0 (three whole passes) and AMX from 13; for Q4_K (its unpack also scales
 * every sub-block) the crossover is 16-24. Other types have no x4 kernels: AMX from 8 tokens
 * (the B tiles are mostly padding below). */
static inline int lb_amx_min_tokens(uint32_t type, uint32_t layout)
{
    if (layout != LB_LAYOUT_X4)
        return 8;
    return type == LB_TYPE_Q4_K ? 20 : 13;
}

/* y = W x for n_tok >= lb_amx_min_tokens() tokens on AMX tiles when the CPU, the ISA level and W's type allow
 * it; returns false without touching out otherwise. qbuf: the matmul's activation buffer of
 * qbuf_bytes. Results equal the vec_dot path's up to float summation order. */
bool lb_matmul_amx(lb_pool *pool, const lb_wt *w, const float *x, int n_tok, float *out, void *qbuf,
                   size_t qbuf_bytes);
/* The same for 1-4 weights of one type and row length applied to the same x (Q/K/V,
 * gate/up): x is quantized once and the weights' row groups share one pass over the pool.
 * All or none: returns false without touching outs when any weight does not qualify. */
bool lb_matmul_amx_multi(lb_pool *pool, const lb_wt *const *ws, int n_w, const float *x, int n_tok,
                         float *const *outs, void *qbuf, size_t qbuf_bytes);

/* y = W x for one token (generation) with the 4-row GEMV kernels (Q4_0; Q8_0 with VNNI);
 * returns false without touching out when it does not apply. Same results as vec_dot up to
 * float summation order (the activation quantization is the same q8_0). */
bool lb_matmul_gemv(lb_pool *pool, const lb_wt *w, const float *x, int n_tok, float *out, void *qbuf,
                    size_t qbuf_bytes);

#endif
