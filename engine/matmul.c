#include "matmul.h"

#include "gemm.h"
#include "kernels.h"
#include "matmul_fast.h"
#include "matmul_x4.h"
#include "repack.h"

size_t lb_matmul_qbuf_size(int64_t max_ne0, int n_tok)
{
    /* f32 is the widest plain activation format (4 bytes per element); the x4 one is larger. */
    int n = n_tok > 0 ? n_tok : 1;
    size_t plain = (size_t)max_ne0 * 4 * (size_t)n + 64, x4 = lb_matmul_x4_qbuf_bytes(max_ne0, n);
    return plain > x4 ? plain : x4;
}

struct mm_job {
    const lb_wt *w;
    const lb_type_traits *tr, *vt;
    const float *x;
    int n_tok;
    float *out;
    uint8_t *q;
    size_t q_row;
};

static void quantize_job(void *arg, int chunk, int n_chunks)
{
    struct mm_job *j = arg;
    int t0, t1;
    lb_split(j->n_tok, chunk, n_chunks, &t0, &t1);
    for (int t = t0; t < t1; t++)
        j->vt->from_float(j->x + (size_t)t * j->w->ne0, j->q + (size_t)t * j->q_row, j->w->ne0);
}

static void dot_job(void *arg, int chunk, int n_chunks)
{
    struct mm_job *j = arg;
    const lb_wt *w = j->w;
    int r0, r1;
    lb_split((int)w->ne1, chunk, n_chunks, &r0, &r1);
    const uint8_t *wrow = (const uint8_t *)w->data + (size_t)r0 * w->row_bytes;
    /* Each weight row is read once and used for every activation row of the batch. */
    for (int r = r0; r < r1; r++, wrow += w->row_bytes)
        for (int t = 0; t < j->n_tok; t++)
            j->tr->vec_dot((int)w->ne0, &j->out[(size_t)t * w->ne1 + r], wrow, j->q + (size_t)t * j->q_row);
}

void lb_matmul(lb_pool *pool, const lb_wt *w, const float *x, int n_tok, float *out, void *qbuf)
{
    /* Prompt batches: AMX tiles when the CPU has them (activations need less room there
     * than the q8 rows below, so qbuf is large enough). */
    if (lb_matmul_amx(pool, w, x, n_tok, out, qbuf, lb_matmul_qbuf_size(w->ne0, n_tok)))
        return;
    /* Repacked weights: one pass over the weights per 4 tokens. */
    if (w->layout == LB_LAYOUT_X4) {
        lb_matmul_x4(pool, w, x, n_tok, out, qbuf);
        return;
    }
    /* Generation: 4-row GEMV kernels sharing each activation block (Q4_0, Q8_0). */
    if (lb_matmul_gemv(pool, w, x, n_tok, out, qbuf, lb_matmul_qbuf_size(w->ne0, n_tok)))
        return;
    const lb_type_traits *tr = lb_kernels(w->type);
    struct mm_job j = {
        .w = w, .tr = tr, .vt = lb_kernels(tr->vec_dot_type), .x = x, .n_tok = n_tok, .out = out,
        .q = qbuf, .q_row = lb_type_row_bytes(tr->vec_dot_type, w->ne0),
    };
    int nt = lb_pool_size(pool);
    if (tr->vec_dot_type == LB_TYPE_F32)
        j.q = (uint8_t *)x;  /* already in the right format */
    else
        lb_pool_run_chunks(pool, quantize_job, &j, n_tok < nt ? n_tok : nt);
    /* A few chunks per thread (at least 16 rows each) balance load when a thread is late. */
    int64_t chunks = w->ne1 / 16 < 4 * nt ? w->ne1 / 16 : 4 * nt;
    lb_pool_run_ranges(pool, dot_job, &j, chunks < 1 ? 1 : (int)chunks);
}

void lb_matmul_multi(lb_pool *pool, const lb_wt *const *ws, int n_w, const float *x, int n_tok, float *const *outs,
                     void *qbuf)
{
    /* Prompt batches: AMX, one activation preparation for all the weights when they share a
     * type, else one weight at a time (a Q4_K_M file mixes Q4_K and Q6_K). */
    if (lb_gemm_amx_usable(ws[0]->type, (int)ws[0]->ne0, ws[0]->layout) && n_tok >= lb_amx_min_tokens(ws[0]->type, ws[0]->layout)) {
        if (lb_matmul_amx_multi(pool, ws, n_w, x, n_tok, outs, qbuf, lb_matmul_qbuf_size(ws[0]->ne0, n_tok)))
            return;
        goto each;
    }
    if (lb_matmul_x4_multi(pool, ws, n_w, x, n_tok, outs, qbuf))
        return;
each:
    for (int i = 0; i < n_w; i++)
        lb_matmul(pool, ws[i], x, n_tok, outs[i], qbuf);
}
