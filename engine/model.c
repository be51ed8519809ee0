/* Model loading: hyperparameters from GGUF metadata, tensors found by llama.cpp's names and
 * checked against the shapes the hyperparameters imply, tensor data copied into the weights
 * memory (weights_mem.c). */
#include "model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "kernels.h"
#include "log.h"
#include "repack.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* "{arch}.suffix" as a positive int; required or default. */
static int hp_int(const lb_gguf *g, const char *arch, const char *suffix, int def, int *out, lb_err *err)
{
    char key[128];
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    uint32_t v;
    int rc = lb_gguf_get_u32(g, key, &v, err);
    if (rc == LB_ENOENT && def >= 0) {
        *out = def;
        return LB_OK;
    }
    if (rc)
        return rc;
    if (v == 0 || v > (1u << 24))
        return lb_err_set(err, LB_EFORMAT, "model: %s = %u is out of range", key, v);
    *out = (int)v;
    return LB_OK;
}

static int hp_float(const lb_gguf *g, const char *arch, const char *suffix, float def, float *out, lb_err *err)
{
    char key[128];
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    int rc = lb_gguf_get_f32(g, key, out, err);
    if (rc == LB_ENOENT) {
        *out = def;
        return LB_OK;
    }
    if (rc)
        return rc;
    if (!(*out > 0) || *out > 1e30f)
        return lb_err_set(err, LB_EFORMAT, "model: %s = %g is out of range", key, *out);
    return LB_OK;
}

static int read_hparams(lb_model *m, lb_err *err)
{
    const lb_gguf *g = m->g;
    lb_hparams *hp = &m->hp;
    const char *arch;
    int rc = lb_gguf_get_str(g, "general.architecture", &arch, NULL, err);
    if (rc)
        return rc;
    if (!strcmp(arch, "llama")) {
        hp->arch = LB_ARCH_LLAMA;
        hp->rope_type = LB_ROPE_NORM;
    } else if (!strcmp(arch, "qwen2")) {
        hp->arch = LB_ARCH_QWEN2;
        hp->rope_type = LB_ROPE_NEOX;
    } else {
        return lb_err_set(err, LB_ENOTSUP, "model: architecture '%s' not supported (llama, qwen2)", arch);
    }
    snprintf(m->info.arch, sizeof m->info.arch, "%s", arch);
    if ((rc = hp_int(g, arch, "embedding_length", -1, &hp->n_embd, err)) ||
        (rc = hp_int(g, arch, "block_count", -1, &hp->n_layer, err)) ||
        (rc = hp_int(g, arch, "feed_forward_length", -1, &hp->n_ff, err)) ||
        (rc = hp_int(g, arch, "attention.head_count", -1, &hp->n_head, err)) ||
        (rc = hp_int(g, arch, "attention.head_count_kv", hp->n_head, &hp->n_head_kv, err)) ||
        (rc = hp_int(g, arch, "context_length", 2048, &hp->n_ctx_train, err)))
        return rc;
    if (hp->n_embd % hp->n_head)
        return lb_err_set(err, LB_EFORMAT, "model: embedding_length %d not divisible by head_count %d", hp->n_embd, hp->n_head);
    if ((rc = hp_int(g, arch, "attention.key_length", hp->n_embd / hp->n_head, &hp->head_dim, err)))
        return rc;
    int vlen;
    if ((rc = hp_int(g, arch, "attention.value_length", hp->head_dim, &vlen, err)))
        return rc;
    if (vlen != hp->head_dim)
        return lb_err_set(err, LB_ENOTSUP, "model: value_length %d != key_length %d", vlen, hp->head_dim);
    if (hp->n_head % hp->n_head_kv)
        return lb_err_set(err, LB_EFORMAT, "model: head_count %d not a multiple of head_count_kv %d", hp->n_head, hp->n_head_kv);
    if ((rc = hp_int(g, arch, "rope.dimension_count", hp->head_dim, &hp->n_rot, err)))
        return rc;
    if (hp->n_rot > hp->head_dim || hp->n_rot % 2)
        return lb_err_set(err, LB_EFORMAT, "model: rope.dimension_count %d invalid for head size %d", hp->n_rot, hp->head_dim);
    if ((rc = hp_float(g, arch, "rope.freq_base", 10000.0f, &hp->rope_freq_base, err)) ||
        (rc = hp_float(g, arch, "attention.layer_norm_rms_epsilon", 1e-5f, &hp->norm_eps, err)))
        return rc;
    hp->rope_freq_scale = 1.0f;
    char key[128];
    snprintf(key, sizeof key, "%s.rope.scaling.type", arch);
    const char *stype = NULL;
    if (lb_gguf_get_str(g, key, &stype, NULL, NULL) == LB_OK && strcmp(stype, "none") != 0) {
        if (strcmp(stype, "linear") != 0)
            return lb_err_set(err, LB_ENOTSUP, "model: %s '%s' not supported (none, linear)", key, stype);
        float factor;
        if ((rc = hp_float(g, arch, "rope.scaling.factor", 1.0f, &factor, err)))
            return rc;
        hp->rope_freq_scale = 1.0f / factor;
    } else {
        float factor = 0;
        snprintf(key, sizeof key, "%s.rope.scale_linear", arch);
        if (lb_gguf_get_f32(g, key, &factor, NULL) == LB_OK && factor > 0)
            hp->rope_freq_scale = 1.0f / factor;
    }
    return LB_OK;
}

/* Matmul weights in Q4_0/Q8_0/Q4_K take the x4 layout (repack.h); the token embedding table does
 * not (its rows are looked up one at a time, and a tied output reads it in place). */
static bool repacked(const lb_model *m, const lb_gguf_tensor *t)
{
    return m->repack && t->n_dims == 2 && strcmp(t->name, "token_embd.weight") != 0 &&
           lb_x4_fits(t->type, t->ne[0], t->ne[1]);
}

/* A 2-D weight [ne0, ne1] usable by the matmul kernels. */
static int find_wt(lb_model *m, const char *name, int64_t ne0, int64_t ne1, bool required, lb_wt *out, lb_err *err)
{
    memset(out, 0, sizeof *out);
    const lb_gguf_tensor *t = lb_gguf_find_tensor(m->g, name);
    if (!t)
        return required ? lb_err_set(err, LB_EFORMAT, "model: missing tensor '%s'", name) : LB_OK;
    if (t->ne[0] != ne0 || t->ne[1] != ne1 || t->ne[2] != 1 || t->ne[3] != 1)
        return lb_err_set(err, LB_EFORMAT, "model: tensor '%s' has shape [%lld, %lld, %lld, %lld], want [%lld, %lld]",
                          name, (long long)t->ne[0], (long long)t->ne[1], (long long)t->ne[2], (long long)t->ne[3],
                          (long long)ne0, (long long)ne1);
    const lb_type_traits *tr = lb_kernels(t->type);
    if (!tr->supported)
        return lb_err_set(err, LB_ENOTSUP, "model: tensor '%s' has type %s, not supported", name, lb_type_name(t->type));
    int vb = lb_type_block_elems(tr->vec_dot_type);
    if (ne0 % vb)
        return lb_err_set(err, LB_ENOTSUP, "model: tensor '%s': row length %lld not a multiple of %d", name, (long long)ne0, vb);
    out->type = t->type;
    out->ne0 = ne0;
    out->ne1 = ne1;
    out->row_bytes = lb_type_row_bytes(t->type, ne0);
    out->data = (const uint8_t *)m->mem.ptr + t->offset;
    out->layout = repacked(m, t) ? LB_LAYOUT_X4 : LB_LAYOUT_PLAIN;
    return LB_OK;
}

/* A 1-D tensor of n elements converted to f32 into *cursor. */
static int find_vec(lb_model *m, const char *name, int64_t n, bool required, float **cursor, const float **out, lb_err *err)
{
    *out = NULL;
    const lb_gguf_tensor *t = lb_gguf_find_tensor(m->g, name);
    if (!t)
        return required ? lb_err_set(err, LB_EFORMAT, "model: missing tensor '%s'", name) : LB_OK;
    if (t->n_elems != n || t->ne[0] != n)
        return lb_err_set(err, LB_EFORMAT, "model: tensor '%s' has %lld elements, want %lld", name,
                          (long long)t->n_elems, (long long)n);
    const lb_type_traits *tr = lb_kernels(t->type);
    if (!tr->to_float)
        return lb_err_set(err, LB_ENOTSUP, "model: tensor '%s' has type %s, not supported", name, lb_type_name(t->type));
    tr->to_float((const uint8_t *)m->mem.ptr + t->offset, *cursor, n);
    *out = *cursor;
    *cursor += n;
    return LB_OK;
}

static int bind_tensors(lb_model *m, lb_err *err)
{
    const lb_hparams *hp = &m->hp;
    int64_t E = hp->n_embd, Q = (int64_t)hp->n_head * hp->head_dim, KV = (int64_t)hp->n_head_kv * hp->head_dim;
    int rc;
    const lb_gguf_tensor *te = lb_gguf_find_tensor(m->g, "token_embd.weight");
    if (!te)
        return lb_err_set(err, LB_EFORMAT, "model: missing tensor 'token_embd.weight'");
    if (te->ne[1] < 1 || te->ne[1] > (1 << 24))
        return lb_err_set(err, LB_EFORMAT, "model: token_embd.weight has %lld rows", (long long)te->ne[1]);
    hp = &m->hp;
    m->hp.n_vocab = (int)te->ne[1];
    if ((rc = find_wt(m, "token_embd.weight", E, m->hp.n_vocab, true, &m->tok_embd, err)))
        return rc;
    if ((rc = find_wt(m, "output.weight", E, m->hp.n_vocab, false, &m->output, err)))
        return rc;
    if (!m->output.data)
        m->output = m->tok_embd;  /* tied embeddings */
    size_t nvec = (size_t)hp->n_layer * (size_t)(2 * E + Q + 2 * KV) + (size_t)E + (size_t)hp->n_rot;
    m->vecs = malloc(nvec * sizeof(float));
    m->layers = calloc((size_t)hp->n_layer, sizeof *m->layers);
    if (!m->vecs || !m->layers)
        return lb_err_set(err, LB_ENOMEM, "model: no memory for %d layers", hp->n_layer);
    float *cur = m->vecs;
    if ((rc = find_vec(m, "output_norm.weight", E, true, &cur, &m->output_norm, err)))
        return rc;
    const lb_gguf_tensor *rf = lb_gguf_find_tensor(m->g, "rope_freqs.weight");
    if (rf && (rc = find_vec(m, "rope_freqs.weight", hp->n_rot / 2, true, &cur, &m->rope_freqs, err)))
        return rc;
    bool need_bias = hp->arch == LB_ARCH_QWEN2;
    for (int l = 0; l < hp->n_layer; l++) {
        lb_layer *L = &m->layers[l];
        char n[LB_GGUF_MAX_NAME];
#define NAME(s) (snprintf(n, sizeof n, "blk.%d." s, l), n)
        if ((rc = find_vec(m, NAME("attn_norm.weight"), E, true, &cur, &L->attn_norm, err)) ||
            (rc = find_vec(m, NAME("ffn_norm.weight"), E, true, &cur, &L->ffn_norm, err)) ||
            (rc = find_vec(m, NAME("attn_q.bias"), Q, need_bias, &cur, &L->bq, err)) ||
            (rc = find_vec(m, NAME("attn_k.bias"), KV, need_bias, &cur, &L->bk, err)) ||
            (rc = find_vec(m, NAME("attn_v.bias"), KV, need_bias, &cur, &L->bv, err)) ||
            (rc = find_wt(m, NAME("attn_q.weight"), E, Q, true, &L->wq, err)) ||
            (rc = find_wt(m, NAME("attn_k.weight"), E, KV, true, &L->wk, err)) ||
            (rc = find_wt(m, NAME("attn_v.weight"), E, KV, true, &L->wv, err)) ||
            (rc = find_wt(m, NAME("attn_output.weight"), Q, E, true, &L->wo, err)) ||
            (rc = find_wt(m, NAME("ffn_gate.weight"), E, hp->n_ff, true, &L->w_gate, err)) ||
            (rc = find_wt(m, NAME("ffn_up.weight"), E, hp->n_ff, true, &L->w_up, err)) ||
            (rc = find_wt(m, NAME("ffn_down.weight"), hp->n_ff, E, true, &L->w_down, err)))
            return rc;
#undef NAME
    }
    return LB_OK;
}

static void fill_info(lb_model *m, const char *path)
{
    lb_model_info *in = &m->info;
    const lb_hparams *hp = &m->hp;
    const char *name = NULL;
    if (lb_gguf_get_str(m->g, "general.name", &name, NULL, NULL) != LB_OK || !*name) {
        const char *slash = strrchr(path, '/');
        name = slash ? slash + 1 : path;
    }
    snprintf(in->name, sizeof in->name, "%s", name);
    in->n_vocab = hp->n_vocab;
    in->n_ctx_train = hp->n_ctx_train;
    in->n_embd = hp->n_embd;
    in->n_layer = hp->n_layer;
    in->n_head = hp->n_head;
    in->n_head_kv = hp->n_head_kv;
    in->n_ff = hp->n_ff;
    in->rope_freq_base = hp->rope_freq_base;
    in->norm_eps = hp->norm_eps;
    in->file_bytes = lb_gguf_file_size(m->g);
    for (int64_t i = 0; i < lb_gguf_n_tensors(m->g); i++) {
        const lb_gguf_tensor *t = lb_gguf_tensor_at(m->g, i);
        in->n_params += (uint64_t)t->n_elems;
        in->weight_bytes += t->nbytes;
    }
    snprintf(in->weights_memory, sizeof in->weights_memory, "%s", m->vocab_only ? "none" : m->mem.kind);
    in->hugepage_bytes = m->mem.hugepage_bytes;
}

/* Copies the tensors into the weights memory (Q4_0/Q8_0 matmul weights repacked on the way)
 * and drops the file's pages from our map.
 * A hugetlbfs file from an earlier start already holds them: nothing is read then. */
static int load_weights(lb_model *m, const char *path, const lb_load_opts *opts, lb_err *err)
{
    uint64_t size = lb_gguf_data_size(m->g);
    int rc = lb_weights_alloc_for(path, (size_t)size, LB_WEIGHTS_VARIANT(m->repack), opts, &m->mem, err);
    if (rc)
        return rc;
    const uint8_t *src = (const uint8_t *)lb_gguf_base(m->g) + lb_gguf_data_offset(m->g);
    /* Tensor by tensor, each written once: repacked or copied (the alignment padding between
     * tensors is never read). */
    uint8_t *dst = m->mem.ptr;
    for (int64_t i = 0; i < lb_gguf_n_tensors(m->g); i++) {
        const lb_gguf_tensor *t = lb_gguf_tensor_at(m->g, i);
        bool x4 = repacked(m, t);
        if (x4)
            m->info.repacked_bytes += t->nbytes;
        if (m->mem.reused)
            continue;
        if (x4)
            lb_x4_pack(t->type, src + t->offset, dst + t->offset, t->ne[0], t->ne[1]);
        else
            memcpy(dst + t->offset, src + t->offset, (size_t)t->nbytes);
    }
    if (!m->mem.reused) {
        if ((rc = lb_weights_commit(&m->mem, err)))
            return rc;
    }
    long page = sysconf(_SC_PAGESIZE);
    uintptr_t a = ((uintptr_t)src + (uintptr_t)page - 1) & ~((uintptr_t)page - 1);
    uintptr_t e = (uintptr_t)src + size;
    if (e > a)
        madvise((void *)a, e - a, MADV_DONTNEED);
    return LB_OK;
}

int lb_model_load(const char *path, const lb_load_opts *opts, lb_model **out, lb_err *err)
{
    *out = NULL;
    double t0 = now_ms();
    lb_load_opts def = LB_LOAD_OPTS_DEFAULT;
    if (!opts)
        opts = &def;
    lb_kernels_init();
    lb_model *m = calloc(1, sizeof *m);
    if (!m)
        return lb_err_set(err, LB_ENOMEM, "model: no memory");
    m->vocab_only = opts->vocab_only;
    m->repack = !opts->vocab_only && lb_repack_enabled();
    int rc = lb_gguf_open(path, &m->g, err);
    if (rc)
        goto out;
    if (!m->vocab_only) {
        if ((rc = read_hparams(m, err)) || (rc = load_weights(m, path, opts, err)) || (rc = bind_tensors(m, err)))
            goto out;
    } else {
        const char *arch;
        if (lb_gguf_get_str(m->g, "general.architecture", &arch, NULL, NULL) == LB_OK)
            snprintf(m->info.arch, sizeof m->info.arch, "%s", arch);
    }
    if ((rc = lb_model_vocab_load(m->g, &m->vocab, err)))
        goto out;
    fill_info(m, path);
    m->info.load_ms = now_ms() - t0;
out:
    if (rc) {
        if (rc != LB_OK && m->g)
            lb_err_wrap(err, rc, "%s", path);
        lb_model_free(m);
        return rc;
    }
    *out = m;
    return LB_OK;
}

void lb_model_free(lb_model *m)
{
    if (!m)
        return;
    if (m->vocab)
        lb_model_vocab_free(m->vocab);
    lb_weights_free(&m->mem);
    free(m->vecs);
    free(m->layers);
    lb_gguf_close(m->g);
    free(m);
}

void lb_model_get_info(const lb_model *m, lb_model_info *out) { *out = m->info; }
const lb_vocab *lb_model_vocab(const lb_model *m) { return m->vocab; }
int lb_model_n_vocab(const lb_model *m) { return m->hp.n_vocab; }
const lb_gguf *lb_model_gguf(const lb_model *m) { return m->g; }

const char *lb_model_meta_str(const lb_model *m, const char *key)
{
    const char *s;
    return lb_gguf_get_str(m->g, key, &s, NULL, NULL) == LB_OK ? s : NULL;
}
