/* Model loading and the forward pass on tiny F32 models built in C, checked against a plain
 * double-precision reference implementation of the llama/qwen2 graph written here. */
#include "../lib/gguf_builder.h"
#include "../lib/harness.h"
#include "engine.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

enum { E = 32, NH = 4, NKV = 2, HD = 8, F = 48, NL = 2, V = 40, MAXT = 64 };

struct tiny {
    int qwen;
    float *tok, *out, *onorm;
    float *an[NL], *fn[NL], *wq[NL], *wk[NL], *wv[NL], *wo[NL], *wg[NL], *wu[NL], *wd[NL];
    float *bq[NL], *bk[NL], *bv[NL];
};

static unsigned g_seed = 99;
static float *rnd(int n, float scale)
{
    float *p = malloc(sizeof(float) * (size_t)n);
    for (int i = 0; i < n; i++)
        p[i] = ((float)rand_r(&g_seed) / RAND_MAX * 2 - 1) * scale;
    return p;
}

static void tiny_init(struct tiny *t, int qwen)
{
    t->qwen = qwen;
    t->tok = rnd(V * E, 1.0f);
    t->out = rnd(V * E, 0.3f);
    t->onorm = rnd(E, 0.2f);
    for (int i = 0; i < E; i++)
        t->onorm[i] += 1.0f;
    for (int l = 0; l < NL; l++) {
        t->an[l] = rnd(E, 0.2f);
        t->fn[l] = rnd(E, 0.2f);
        for (int i = 0; i < E; i++) {
            t->an[l][i] += 1.0f;
            t->fn[l][i] += 1.0f;
        }
        t->wq[l] = rnd(E * NH * HD, 0.3f);
        t->wk[l] = rnd(E * NKV * HD, 0.3f);
        t->wv[l] = rnd(E * NKV * HD, 0.3f);
        t->wo[l] = rnd(NH * HD * E, 0.3f);
        t->wg[l] = rnd(E * F, 0.3f);
        t->wu[l] = rnd(E * F, 0.3f);
        t->wd[l] = rnd(F * E, 0.3f);
        t->bq[l] = qwen ? rnd(NH * HD, 0.5f) : NULL;
        t->bk[l] = qwen ? rnd(NKV * HD, 0.5f) : NULL;
        t->bv[l] = qwen ? rnd(NKV * HD, 0.5f) : NULL;
    }
}

static void tiny_free(struct tiny *t)
{
    free(t->tok); free(t->out); free(t->onorm);
    for (int l = 0; l < NL; l++) {
        free(t->an[l]); free(t->fn[l]); free(t->wq[l]); free(t->wk[l]); free(t->wv[l]); free(t->wo[l]);
        free(t->wg[l]); free(t->wu[l]); free(t->wd[l]); free(t->bq[l]); free(t->bk[l]); free(t->bv[l]);
    }
}

struct tinfo {
    char name[64];
    int nd;
    uint64_t ne[2];
    const float *data;
};

/* Writes the model as GGUF; skip names a tensor to leave out, bad_shape one to mis-shape. */
static void tiny_write(const struct tiny *t, const char *path, int tied, const char *skip, const char *bad_shape)
{
    struct tinfo ti[4 + NL * 12];
    int n = 0;
#define ADD(nm, d, a, b, ptr) do { if (!(skip && !strcmp(skip, nm))) { \
        snprintf(ti[n].name, 64, "%s", nm); ti[n].nd = d; ti[n].ne[0] = a; ti[n].ne[1] = b; ti[n].data = ptr; \
        if (bad_shape && !strcmp(bad_shape, nm)) { ti[n].ne[0] = a / 2; ti[n].ne[1] = b * 2; } \
        n++; } } while (0)
    ADD("token_embd.weight", 2, E, V, t->tok);
    if (!tied)
        ADD("output.weight", 2, E, V, t->out);
    ADD("output_norm.weight", 1, E, 1, t->onorm);
    char nm[64];
    for (int l = 0; l < NL; l++) {
#define L(s) (snprintf(nm, sizeof nm, "blk.%d." s, l), nm)
        ADD(L("attn_norm.weight"), 1, E, 1, t->an[l]);
        ADD(L("ffn_norm.weight"), 1, E, 1, t->fn[l]);
        ADD(L("attn_q.weight"), 2, E, NH * HD, t->wq[l]);
        ADD(L("attn_k.weight"), 2, E, NKV * HD, t->wk[l]);
        ADD(L("attn_v.weight"), 2, E, NKV * HD, t->wv[l]);
        ADD(L("attn_output.weight"), 2, NH * HD, E, t->wo[l]);
        ADD(L("ffn_gate.weight"), 2, E, F, t->wg[l]);
        ADD(L("ffn_up.weight"), 2, E, F, t->wu[l]);
        ADD(L("ffn_down.weight"), 2, F, E, t->wd[l]);
        if (t->qwen) {
            ADD(L("attn_q.bias"), 1, NH * HD, 1, t->bq[l]);
            ADD(L("attn_k.bias"), 1, NKV * HD, 1, t->bk[l]);
            ADD(L("attn_v.bias"), 1, NKV * HD, 1, t->bv[l]);
        }
#undef L
    }
#undef ADD
    const char *arch = t->qwen ? "qwen2" : "llama";
    char key[96];
    gb g = { 0 };
    gb_header(&g, 3, (uint64_t)n, 9);
    gb_kv_str(&g, "general.architecture", arch);
    gb_kv_str(&g, "general.name", "tiny");
#define K(s) (snprintf(key, sizeof key, "%s." s, arch), key)
    gb_kv_u32(&g, K("embedding_length"), E);
    gb_kv_u32(&g, K("block_count"), NL);
    gb_kv_u32(&g, K("feed_forward_length"), F);
    gb_kv_u32(&g, K("attention.head_count"), NH);
    gb_kv_u32(&g, K("attention.head_count_kv"), NKV);
    gb_kv_u32(&g, K("context_length"), 128);
    gb_kv_f32(&g, K("attention.layer_norm_rms_epsilon"), 1e-5f);
#undef K
    uint64_t off = 0;
    for (int i = 0; i < n; i++) {
        uint64_t ne[2] = { ti[i].ne[0], ti[i].ne[1] };
        gb_tensor(&g, ti[i].name, ti[i].nd, ne, 0, off);
        off += (ti[i].ne[0] * ti[i].ne[1] * 4 + 31) / 32 * 32;
    }
    size_t base = gb_data_start(&g, 32);
    off = 0;
    for (int i = 0; i < n; i++) {
        gb_pad_to(&g, base + off);
        gb_put(&g, ti[i].data, ti[i].ne[0] * ti[i].ne[1] * 4);
        off += (ti[i].ne[0] * ti[i].ne[1] * 4 + 31) / 32 * 32;
    }
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(g.b, 1, g.len, f);
        fclose(f);
    }
    gb_free(&g);
}

/* ---- reference forward (double precision, no cache tricks) ---- */

static void ref_matvec(const float *w, const double *x, int in, int out, double *y)
{
    for (int r = 0; r < out; r++) {
        double s = 0;
        for (int i = 0; i < in; i++)
            s += (double)w[(size_t)r * in + i] * x[i];
        y[r] = s;
    }
}

static void ref_norm(const double *x, const float *w, double *y)
{
    double ss = 0;
    for (int i = 0; i < E; i++)
        ss += x[i] * x[i];
    double sc = 1.0 / sqrt(ss / E + 1e-5);
    for (int i = 0; i < E; i++)
        y[i] = x[i] * sc * w[i];
}

static void ref_rope(double *v, int nheads, int pos, int neox)
{
    for (int h = 0; h < nheads; h++)
        for (int i = 0; i < HD / 2; i++) {
            double th = pos * pow(10000.0, -2.0 * i / HD);
            int a = neox ? i : 2 * i, b = neox ? i + HD / 2 : 2 * i + 1;
            double x0 = v[h * HD + a], x1 = v[h * HD + b];
            v[h * HD + a] = x0 * cos(th) - x1 * sin(th);
            v[h * HD + b] = x0 * sin(th) + x1 * cos(th);
        }
}

/* Logits of the last of n tokens. */
static void ref_forward(const struct tiny *t, int tied, const int *toks, int n, double *logits)
{
    static double x[MAXT][E], K[NL][MAXT][NKV * HD], Vv[NL][MAXT][NKV * HD];
    for (int p = 0; p < n; p++) {
        for (int i = 0; i < E; i++)
            x[p][i] = t->tok[toks[p] * E + i];
        for (int l = 0; l < NL; l++) {
            double xb[E], q[NH * HD], att[NH * HD], o[E], hg[F], hu[F];
            ref_norm(x[p], t->an[l], xb);
            ref_matvec(t->wq[l], xb, E, NH * HD, q);
            ref_matvec(t->wk[l], xb, E, NKV * HD, K[l][p]);
            ref_matvec(t->wv[l], xb, E, NKV * HD, Vv[l][p]);
            if (t->qwen) {
                for (int i = 0; i < NH * HD; i++) q[i] += t->bq[l][i];
                for (int i = 0; i < NKV * HD; i++) { K[l][p][i] += t->bk[l][i]; Vv[l][p][i] += t->bv[l][i]; }
            }
            ref_rope(q, NH, p, t->qwen);
            ref_rope(K[l][p], NKV, p, t->qwen);
            for (int h = 0; h < NH; h++) {
                int kh = h / (NH / NKV);
                double sc[MAXT], mx = -1e300, sum = 0;
                for (int j = 0; j <= p; j++) {
                    double d = 0;
                    for (int i = 0; i < HD; i++)
                        d += q[h * HD + i] * K[l][j][kh * HD + i];
                    sc[j] = d / sqrt((double)HD);
                    mx = fmax(mx, sc[j]);
                }
                for (int j = 0; j <= p; j++)
                    sum += (sc[j] = exp(sc[j] - mx));
                for (int i = 0; i < HD; i++) {
                    double a = 0;
                    for (int j = 0; j <= p; j++)
                        a += sc[j] / sum * Vv[l][j][kh * HD + i];
                    att[h * HD + i] = a;
                }
            }
            ref_matvec(t->wo[l], att, NH * HD, E, o);
            for (int i = 0; i < E; i++)
                x[p][i] += o[i];
            ref_norm(x[p], t->fn[l], xb);
            ref_matvec(t->wg[l], xb, E, F, hg);
            ref_matvec(t->wu[l], xb, E, F, hu);
            for (int i = 0; i < F; i++)
                hg[i] = hg[i] / (1 + exp(-hg[i])) * hu[i];
            ref_matvec(t->wd[l], hg, F, E, o);
            for (int i = 0; i < E; i++)
                x[p][i] += o[i];
        }
    }
    double xb[E];
    ref_norm(x[n - 1], t->onorm, xb);
    ref_matvec(tied ? t->tok : t->out, xb, E, V, logits);
}

static lb_model *load_ok(const char *path)
{
    lb_model *m = NULL;
    lb_err err = { 0 };
    int rc = lb_model_load(path, NULL, &m, &err);
    CHECK_MSG(rc == LB_OK, "load: %s", err.msg);
    return m;
}

static void check_against_reference(int qwen, int tied, int threads, int flash)
{
    struct tiny t;
    tiny_init(&t, qwen);
    char path[512];
    snprintf(path, sizeof path, "%s/tiny.gguf", lb_test_tmpdir());
    tiny_write(&t, path, tied, NULL, NULL);
    lb_model *m = load_ok(path);
    if (!m) {
        tiny_free(&t);
        return;
    }
    lb_model_info in;
    lb_model_get_info(m, &in);
    CHECK_STR(in.arch, qwen ? "qwen2" : "llama");
    CHECK_EQ(in.n_vocab, V);
    CHECK_EQ(in.n_head_kv, NKV);
    lb_ctx *c = NULL;
    lb_err err = { 0 };
    lb_ctx_params cp = { .n_ctx = 32, .n_seq = 1, .n_batch = 4, .n_threads = threads, .flash_attn = flash };
    CHECK_MSG(lb_ctx_new(m, &cp, &c, &err) == LB_OK, "%s", err.msg);
    int toks[12] = { 1, 5, 9, 33, 2, 17, 8, 39, 0, 21, 11, 6 };
    int32_t t32[12], pos[12];
    for (int i = 0; i < 12; i++) {
        t32[i] = toks[i];
        pos[i] = i;
    }
    /* 12 tokens in one call: processed as three chunks of n_batch = 4. */
    lb_batch b = { .n = 12, .tokens = t32, .pos = pos };
    CHECK_MSG(lb_decode(c, &b, &err) == LB_OK, "%s", err.msg);
    const float *lg = lb_get_logits(c, 11);
    CHECK(lg != NULL);
    CHECK(lb_get_logits(c, 10) == NULL);
    double ref[V], maxabs = 0, maxdiff = 0;
    ref_forward(&t, tied, toks, 12, ref);
    for (int i = 0; lg && i < V; i++) {
        maxabs = fmax(maxabs, fabs(ref[i]));
        maxdiff = fmax(maxdiff, fabs(ref[i] - lg[i]));
    }
    /* f16 K/V cache and f16 Q/softmax weights in attention: ~1e-3 relative. */
    CHECK_MSG(maxdiff <= 5e-3 * maxabs, "%s: max diff %g of %g", qwen ? "qwen2" : "llama", maxdiff, maxabs);
    CHECK(maxabs > 0.1);
    CHECK_EQ(lb_kv_len(c, 0), 12);
    lb_ctx_free(c);
    lb_model_free(m);
    tiny_free(&t);
}

TEST(forward_llama_matches_reference) { check_against_reference(0, 0, 1, 0); }
TEST(forward_llama_tied_two_threads) { check_against_reference(0, 1, 2, 0); }
TEST(forward_qwen2_matches_reference) { check_against_reference(1, 0, 3, 0); }
TEST(forward_flash_attention_matches_reference) { check_against_reference(0, 0, 2, 1); check_against_reference(1, 1, 1, 1); }

/* Token-by-token decoding, one batch, and two interleaved sequences give the same logits. */
TEST(forward_batching_and_sequences_agree)
{
    struct tiny t;
    tiny_init(&t, 0);
    char path[512];
    snprintf(path, sizeof path, "%s/tiny.gguf", lb_test_tmpdir());
    tiny_write(&t, path, 0, NULL, NULL);
    lb_model *m = load_ok(path);
    if (!m) {
        tiny_free(&t);
        return;
    }
    lb_ctx *c = NULL;
    lb_err err = { 0 };
    lb_ctx_params cp = { .n_ctx = 16, .n_seq = 2, .n_batch = 16, .n_threads = 2 };
    CHECK(lb_ctx_new(m, &cp, &c, &err) == LB_OK);
    if (!c) {
        lb_model_free(m);
        tiny_free(&t);
        return;
    }
    int32_t a[6] = { 3, 1, 4, 1, 5, 9 }, bt[6] = { 2, 7, 1, 8, 2, 8 };
    static float la[6][V], lbv[6][V];
    for (int i = 0; i < 6; i++) {  /* sequence 0, one token at a time */
        int32_t p = i;
        lb_batch b = { .n = 1, .tokens = &a[i], .pos = &p };
        CHECK(lb_decode(c, &b, &err) == LB_OK);
        memcpy(la[i], lb_get_logits(c, 0), sizeof la[i]);
    }
    /* sequence 1 in one batch with every position's logits */
    int32_t pos[6] = { 0, 1, 2, 3, 4, 5 }, seq1[6] = { 1, 1, 1, 1, 1, 1 };
    uint8_t want[6] = { 1, 1, 1, 1, 1, 1 };
    lb_batch b = { .n = 6, .tokens = bt, .pos = pos, .seq = seq1, .want_logits = want };
    CHECK(lb_decode(c, &b, &err) == LB_OK);
    for (int i = 0; i < 6; i++)
        memcpy(lbv[i], lb_get_logits(c, i), sizeof lbv[i]);
    CHECK_EQ(lb_kv_len(c, 0), 6);
    CHECK_EQ(lb_kv_len(c, 1), 6);
    /* Replay both interleaved in one batch after truncating: positions 3..5 of each. */
    lb_kv_truncate(c, 0, 3);
    lb_kv_truncate(c, 1, 3);
    CHECK_EQ(lb_kv_len(c, 0), 3);
    int32_t it[6] = { a[3], bt[3], a[4], bt[4], a[5], bt[5] }, ip[6] = { 3, 3, 4, 4, 5, 5 }, is[6] = { 0, 1, 0, 1, 0, 1 };
    lb_batch ib = { .n = 6, .tokens = it, .pos = ip, .seq = is, .want_logits = want };
    CHECK(lb_decode(c, &ib, &err) == LB_OK);
    int same = 1;
    for (int k = 0; k < 3; k++)
        for (int v = 0; v < V; v++) {
            same &= lb_get_logits(c, 2 * k)[v] == la[3 + k][v];
            same &= lb_get_logits(c, 2 * k + 1)[v] == lbv[3 + k][v];
        }
    CHECK_MSG(same, "interleaved batch differs from separate decoding");
    int same_batch = 1;
    for (int v = 0; v < V; v++)
        same_batch &= fabsf(la[5][v] - lbv[5][v]) > 0;  /* different sequences differ */
    CHECK(same_batch);

    /* Invalid batches are rejected without touching the cache. */
    int32_t tok = 3, p = 9;
    lb_batch bad = { .n = 1, .tokens = &tok, .pos = &p };
    CHECK_EQ(lb_decode(c, &bad, &err), LB_EINVAL);
    CHECK(strstr(err.msg, "position") != NULL);
    tok = V;
    p = 6;
    CHECK_EQ(lb_decode(c, &bad, &err), LB_EINVAL);
    int32_t s2 = 2;
    tok = 1;
    lb_batch bad2 = { .n = 1, .tokens = &tok, .pos = &p, .seq = &s2 };
    CHECK_EQ(lb_decode(c, &bad2, &err), LB_EINVAL);
    CHECK_EQ(lb_kv_len(c, 0), 6);
    /* A full sequence reports the limit. */
    lb_kv_truncate(c, 0, 0);
    int32_t many[17], mp[17];
    for (int i = 0; i < 17; i++) {
        many[i] = 1;
        mp[i] = i;
    }
    lb_batch full = { .n = 17, .tokens = many, .pos = mp };
    CHECK_EQ(lb_decode(c, &full, &err), LB_ELIMIT);
    CHECK_EQ(lb_kv_len(c, 0), 0);
    lb_ctx_free(c);
    lb_model_free(m);
    tiny_free(&t);
}

TEST(model_load_errors_name_the_tensor)
{
    struct tiny t;
    tiny_init(&t, 1);
    char path[512];
    snprintf(path, sizeof path, "%s/bad.gguf", lb_test_tmpdir());
    lb_model *m = NULL;
    lb_err err = { 0 };
    tiny_write(&t, path, 0, "blk.1.ffn_up.weight", NULL);
    CHECK_EQ(lb_model_load(path, NULL, &m, &err), LB_EFORMAT);
    CHECK(strstr(err.msg, "blk.1.ffn_up.weight") != NULL);
    tiny_write(&t, path, 0, "blk.0.attn_k.bias", NULL);  /* qwen2 needs its biases */
    CHECK_EQ(lb_model_load(path, NULL, &m, &err), LB_EFORMAT);
    CHECK(strstr(err.msg, "blk.0.attn_k.bias") != NULL);
    tiny_write(&t, path, 0, NULL, "blk.0.attn_q.weight");
    CHECK_EQ(lb_model_load(path, NULL, &m, &err), LB_EFORMAT);
    CHECK(strstr(err.msg, "blk.0.attn_q.weight") != NULL && strstr(err.msg, "shape") != NULL);
    CHECK(m == NULL);
    /* Vocab-only open of a real vocabulary file works; a context on it does not. */
    lb_load_opts o = LB_LOAD_OPTS_DEFAULT;
    o.vocab_only = true;
    CHECK_EQ(lb_model_load(lb_test_shared("testdata/tokenizer/ggml-vocab-llama-spm.gguf"), &o, &m, &err), LB_OK);
    if (m) {
        lb_ctx *c = NULL;
        CHECK_EQ(lb_ctx_new(m, NULL, &c, &err), LB_EINVAL);
        CHECK_STR(lb_model_meta_str(m, "tokenizer.ggml.model"), "llama");
        lb_model_free(m);
    }
    tiny_free(&t);
}
