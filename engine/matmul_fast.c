/* Batched (prompt) matmul on AMX tiles, used by lb_matmul when it applies (see gemm.h).
 * Work split: tokens for the activation quantization, 16-row groups for the product. The
 * per-thread scratch (unpacked weight tiles) is allocated once and grown only when a larger
 * row length shows up; a mutex serializes contexts that share it. */
#include "matmul_fast.h"

#include <pthread.h>
#include <stdlib.h>

#include "gemm.h"
#include "ggml_type.h"
#include "kern_simd.h"
#include "kernels.h"
#include "repack.h"


static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static char *g_scratch;
static size_t g_per_thread;
static int g_threads;

enum { AMX_MAX_W = 4 };

/* One activation preparation for up to AMX_MAX_W weights of the same type and row length
 * (Q/K/V, gate/up); their 16-row groups are numbered one after the other. */
struct amx_job {
    const lb_wt *const *ws;
    const float *x;
    float *const *outs;
    int n_w, n_tok, n_groups;
    int group0[AMX_MAX_W + 1]; /* first group of each weight; group0[n_w] = n_groups */
    lb_gemm_acts acts;
};

static void *scratch_of_this_thread(void) { return g_scratch + (size_t)lb_pool_tid() * g_per_thread; }

static void quant_job(void *arg, int chunk, int n_chunks)
{
    struct amx_job *j = arg;
    int t0, t1;
    lb_split(j->n_tok, chunk, n_chunks, &t0, &t1);
    if (t0 < t1)
        lb_gemm_acts_quantize(&j->acts, j->x, (size_t)j->ws[0]->ne0, t0, t1, scratch_of_this_thread());
}

static void rows_job(void *arg, int chunk, int n_chunks)
{
    struct amx_job *j = arg;
    int g0, g1;
    lb_split(j->n_groups, chunk, n_chunks, &g0, &g1);
    for (int i = 0; i < j->n_w && g0 < g1; i++) {
        if (g0 >= j->group0[i + 1])
            continue;
        const lb_wt *w = j->ws[i];
        int end = g1 < j->group0[i + 1] ? g1 : j->group0[i + 1];
        int r0 = (g0 - j->group0[i]) * 16, r1 = (end - j->group0[i]) * 16;
        if (r1 > (int)w->ne1)
            r1 = (int)w->ne1;
        lb_gemm_rows(&j->acts, w->data, w->row_bytes, w->layout, (int)w->ne1, r0, r1, j->outs[i], (size_t)w->ne1,
                     scratch_of_this_thread());
        g0 = end;
    }
}

static bool amx_applies(const lb_wt *w, const lb_wt *first, int n_tok)
{
    return w->type == first->type && w->ne0 == first->ne0 && w->layout == first->layout &&
           n_tok >= lb_amx_min_tokens(w->type, w->layout) && w->ne0 <= (1 << 20) && w->ne1 <= (1 << 24) &&
           lb_gemm_amx_usable(w->type, (int)w->ne0, w->layout);
}

bool lb_matmul_amx_multi(lb_pool *pool, const lb_wt *const *ws, int n_w, const float *x, int n_tok,
                         float *const *outs, void *qbuf, size_t qbuf_bytes)
{
    if (n_w < 1 || n_w > AMX_MAX_W)
        return false;
    for (int i = 0; i < n_w; i++)
        if (!amx_applies(ws[i], ws[0], n_tok))
            return false;
    if (lb_gemm_acts_bytes(n_tok, (int)ws[0]->ne0) > qbuf_bytes)
        return false;
    int nt = lb_pool_size(pool);
    size_t need = (lb_gemm_scratch_bytes((int)ws[0]->ne0) + 63) & ~(size_t)63;
    pthread_mutex_lock(&g_mu);
    if (need > g_per_thread || nt > g_threads) {
        size_t per = need > g_per_thread ? need : g_per_thread;
        int n = nt > g_threads ? nt : g_threads;
        char *p = aligned_alloc(64, per * (size_t)n);
        if (!p) {
            pthread_mutex_unlock(&g_mu);
            return false; /* the vec_dot path needs no scratch */
        }
        free(g_scratch);
        g_scratch = p;
        g_per_thread = per;
        g_threads = n;
    }
    struct amx_job j = { .ws = ws, .x = x, .outs = outs, .n_w = n_w, .n_tok = n_tok };
    for (int i = 0; i < n_w; i++)
        j.group0[i + 1] = j.group0[i] + (int)((ws[i]->ne1 + 15) / 16);
    j.n_groups = j.group0[n_w];
    lb_gemm_acts_init(&j.acts, qbuf, ws[0]->type, n_tok, (int)ws[0]->ne0);
    lb_pool_run_chunks(pool, quant_job, &j, n_tok < nt ? n_tok : nt);
    int chunks = j.n_groups < 4 * nt ? j.n_groups : 4 * nt;
    lb_pool_run_ranges(pool, rows_job, &j, chunks);
    pthread_mutex_unlock(&g_mu);
    return true;
}

bool lb_matmul_amx(lb_pool *pool, const lb_wt *w, const float *x, int n_tok, float *out, void *qbuf,
                   size_t qbuf_bytes)
{
    return lb_matmul_amx_multi(pool, &w, 1, x, n_tok, &out, qbuf, qbuf_bytes);
}

struct gemv_job {
    const lb_wt *w;
    float *out;
    lb_gemv_fn fn;
    lbs_gemv_act act;
    int n_quads;
};

static void gemv_job_fn(void *arg, int chunk, int n_chunks)
{
    struct gemv_job *j = arg;
    int q0, q1;
    lb_split(j->n_quads, chunk, n_chunks, &q0, &q1);
    int r0 = q0 * 4, r1 = q1 * 4 < j->w->ne1 ? q1 * 4 : (int)j->w->ne1;
    if (r0 < r1)
        j->fn((int)j->w->ne0, r0, r1, j->w->data, j->w->row_bytes, &j->act, j->out);
}

bool lb_matmul_gemv(lb_pool *pool, const lb_wt *w, const float *x, int n_tok, float *out, void *qbuf,
                    size_t qbuf_bytes)
{
    if (n_tok != 1 || w->layout != LB_LAYOUT_PLAIN || w->ne0 % 32 || w->ne0 > (1 << 24) || w->ne1 > (1 << 24))
        return false;
    lb_simd_kernels k;
    lb_simd_kernels_for(lb_cpu_isa(), &k);
    lb_gemv_fn fn = w->type == LB_TYPE_Q4_0 ? k.gemv_q4_0 : w->type == LB_TYPE_Q8_0 ? k.gemv_q8_0 : NULL;
    size_t kk = (size_t)w->ne0, q8_bytes = lb_type_row_bytes(LB_TYPE_Q8_0, w->ne0);
    /* q8_0 row, then values, lane sums, scales (each 64-byte aligned) */
    size_t need = q8_bytes + 64 + kk + 64 + kk + 64 + kk / 8 + 64;
    if (!fn || !k.gemv_act_from_q8_0 || need > qbuf_bytes)
        return false;
    char *p = qbuf;
    char *q8 = p;
    p = (char *)(((uintptr_t)(p + q8_bytes) + 63) & ~(uintptr_t)63);
    struct gemv_job j = { .w = w, .out = out, .fn = fn, .n_quads = (int)((w->ne1 + 3) / 4) };
    j.act.qs = (int8_t *)p;
    p = (char *)(((uintptr_t)(p + kk) + 63) & ~(uintptr_t)63);
    j.act.nls = (int32_t *)p;
    p = (char *)(((uintptr_t)(p + kk) + 63) & ~(uintptr_t)63);
    j.act.dy = (float *)p;
    lb_kernels(LB_TYPE_Q8_0)->from_float(x, q8, w->ne0);
    k.gemv_act_from_q8_0(q8, (int)w->ne0, &j.act);
    /* chunks of at least 16 rows, a few per thread so a late thread does not hold the rest up */
    int nt = lb_pool_size(pool), chunks = j.n_quads / 4 < 4 * nt ? j.n_quads / 4 : 4 * nt;
    lb_pool_run_ranges(pool, gemv_job_fn, &j, chunks < 1 ? 1 : chunks);
    return true;
}
