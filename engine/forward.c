/* Contexts (KV cache + scratch) and the forward pass of llama/qwen2 models, following
 * llama.cpp's graph and ggml's CPU arithmetic: RMSNorm with a double sum, RoPE angles by
 * repeated multiplication, K/V cached as f16, attention in ggml's plain or flash-attention
 * arithmetic (lb_ctx_params.flash_attn), SwiGLU feed-forward. */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "attn_block.h"
#include "cpu_features.h"
#include "kern_simd.h"
#include "kernels.h"
#include "matmul.h"
#include "model.h"
#include "quant.h"
#include "threadpool.h"

struct lb_ctx {
    lb_model *m;
    lb_pool *pool;
    int n_ctx, n_seq, n_batch;
    int E, Q, KV, F, hd;
    lb_f16 *k_cache, *v_cache;  /* [layer][seq][K/V head][pos][hd] */
    int *kv_len;                /* per sequence */
    int *next_pos;              /* validation scratch, per sequence */
    /* scratch, sized for n_batch tokens */
    float *x, *xb, *xb2, *q, *k, *v, *att, *hb, *hb2, *rope_cs;
    void *qbuf;
    lb_f16 *q16, *acc16;        /* per thread: hd each */
    float *scores;              /* per thread: 2 * n_ctx */
    int attn_tok;               /* tokens per attention block (attn_block.h) */
    size_t attn_scr;            /* its scratch floats per thread */
    float *attn_buf;            /* per thread: attn_scr */
    int *attn_blocks;           /* n_batch + 1 block starts */
    bool flash;                 /* flash-attention arithmetic (else plain) */
    /* outputs */
    float *logits;
    int logits_cap;             /* rows */
    int *out_idx;               /* per batch token: row in logits or -1 */
    int out_idx_cap;
    int n_outputs;
};

/* One K/V head's rows are contiguous, so attention reads each head as one stream. With a
 * position's heads side by side, a head's rows were a K/V width apart (1 KiB on the 1B
 * models), which the prefetchers followed badly: 1B Q4_0 tg64 after a 1024-token prompt went
 * from 43.1 to 52.2 t/s at 1 thread with this layout. */
static size_t kv_index(const lb_ctx *c, int layer, int seq, int kvh, int pos)
{
    size_t head = ((size_t)layer * (size_t)c->n_seq + (size_t)seq) * (size_t)c->m->hp.n_head_kv + (size_t)kvh;
    return (head * (size_t)c->n_ctx + (size_t)pos) * (size_t)c->hd;
}

int lb_ctx_new(lb_model *m, const lb_ctx_params *p, lb_ctx **out, lb_err *err)
{
    *out = NULL;
    if (m->vocab_only || !m->layers)
        return lb_err_set(err, LB_EINVAL, "ctx: model was loaded vocab-only");
    const lb_hparams *hp = &m->hp;
    lb_ctx_params d = p ? *p : (lb_ctx_params){ 0 };
    if (d.n_ctx <= 0)
        d.n_ctx = hp->n_ctx_train < 4096 ? hp->n_ctx_train : 4096;
    if (d.n_seq <= 0)
        d.n_seq = 1;
    if (d.n_batch <= 0)
        d.n_batch = 512;
    if (d.n_threads <= 0)
        d.n_threads = lb_cpu_physical_cores("");
    if (d.n_ctx > (1 << 20) || d.n_seq > 256 || d.n_batch > 8192)
        return lb_err_set(err, LB_EINVAL, "ctx: n_ctx %d / n_seq %d / n_batch %d too large", d.n_ctx, d.n_seq, d.n_batch);
    if (d.n_batch > d.n_ctx * d.n_seq)
        d.n_batch = d.n_ctx * d.n_seq;
    lb_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return lb_err_set(err, LB_ENOMEM, "ctx: no memory");
    c->m = m;
    c->n_ctx = d.n_ctx;
    c->n_seq = d.n_seq;
    c->n_batch = d.n_batch;
    c->E = hp->n_embd;
    c->hd = hp->head_dim;
    c->Q = hp->n_head * hp->head_dim;
    c->KV = hp->n_head_kv * hp->head_dim;
    c->F = hp->n_ff;
    int rc = lb_pool_new(d.n_threads, &c->pool, err);
    if (rc) {
        free(c);
        return rc;
    }
    size_t B = (size_t)c->n_batch, nt = (size_t)d.n_threads;
    size_t kv_elems = kv_index(c, hp->n_layer, 0, 0, 0);
    int64_t max_in = c->E > c->F ? c->E : c->F;
    if (c->Q > max_in)
        max_in = c->Q;
    c->k_cache = malloc(kv_elems * sizeof(lb_f16));
    c->v_cache = malloc(kv_elems * sizeof(lb_f16));
    c->kv_len = calloc((size_t)c->n_seq, sizeof(int));
    c->next_pos = calloc((size_t)c->n_seq, sizeof(int));
    c->x = malloc(B * (size_t)c->E * sizeof(float));
    c->xb = malloc(B * (size_t)c->E * sizeof(float));
    c->xb2 = malloc(B * (size_t)c->E * sizeof(float));
    c->q = malloc(B * (size_t)c->Q * sizeof(float));
    c->att = malloc(B * (size_t)c->Q * sizeof(float));
    c->k = malloc(B * (size_t)c->KV * sizeof(float));
    c->v = malloc(B * (size_t)c->KV * sizeof(float));
    c->hb = malloc(B * (size_t)c->F * sizeof(float));
    c->hb2 = malloc(B * (size_t)c->F * sizeof(float));
    c->rope_cs = malloc(B * (size_t)hp->n_rot * sizeof(float));
    c->qbuf = malloc(lb_matmul_qbuf_size(max_in, c->n_batch));
    c->q16 = malloc(nt * (size_t)c->hd * sizeof(lb_f16));
    c->acc16 = malloc(nt * (size_t)c->hd * sizeof(lb_f16));
    c->scores = malloc(nt * 2 * (size_t)c->n_ctx * sizeof(float));
    /* Attention blocks of up to 8 tokens, fewer when the scores of all their queries over the
     * whole context would pass 2 MiB per thread. */
    int heads = hp->n_head / hp->n_head_kv;
    size_t per_tok = (size_t)heads * (size_t)c->n_ctx * sizeof(float);
    size_t fit = (2u << 20) / per_tok;
    c->attn_tok = fit >= 8 ? 8 : fit >= 1 ? (int)fit : 1;
    c->attn_scr = lb_attn_block_scratch(c->hd, c->attn_tok * heads, c->n_ctx);
    c->attn_buf = malloc(nt * c->attn_scr * sizeof(float));
    c->attn_blocks = malloc((B + 1) * sizeof(int));
    c->flash = d.flash_attn > 0;
    c->logits_cap = c->n_seq;
    c->logits = malloc((size_t)c->logits_cap * (size_t)hp->n_vocab * sizeof(float));
    c->out_idx_cap = c->n_batch;
    c->out_idx = malloc((size_t)c->out_idx_cap * sizeof(int));
    if (!c->k_cache || !c->v_cache || !c->kv_len || !c->next_pos || !c->x || !c->xb || !c->xb2 || !c->q ||
        !c->att || !c->k || !c->v || !c->hb || !c->hb2 || !c->rope_cs || !c->qbuf || !c->q16 ||
        !c->acc16 || !c->scores || !c->attn_buf || !c->attn_blocks || !c->logits || !c->out_idx) {
        lb_ctx_free(c);
        return lb_err_set(err, LB_ENOMEM, "ctx: no memory for a %d-position, %d-sequence cache", d.n_ctx, d.n_seq);
    }
    *out = c;
    return LB_OK;
}

void lb_ctx_free(lb_ctx *c)
{
    if (!c)
        return;
    lb_pool_free(c->pool);
    void *bufs[] = { c->k_cache, c->v_cache, c->kv_len, c->next_pos, c->x, c->xb, c->xb2, c->q, c->att, c->k,
                     c->v, c->hb, c->hb2, c->rope_cs, c->qbuf, c->q16, c->acc16, c->scores, c->attn_buf, c->attn_blocks, c->logits, c->out_idx };
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        free(bufs[i]);
    free(c);
}

int lb_ctx_n_ctx(const lb_ctx *c) { return c->n_ctx; }

void lb_kv_truncate(lb_ctx *c, int seq, int n_keep)
{
    if (seq < 0 || seq >= c->n_seq)
        return;
    if (n_keep < 0)
        n_keep = 0;
    if (n_keep < c->kv_len[seq])
        c->kv_len[seq] = n_keep;
}

int lb_kv_len(const lb_ctx *c, int seq) { return seq >= 0 && seq < c->n_seq ? c->kv_len[seq] : 0; }

const float *lb_get_logits(const lb_ctx *c, int i)
{
    if (i < 0 || i >= c->out_idx_cap || c->out_idx[i] < 0)
        return NULL;
    return c->logits + (size_t)c->out_idx[i] * (size_t)c->m->hp.n_vocab;
}

/* ---- layer operations ---------------------------------------------------------------- */

static void rmsnorm(float *out, const float *x, const float *w, int n, float eps)
{
    /* four partial sums in double break the chain of dependent adds (the order moves only the
     * double's last bits) */
    double s4[4] = { 0, 0, 0, 0 };
    int i = 0;
    for (; i + 4 <= n; i += 4)
        for (int l = 0; l < 4; l++)
            s4[l] += (double)(x[i + l] * x[i + l]);
    for (; i < n; i++)
        s4[0] += (double)(x[i] * x[i]);
    const float mean = (float)((s4[0] + s4[1] + s4[2] + s4[3]) / n);
    const float scale = 1.0f / sqrtf(mean + eps);
    for (i = 0; i < n; i++)
        out[i] = (x[i] * scale) * w[i];
}

/* cos/sin of every rotated pair for position pos, as ggml's rope cache computes them. */
static void rope_angles(const lb_model *m, int pos, float *cs)
{
    const lb_hparams *hp = &m->hp;
    const float theta_scale = powf(hp->rope_freq_base, -2.0f / (float)hp->n_rot);
    float theta = (float)pos;
    for (int i0 = 0; i0 < hp->n_rot; i0 += 2) {
        float ff = m->rope_freqs ? m->rope_freqs[i0 / 2] : 1.0f;
        float t = hp->rope_freq_scale * (theta / ff);
        cs[i0] = cosf(t);
        cs[i0 + 1] = sinf(t);
        theta *= theta_scale;
    }
}

static void rope_apply(float *v, int n_heads, int hd, int n_rot, const float *cs, enum lb_rope_type type)
{
    for (int h = 0; h < n_heads; h++) {
        float *x = v + (size_t)h * hd;
        for (int i0 = 0; i0 < n_rot; i0 += 2) {
            float c = cs[i0], s = cs[i0 + 1];
            int a = type == LB_ROPE_NORM ? i0 : i0 / 2;
            int b = type == LB_ROPE_NORM ? i0 + 1 : i0 / 2 + n_rot / 2;
            float x0 = x[a], x1 = x[b];
            x[a] = x0 * c - x1 * s;
            x[b] = x0 * s + x1 * c;
        }
    }
}

struct attn_job {
    lb_ctx *c;
    int layer, n;
    const int32_t *pos, *seq;
    int n_blocks; /* attn_block_job_fn */
};

/* Attention of one (token, head) pair, in one of llama.cpp's two CPU arithmetics (both with Q
 * rounded to f16 and scores from the f16 cache):
 *  plain (ggml mul_mat + soft_max): full softmax in f32, weights rounded to f16, f32 sums;
 *  flash (ggml flash_attn_ext): online softmax, V accumulated in an f16 vector rounded after
 *  every step (fused multiply-add on the part ggml's 64-wide SIMD loop covers). */
static void attn_plain(lb_ctx *c, const float *raw, float scale, float *probs, int p, const lb_f16 *vc, float *out)
{
    int hd = c->hd;
    lb_softmax_f16r(p + 1, scale, raw, probs); /* probabilities rounded to F16, as ggml's V product sees them */
    for (int d = 0; d < hd; d++)
        out[d] = 0;
    lb_axpy_f16_rows(hd, p + 1, probs, vc, (size_t)hd, out);
}

static void attn_flash(lb_ctx *c, const float *scores, lb_f16 *acc, int p, const lb_f16 *vc, float *out)
{
    int hd = c->hd, simd = hd & ~63;
    float M = -INFINITY, S = 0.0f;
    memset(acc, 0, (size_t)hd * sizeof *acc);
    for (int t = 0; t <= p; t++) {
        float sc = scores[t], ms = 1.0f, vs = 1.0f;
        if (sc > M) {
            float Mold = M;
            M = sc;
            ms = expf(Mold - M);
            lb_f16_scale(hd, acc, ms); /* SIMD, bit-identical */
        } else {
            vs = expf(sc - M);
        }
        const lb_f16 *vr = vc + (size_t)t * c->hd;
        lb_f16_acc_fma(simd, hd, acc, vr, vs); /* SIMD, bit-identical to fmaf + f16 rounding */
        S = S * ms + vs;
    }
    const float inv = S == 0.0f ? 0.0f : 1.0f / S;
    for (int d = 0; d < hd; d++)
        out[d] = lb_f16_to_f32(acc[d]) * inv;
}

static void attn_job_fn(void *arg, int chunk, int n_chunks)
{
    struct attn_job *j = arg;
    lb_ctx *c = j->c;
    const lb_hparams *hp = &c->m->hp;
    int hd = c->hd, group = hp->n_head / hp->n_head_kv, tid = lb_pool_tid();
    lb_f16 *q16 = c->q16 + (size_t)tid * hd;
    lb_f16 *acc = c->acc16 + (size_t)tid * hd;
    float *raw = c->scores + (size_t)tid * 2 * c->n_ctx, *tmp = raw + c->n_ctx;
    const float scale = 1.0f / sqrtf((float)hd);
    lb_from_float_fn to16 = lb_kernels(LB_TYPE_F16)->from_float;
    int w0, w1;
    lb_split(j->n * hp->n_head, chunk, n_chunks, &w0, &w1);
    for (int w = w0; w < w1; w++) {
        int i = w / hp->n_head, h = w % hp->n_head, kvh = h / group;
        int s = j->seq ? j->seq[i] : 0, p = j->pos[i];
        to16(c->q + (size_t)i * c->Q + (size_t)h * hd, q16, hd);
        const lb_f16 *kc = c->k_cache + kv_index(c, j->layer, s, kvh, 0);
        const lb_f16 *vc = c->v_cache + kv_index(c, j->layer, s, kvh, 0);
        lb_dot_f16_rows(hd, p + 1, kc, (size_t)hd, q16, raw);
        float *out = c->att + (size_t)i * c->Q + (size_t)h * hd;
        if (c->flash) {
            for (int t = 0; t <= p; t++)
                raw[t] *= scale;
            attn_flash(c, raw, acc, p, vc, out);
        } else {
            attn_plain(c, raw, scale, tmp, p, vc, out);
        }
    }
}

/* Plain attention by blocks of one sequence's consecutive tokens times K/V heads. */
static void attn_block_job_fn(void *arg, int chunk, int n_chunks)
{
    struct attn_job *j = arg;
    lb_ctx *c = j->c;
    const lb_hparams *hp = &c->m->hp;
    const int heads = hp->n_head / hp->n_head_kv, n_blocks = j->n_blocks;
    float *buf = c->attn_buf + (size_t)lb_pool_tid() * c->attn_scr;
    int w0, w1;
    lb_split(n_blocks * hp->n_head_kv, chunk, n_chunks, &w0, &w1);
    for (int w = w0; w < w1; w++) {
        int blk = w / hp->n_head_kv, kvh = w % hp->n_head_kv;
        int i0 = c->attn_blocks[blk], i1 = c->attn_blocks[blk + 1], s = j->seq ? j->seq[i0] : 0;
        size_t base = kv_index(c, j->layer, s, kvh, 0), first = (size_t)kvh * heads * c->hd;
        lb_attn_block b = {
            .hd = c->hd, .heads = heads, .n_tok = i1 - i0, .pos = j->pos + i0,
            .q = c->q + (size_t)i0 * c->Q + first, .q_tok = (size_t)c->Q,
            .k = c->k_cache + base, .v = c->v_cache + base, .kv_stride = (size_t)c->hd,
            .out = c->att + (size_t)i0 * c->Q + first, .scale = 1.0f / sqrtf((float)c->hd),
        };
        lb_attn_block_plain(&b, buf, c->n_ctx);
    }
}

/* Splits the batch into blocks of up to attn_tok consecutive tokens of one sequence. */
static int attn_blocks(lb_ctx *c, int n, const int32_t *seq)
{
    int nb = 0;
    for (int i = 0; i < n;) {
        int i1 = i + 1;
        while (i1 < n && i1 - i < c->attn_tok && (!seq || seq[i1] == seq[i]))
            i1++;
        c->attn_blocks[nb++] = i;
        i = i1;
    }
    c->attn_blocks[nb] = n;
    return nb;
}

static void add_bias(float *x, const float *b, int n)
{
    for (int i = 0; b && i < n; i++)
        x[i] += b[i];
}

/* The per-token steps between the matmuls, split over the pool by tokens (a prompt batch
 * would otherwise leave the other threads spinning; one token runs inline). */
struct tok_job {
    lb_ctx *c;
    const lb_layer *L;
    int l, n;
    const int32_t *pos, *seq;
    void (*step)(const struct tok_job *j, int i);
};

static void tok_job_fn(void *arg, int chunk, int n_chunks)
{
    const struct tok_job *j = arg;
    int t0, t1;
    lb_split(j->n, chunk, n_chunks, &t0, &t1);
    for (int i = t0; i < t1; i++)
        j->step(j, i);
}

static void run_tokens(struct tok_job *j, void (*step)(const struct tok_job *j, int i))
{
    int nt = lb_pool_size(j->c->pool);
    j->step = step;
    lb_pool_run_chunks(j->c->pool, tok_job_fn, j, j->n < nt ? j->n : nt);
}

static void attn_norm_step(const struct tok_job *j, int i)
{
    lb_ctx *c = j->c;
    rmsnorm(c->xb + (size_t)i * c->E, c->x + (size_t)i * c->E, j->L->attn_norm, c->E, c->m->hp.norm_eps);
}

/* Biases, RoPE, and K/V into the cache. */
static void qkv_step(const struct tok_job *j, int i)
{
    lb_ctx *c = j->c;
    const lb_hparams *hp = &c->m->hp;
    float *q = c->q + (size_t)i * c->Q, *k = c->k + (size_t)i * c->KV, *v = c->v + (size_t)i * c->KV;
    add_bias(q, j->L->bq, c->Q);
    add_bias(k, j->L->bk, c->KV);
    add_bias(v, j->L->bv, c->KV);
    const float *cs = c->rope_cs + (size_t)i * hp->n_rot;
    rope_apply(q, hp->n_head, c->hd, hp->n_rot, cs, hp->rope_type);
    rope_apply(k, hp->n_head_kv, c->hd, hp->n_rot, cs, hp->rope_type);
    lb_from_float_fn to16 = lb_kernels(LB_TYPE_F16)->from_float;
    for (int h = 0; h < hp->n_head_kv; h++) {
        size_t at = kv_index(c, j->l, j->seq ? j->seq[i] : 0, h, j->pos[i]);
        to16(k + (size_t)h * c->hd, c->k_cache + at, c->hd);
        to16(v + (size_t)h * c->hd, c->v_cache + at, c->hd);
    }
}

/* x += attention output (xb2); with `norm`, xb = rmsnorm(x) for the FFN. */
static void residual(const struct tok_job *j, int i, const float *norm)
{
    lb_ctx *c = j->c;
    float *x = c->x + (size_t)i * c->E;
    const float *d = c->xb2 + (size_t)i * c->E;
    for (int e = 0; e < c->E; e++)
        x[e] += d[e];
    if (norm)
        rmsnorm(c->xb + (size_t)i * c->E, x, norm, c->E, c->m->hp.norm_eps);
}

static void ffn_norm_step(const struct tok_job *j, int i) { residual(j, i, j->L->ffn_norm); }
static void residual_step(const struct tok_job *j, int i) { residual(j, i, NULL); }

/* g = silu(g) * u over n elements, split over the pool for prompt batches. */
struct silu_job {
    float *g;
    const float *u;
    size_t n;
};

static void silu_job_fn(void *arg, int chunk, int n_chunks)
{
    struct silu_job *j = arg;
    size_t per = (j->n + (size_t)n_chunks - 1) / (size_t)n_chunks, i0 = per * (size_t)chunk;
    size_t i1 = i0 + per < j->n ? i0 + per : j->n;
    if (i0 < i1)
        lb_silu_mul((int)(i1 - i0), j->g + i0, j->u + i0);
}

/* Runs n (<= n_batch) tokens through all layers; leaves the final hidden states in c->x. */
static void forward_chunk(lb_ctx *c, int n, const int32_t *tokens, const int32_t *pos, const int32_t *seq)
{
    lb_model *m = c->m;
    const lb_hparams *hp = &m->hp;
    const lb_type_traits *et = lb_kernels(m->tok_embd.type);
    for (int i = 0; i < n; i++) {
        et->to_float((const uint8_t *)m->tok_embd.data + (size_t)tokens[i] * m->tok_embd.row_bytes,
                     c->x + (size_t)i * c->E, c->E);
        rope_angles(m, pos[i], c->rope_cs + (size_t)i * hp->n_rot);
    }
    /* attention blocks depend on the batch only: the same for every layer */
    const bool blocks = !c->flash && c->hd % 8 == 0 && c->hd <= 256;
    const int n_blocks = blocks ? attn_blocks(c, n, seq) : 0;
    for (int l = 0; l < hp->n_layer; l++) {
        const lb_layer *L = &m->layers[l];
        struct tok_job tj = { c, L, l, n, pos, seq, NULL };
        run_tokens(&tj, attn_norm_step);
        const lb_wt *qkv[3] = { &L->wq, &L->wk, &L->wv };
        float *qkv_out[3] = { c->q, c->k, c->v };
        lb_matmul_multi(c->pool, qkv, 3, c->xb, n, qkv_out, c->qbuf);
        run_tokens(&tj, qkv_step);
        struct attn_job aj = { c, l, n, pos, seq, n_blocks };
        int chunks = 4 * lb_pool_size(c->pool);
        if (blocks) {
            int items = n_blocks * hp->n_head_kv;
            lb_pool_run_chunks(c->pool, attn_block_job_fn, &aj, items < chunks ? items : chunks);
        } else {
            int items = n * hp->n_head;
            lb_pool_run_chunks(c->pool, attn_job_fn, &aj, items < chunks ? items : chunks);
        }
        lb_matmul(c->pool, &L->wo, c->att, n, c->xb2, c->qbuf);
        run_tokens(&tj, ffn_norm_step);
        const lb_wt *gate_up[2] = { &L->w_gate, &L->w_up };
        float *gate_up_out[2] = { c->hb, c->hb2 };
        lb_matmul_multi(c->pool, gate_up, 2, c->xb, n, gate_up_out, c->qbuf);
        struct silu_job sj = { c->hb, c->hb2, (size_t)n * c->F };
        int sil_chunks = sj.n >= 65536 ? lb_pool_size(c->pool) : 1; /* one token: a few us */
        lb_pool_run_chunks(c->pool, silu_job_fn, &sj, sil_chunks);
        lb_matmul(c->pool, &L->w_down, c->hb, n, c->xb2, c->qbuf);
        run_tokens(&tj, residual_step);
    }
}

static int grow_outputs(lb_ctx *c, int n_tok, int n_out, lb_err *err)
{
    if (n_tok > c->out_idx_cap) {
        int *p = realloc(c->out_idx, (size_t)n_tok * sizeof(int));
        if (!p)
            return lb_err_set(err, LB_ENOMEM, "decode: no memory for %d outputs", n_tok);
        c->out_idx = p;
        c->out_idx_cap = n_tok;
    }
    if (n_out > c->logits_cap) {
        float *p = realloc(c->logits, (size_t)n_out * (size_t)c->m->hp.n_vocab * sizeof(float));
        if (!p)
            return lb_err_set(err, LB_ENOMEM, "decode: no memory for %d rows of logits", n_out);
        c->logits = p;
        c->logits_cap = n_out;
    }
    return LB_OK;
}

int lb_decode(lb_ctx *c, const lb_batch *b, lb_err *err)
{
    const lb_hparams *hp = &c->m->hp;
    if (!b || b->n <= 0 || !b->tokens || !b->pos)
        return lb_err_set(err, LB_EINVAL, "decode: empty batch");
    /* Validate everything before touching the cache. */
    for (int s = 0; s < c->n_seq; s++)
        c->next_pos[s] = c->kv_len[s];
    int n_out = 0;
    for (int i = 0; i < b->n; i++) {
        int s = b->seq ? b->seq[i] : 0;
        if (s < 0 || s >= c->n_seq)
            return lb_err_set(err, LB_EINVAL, "decode: token %d: sequence %d not in 0..%d", i, s, c->n_seq - 1);
        if (b->tokens[i] < 0 || b->tokens[i] >= hp->n_vocab)
            return lb_err_set(err, LB_EINVAL, "decode: token %d: id %d not in 0..%d", i, b->tokens[i], hp->n_vocab - 1);
        if (b->pos[i] != c->next_pos[s])
            return lb_err_set(err, LB_EINVAL, "decode: token %d: position %d, sequence %d expects %d", i, b->pos[i], s,
                              c->next_pos[s]);
        if (b->pos[i] >= c->n_ctx)
            return lb_err_set(err, LB_ELIMIT, "decode: sequence %d is full (%d positions)", s, c->n_ctx);
        c->next_pos[s]++;
        if (b->want_logits ? b->want_logits[i] != 0 : i == b->n - 1)
            n_out++;
    }
    int rc = grow_outputs(c, b->n, n_out, err);
    if (rc)
        return rc;
    int row = 0;
    for (int i = 0; i < b->n; i++)
        c->out_idx[i] = (b->want_logits ? b->want_logits[i] != 0 : i == b->n - 1) ? row++ : -1;
    for (int i = b->n; i < c->out_idx_cap; i++)
        c->out_idx[i] = -1;
    c->n_outputs = n_out;

    for (int i0 = 0; i0 < b->n; i0 += c->n_batch) {
        int n = b->n - i0 < c->n_batch ? b->n - i0 : c->n_batch;
        const int32_t *seq = b->seq ? b->seq + i0 : NULL;
        forward_chunk(c, n, b->tokens + i0, b->pos + i0, seq);
        /* Final norm and output projection of the rows that want logits, packed together. */
        int k = 0, first = -1;
        for (int i = 0; i < n; i++) {
            if (c->out_idx[i0 + i] < 0)
                continue;
            if (first < 0)
                first = c->out_idx[i0 + i];
            rmsnorm(c->xb + (size_t)k * c->E, c->x + (size_t)i * c->E, c->m->output_norm, c->E, hp->norm_eps);
            k++;
        }
        if (k)
            lb_matmul(c->pool, &c->m->output, c->xb, k, c->logits + (size_t)first * hp->n_vocab, c->qbuf);
    }
    for (int s = 0; s < c->n_seq; s++)
        c->kv_len[s] = c->next_pos[s];
    return LB_OK;
}
