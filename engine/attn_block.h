/* Plain attention (llama.cpp's mul_mat + soft_max arithmetic: Q rounded to F16, scores from
 * the F16 cache, probabilities rounded to F16, float sums) for a block of tokens of one
 * sequence and the query heads that share one K/V head. Every K and V row is converted once
 * for all of those queries (lb_dot_f16_multi, lb_axpy_f16_multi) instead of once per query. */
#ifndef LB_ATTN_BLOCK_H
#define LB_ATTN_BLOCK_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    int hd, heads;         /* head size (a multiple of 8, at most 256); query heads of this K/V head */
    int n_tok;             /* tokens in the block */
    const int32_t *pos;    /* their positions: token i attends to rows 0..pos[i] */
    const float *q;        /* query of token i, head j at q + i * q_tok + j * hd */
    size_t q_tok;
    const uint16_t *k, *v; /* row 0 of this K/V head in the F16 cache; rows kv_stride apart */
    size_t kv_stride;
    float *out;            /* output of token i, head j at out + i * q_tok + j * hd */
    float scale;           /* applied to the scores before the softmax */
} lb_attn_block;

/* Floats of scratch lb_attn_block_plain needs for n_queries (= n_tok * heads) queries whose
 * rows number at most max_rows. */
size_t lb_attn_block_scratch(int hd, int n_queries, int max_rows);

void lb_attn_block_plain(const lb_attn_block *b, float *scratch, int max_rows);

#endif
