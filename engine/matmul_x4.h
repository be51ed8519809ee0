/* Matmul for weights in the x4 layout (repack.h), any number of tokens. */
#ifndef LB_MATMUL_X4_H
#define LB_MATMUL_X4_H

#include <stdbool.h>
#include <stddef.h>

#include "model.h"
#include "threadpool.h"

/* qbuf bytes lb_matmul_x4 needs for n_tok tokens of k elements. */
size_t lb_matmul_x4_qbuf_bytes(int64_t k, int n_tok);

/* out[t * w->ne1 + r] = row r of W . x[t] for an x4 weight (w->layout == LB_LAYOUT_X4).
 * Activations are quantized to q8_0 as on the vec_dot path, so results equal it up to float
 * summation order. qbuf: lb_matmul_x4_qbuf_bytes(w->ne0, n_tok) bytes. */
void lb_matmul_x4(lb_pool *pool, const lb_wt *w, const float *x, int n_tok, float *out, void *qbuf);

/* The same for n_w (<= 4) x4 weights of one type and row length applied to the same x: the
 * activations are prepared once and one pass over the pool covers all weights. False (out
 * untouched) when the weights do not qualify. */
bool lb_matmul_x4_multi(lb_pool *pool, const lb_wt *const *ws, int n_w, const float *x, int n_tok, float *const *outs,
                        void *qbuf);

#endif
