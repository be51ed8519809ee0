/* Activations first (threads split tokens: each becomes an lbs_x4_act in qbuf), then rows
 * (threads split the 4-row groups; each group is read once per 4 tokens). At the scalar ISA
 * level the same products come from the scalar vec_dot on blocks read back from the layout. */
#include "matmul_x4.h"

#include <stdint.h>

#include "cpu_features.h"
#include "ggml_type.h"
#include "kern_simd.h"
#include "kernels.h"
#include "repack.h"

static size_t align64(size_t n) { return (n + 63) & ~(size_t)63; }

size_t lb_matmul_x4_qbuf_bytes(int64_t k, int n_tok)
{
    /* The x4 activations (1.6 bytes per element) also hold the scalar path's q8 rows (1.14). */
    size_t per_tok = lbs_x4_act_bytes((int)k);
    return 64 + align64((size_t)n_tok * sizeof(lbs_x4_act)) + (size_t)n_tok * align64(per_tok);
}

#define X4_MAX_W 4

/* Up to X4_MAX_W weights of one type and row length, their 4-row groups numbered one after
 * the other (first[i] is weight i's first group), so one job covers them all. */
struct x4_job {
    const lb_wt *w[X4_MAX_W];
    float *out[X4_MAX_W];
    int first[X4_MAX_W + 1];
    int n_w;
    const float *x;
    int64_t k;
    uint32_t type;
    int n_tok;
    lbs_x4_act *act;      /* [n_tok] (SIMD) */
    uint8_t *q8;          /* [n_tok][q8_row] (scalar: the type's vec_dot activations) */
    size_t q8_row;
    lb_simd_kernels kern;
    lb_gemm_x4_fn gemm;
};

static void act_job(void *arg, int chunk, int n_chunks)
{
    struct x4_job *j = arg;
    int t0, t1;
    lb_split(j->n_tok, chunk, n_chunks, &t0, &t1);
    for (int t = t0; t < t1; t++) {
        const float *xt = j->x + (size_t)t * (size_t)j->k;
        if (j->gemm)
            lb_simd_x4_act(&j->kern, j->type, xt, (int)j->k, &j->act[t]);
        else
            lb_kernels_scalar(lb_kernels_scalar(j->type)->vec_dot_type)->from_float(xt, j->q8 + (size_t)t * j->q8_row, j->k);
    }
}

static void scalar_groups(const struct x4_job *j, const lb_wt *w, float *out, int g0, int g1)
{
    const lb_type_traits *tr = lb_kernels_scalar(w->type);
    const int be = lb_type_block_elems(w->type);
    const size_t gb = lb_x4_group_bytes(w->type, w->ne0), qb = lb_type_row_bytes(tr->vec_dot_type, be);
    uint8_t blk[256]; /* one plain block: up to Q6_K's 210 bytes */
    for (int g = g0; g < g1; g++) {
        const uint8_t *grp = (const uint8_t *)w->data + (size_t)g * gb;
        for (int r = 0; r < 4; r++)
            for (int t = 0; t < j->n_tok; t++) {
                float sum = 0.0f;
                for (int64_t b = 0; b < w->ne0 / be; b++) {
                    float s;
                    lb_x4_get_block(w->type, grp, w->ne0, r, b, blk);
                    tr->vec_dot(be, &s, blk, j->q8 + (size_t)t * j->q8_row + (size_t)b * qb);
                    sum += s;
                }
                out[(size_t)t * w->ne1 + (size_t)g * 4 + (size_t)r] = sum;
            }
    }
}

static void rows_job(void *arg, int chunk, int n_chunks)
{
    struct x4_job *j = arg;
    int c0, c1;
    lb_split(j->first[j->n_w], chunk, n_chunks, &c0, &c1);
    for (int i = 0; i < j->n_w && c0 < c1; i++) { /* the pieces of [c0, c1) in each weight */
        int g0 = c0 > j->first[i] ? c0 : j->first[i], g1 = c1 < j->first[i + 1] ? c1 : j->first[i + 1];
        if (g0 >= g1)
            continue;
        const lb_wt *w = j->w[i];
        g0 -= j->first[i];
        g1 -= j->first[i];
        if (j->gemm)
            j->gemm((int)w->ne0, g0, g1, w->data, j->act, j->n_tok, j->out[i], (size_t)w->ne1);
        else
            scalar_groups(j, w, j->out[i], g0, g1);
    }
}

bool lb_matmul_x4_multi(lb_pool *pool, const lb_wt *const *ws, int n_w, const float *x, int n_tok, float *const *outs,
                        void *qbuf)
{
    if (n_w < 1 || n_w > X4_MAX_W)
        return false;
    struct x4_job j = { .n_w = n_w, .x = x, .k = ws[0]->ne0, .type = ws[0]->type, .n_tok = n_tok };
    for (int i = 0; i < n_w; i++) {
        if (ws[i]->layout != LB_LAYOUT_X4 || ws[i]->type != j.type || ws[i]->ne0 != j.k)
            return false;
        j.w[i] = ws[i];
        j.out[i] = outs[i];
        j.first[i + 1] = j.first[i] + (int)(ws[i]->ne1 / 4);
    }
    lb_simd_kernels_for(lb_cpu_isa(), &j.kern);
    j.gemm = lb_simd_gemm_x4(&j.kern, j.type);
    uint8_t *p = (uint8_t *)align64((uintptr_t)qbuf);
    j.act = (lbs_x4_act *)p;
    p += align64((size_t)n_tok * sizeof(lbs_x4_act));
    j.q8 = p;
    j.q8_row = align64(lb_type_row_bytes(lb_kernels_scalar(j.type)->vec_dot_type, j.k));
    if (j.gemm) {
        size_t per_tok = lbs_x4_act_bytes((int)j.k); /* a multiple of 64 */
        for (int t = 0; t < n_tok; t++, p += per_tok)
            j.act[t] = lbs_x4_act_at(p, (int)j.k);
    }
    int nt = lb_pool_size(pool);
    lb_pool_run_chunks(pool, act_job, &j, n_tok < nt ? n_tok : nt);
    /* Chunks of about 64 KiB of weights (at least one per thread), each thread's run of
     * them contiguous (lb_pool_run_ranges): a thread that is late (it prepared the
     * activations, or the OS took its core) holds the rest up by one small chunk only, and
     * each thread streams one sequence the hardware prefetchers follow (measured: 1B Q4_0
     * generation +12 % over 64 KiB chunks claimed in turn; the chunk size is a tie from 16 to
     * 256 KiB). */
    int groups = j.first[n_w];
    size_t total = (size_t)groups * lb_x4_group_bytes(j.type, j.k);
    int chunks = (int)(total / 65536) < 64 * nt ? (int)(total / 65536) : 64 * nt;
    if (chunks < nt)
        chunks = nt;
    if (chunks > groups)
        chunks = groups;
    lb_pool_run_ranges(pool, rows_job, &j, chunks < 1 ? 1 : chunks);
    return true;
}

void lb_matmul_x4(lb_pool *pool, const lb_wt *w, const float *x, int n_tok, float *out, void *qbuf)
{
    lb_matmul_x4_multi(pool, &w, 1, x, n_tok, &out, qbuf);
}
