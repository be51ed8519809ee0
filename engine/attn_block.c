/* Plain attention over a block of queries sharing K/V rows (see attn_block.h). */
#include "attn_block.h"

#include <string.h>

#include "ggml_type.h"
#include "kern_simd.h"
#include "kernels.h"

size_t lb_attn_block_scratch(int hd, int n_queries, int max_rows)
{
    return (size_t)n_queries * ((size_t)hd * 2 + (size_t)max_rows);
}

void lb_attn_block_plain(const lb_attn_block *b, float *scratch, int max_rows)
{
    const int hd = b->hd, nq = b->n_tok * b->heads;
    float *qf = scratch, *of = qf + (size_t)nq * hd, *sc = of + (size_t)nq * hd;
    const lb_type_traits *f16 = lb_kernels(LB_TYPE_F16);
    int rows = 0;
    for (int i = 0; i < b->n_tok; i++) {
        rows = b->pos[i] + 1 > rows ? b->pos[i] + 1 : rows;
        for (int j = 0; j < b->heads; j++) { /* Q rounded to F16, as the cache-side product sees it */
            uint16_t q16[256];
            f16->from_float(b->q + (size_t)i * b->q_tok + (size_t)j * hd, q16, hd);
            f16->to_float(q16, qf + (size_t)(i * b->heads + j) * hd, hd);
        }
    }
    if (rows > max_rows)
        rows = max_rows; /* positions are validated against the context before a batch runs */
    lb_dot_f16_multi(hd, rows, b->k, b->kv_stride, nq, qf, sc, (size_t)max_rows);
    for (int i = 0; i < b->n_tok; i++)
        for (int j = 0; j < b->heads; j++) {
            float *p = sc + (size_t)(i * b->heads + j) * max_rows;
            int own = b->pos[i] + 1 < rows ? b->pos[i] + 1 : rows;
            lb_softmax_f16r(own, b->scale, p, p);
            memset(p + own, 0, (size_t)(rows - own) * sizeof(float)); /* later tokens' rows: weight 0 */
        }
    memset(of, 0, (size_t)nq * hd * sizeof(float));
    lb_axpy_f16_multi(hd, rows, sc, (size_t)max_rows, b->v, b->kv_stride, nq, of);
    for (int i = 0; i < b->n_tok; i++)
        for (int j = 0; j < b->heads; j++)
            memcpy(b->out + (size_t)i * b->q_tok + (size_t)j * hd, of + (size_t)(i * b->heads + j) * hd,
                   (size_t)hd * sizeof(float));
}
