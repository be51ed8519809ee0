/* Fast paths of the matmul layer (engine/matmul.c tries them before the vec_dot loop). */
#ifndef LB_MATMUL_FAST_H
#define LB_MATMUL_FAST_H

#include <stdbool.h>
#include <stddef.h>

#include "model.h"
#include "threadpool.h"

/* y = W x for n_tok >= 8 tokens on AMX tiles when the CPU, the ISA level and W's type allow
 * it; returns false without touching out otherwise. qbuf: the matmul's activation buffer of
 * qbuf_bytes. Results equal the vec_dot path's up to float summation order. */
bool lb_matmul_amx(lb_pool *pool, const lb_wt *w, const float *x, int n_tok, float *out, void *qbuf,
                   size_t qbuf_bytes);

#endif
