/* The matmul layer: y = W x for a batch of activation rows, through the kernel table. One
 * replaceable unit: the speed work swaps in blocked/GEMM paths here without touching the
 * forward pass. */
#ifndef LB_MATMUL_H
#define LB_MATMUL_H

#include <stddef.h>

#include "model.h"
#include "threadpool.h"

/* Scratch bytes lb_matmul needs for n_tok activation rows of up to max_ne0 elements. */
size_t lb_matmul_qbuf_size(int64_t max_ne0, int n_tok);

/* out[t * w->ne1 + r] = dot(row r of W, x[t * w->ne0 ...]) for t < n_tok, r < w->ne1.
 * Activations are converted once to W's vec_dot type into qbuf. */
void lb_matmul(lb_pool *pool, const lb_wt *w, const float *x, int n_tok, float *out, void *qbuf);

/* lb_matmul for n_w (<= 4) weights applied to the same x (q/k/v, gate/up): one activation
 * preparation and one pass over the pool when the weights share a type, row length and
 * the x4 layout and no prompt-batch path applies; otherwise one lb_matmul each. */
void lb_matmul_multi(lb_pool *pool, const lb_wt *const *ws, int n_w, const float *x, int n_tok, float *const *outs,
                     void *qbuf);

#endif
