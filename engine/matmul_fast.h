/* Fast paths of the matmul layer (engine/matmul.c tries them before the vec_dot loop). */
#ifndef LB_MATMUL_FAST_H
#define LB_MATMUL_FAST_H

#include <stdbool.h>
#include <stddef.h>

#include "model.h"
#include "threadpool.h"

/* Below this many tokens the vector paths are as fast (and the B tiles mostly padding). */
#define LB_AMX_MIN_TOKENS 8

/* y = W x for n_tok >= LB_AMX_MIN_TOKENS tokens on AMX tiles when the CPU, the ISA level and W's type allow
 * it; returns false without touching out otherwise. qbuf: the matmul's activation buffer of
 * qbuf_bytes. Results equal the vec_dot path's up to float summation order. */
bool lb_matmul_amx(lb_pool *pool, const lb_wt *w, const float *x, int n_tok, float *out, void *qbuf,
                   size_t qbuf_bytes);

/* y = W x for one token (generation) with the 4-row GEMV kernels (Q4_0; Q8_0 with VNNI);
 * returns false without touching out when it does not apply. Same results as vec_dot up to
 * float summation order (the activation quantization is the same q8_0). */
bool lb_matmul_gemv(lb_pool *pool, const lb_wt *w, const float *x, int n_tok, float *out, void *qbuf,
                    size_t qbuf_bytes);

#endif
