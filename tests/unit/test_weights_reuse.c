/* The engine's loader with lb_load_opts.hugetlb_dir: the first load fills a weights file,
 * the next load (a service restart) maps it again without copying from the model, and the
 * logits are the same. A plain directory stands in for hugetlbfs. */
#include "../lib/harness.h"
#include "../lib/gguf_builder.h"
#include "engine.h"
#include "ggml_type.h"
#include "quant.h"
#include "log.h"

#include <dirent.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <stdlib.h>

enum { E = 32, F = 64, NH = 2, NKV = 1, HD = 16, V = 64 };

/* 2-D weights as F32 (type 0) or Q8_0 (type 8: repacked at load); norms stay F32. */
static uint64_t tensor_bytes(uint32_t type, uint64_t n) { return type == 8 ? n / 32 * 34 : n * 4; }

static void put_tensor_info(gb *g, const char *name, uint64_t a, uint64_t b, int nd, uint32_t type, uint64_t *off)
{
    uint64_t ne[2] = { a, b };
    gb_tensor(g, name, nd, ne, type, *off);
    *off += (tensor_bytes(type, a * b) + 31) / 32 * 32;
}

/* One Q8_0 block of 32 floats: fp16 scale amax / 127 (exact for the powers of two used). */
static void put_q8_0(gb *g, const float *v)
{
    float amax = 0;
    for (int i = 0; i < 32; i++)
        amax = fabsf(v[i]) > amax ? fabsf(v[i]) : amax;
    float d = amax / 127.0f;
    uint16_t h = lb_f32_to_f16(d);
    gb_put(g, &h, 2);
    d = lb_f16_to_f32(h);
    for (int i = 0; i < 32; i++)
        gb_u8(g, (uint8_t)(int8_t)(d > 0 ? lrintf(v[i] / d) : 0));
}

static void write_model(const char *path, uint32_t wtype)
{
    struct { const char *name; uint64_t a, b; int nd; } t[] = {
        { "token_embd.weight", E, V, 2 }, { "output.weight", E, V, 2 }, { "output_norm.weight", E, 1, 1 },
        { "blk.0.attn_norm.weight", E, 1, 1 }, { "blk.0.ffn_norm.weight", E, 1, 1 },
        { "blk.0.attn_q.weight", E, NH * HD, 2 }, { "blk.0.attn_k.weight", E, NKV * HD, 2 },
        { "blk.0.attn_v.weight", E, NKV * HD, 2 }, { "blk.0.attn_output.weight", NH * HD, E, 2 },
        { "blk.0.ffn_gate.weight", E, F, 2 }, { "blk.0.ffn_up.weight", E, F, 2 }, { "blk.0.ffn_down.weight", F, E, 2 },
    };
    int n = (int)(sizeof t / sizeof t[0]);
    gb g = { 0 };
    gb_header(&g, 3, (uint64_t)n, 8);
    gb_kv_str(&g, "general.architecture", "llama");
    gb_kv_u32(&g, "llama.embedding_length", E);
    gb_kv_u32(&g, "llama.block_count", 1);
    gb_kv_u32(&g, "llama.feed_forward_length", F);
    gb_kv_u32(&g, "llama.attention.head_count", NH);
    gb_kv_u32(&g, "llama.attention.head_count_kv", NKV);
    gb_kv_u32(&g, "llama.context_length", 64);
    gb_kv_f32(&g, "llama.attention.layer_norm_rms_epsilon", 1e-5f);
    uint64_t off = 0;
    for (int i = 0; i < n; i++)
        put_tensor_info(&g, t[i].name, t[i].a, t[i].b, t[i].nd, t[i].nd == 2 ? wtype : 0, &off);
    size_t base = gb_data_start(&g, 32);
    off = 0;
    unsigned seed = 7;
    for (int i = 0; i < n; i++) {
        gb_pad_to(&g, base + off);
        uint32_t type = t[i].nd == 2 ? wtype : 0;
        float blk[32];
        for (uint64_t k = 0; k < t[i].a * t[i].b; k++) {
            seed = seed * 1103515245u + 12345u;
            float v = t[i].nd == 1 ? 1.0f : ((float)((seed >> 8) & 0xffff) / 65536.0f - 0.5f) * 0.5f;
            if (type == 0)
                gb_f32(&g, v);
            else if ((blk[k % 32] = v), k % 32 == 31)
                put_q8_0(&g, blk);
        }
        off += (tensor_bytes(type, t[i].a * t[i].b) + 31) / 32 * 32;
    }
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(g.b, 1, g.len, f);
        fclose(f);
    }
    gb_free(&g);
}

/* Loads, runs 3 tokens, copies the last logits; returns weights_memory in kind and the
 * repacked bytes in *repacked (when not NULL). */
static int run_r(const char *path, const char *dir, float *logits, char *kind, uint64_t *repacked)
{
    lb_load_opts o = LB_LOAD_OPTS_DEFAULT;
    o.hugetlb_dir = dir;
    lb_model *m = NULL;
    lb_ctx *c = NULL;
    lb_err err = { 0 };
    int rc = lb_model_load(path, &o, &m, &err);
    CHECK_MSG(rc == LB_OK, "load: %s", err.msg);
    if (rc)
        return rc;
    lb_model_info in;
    lb_model_get_info(m, &in);
    snprintf(kind, 32, "%s", in.weights_memory);
    if (repacked)
        *repacked = in.repacked_bytes;
    lb_ctx_params cp = { .n_ctx = 16, .n_seq = 1, .n_batch = 4, .n_threads = 1 };
    int32_t toks[3] = { 5, 9, 17 }, pos[3] = { 0, 1, 2 };
    lb_batch b = { .n = 3, .tokens = toks, .pos = pos };
    if ((rc = lb_ctx_new(m, &cp, &c, &err)) == LB_OK && (rc = lb_decode(c, &b, &err)) == LB_OK)
        memcpy(logits, lb_get_logits(c, 2), V * sizeof(float));
    CHECK_MSG(rc == LB_OK, "decode: %s", err.msg);
    lb_ctx_free(c);
    lb_model_free(m);
    return rc;
}

static int run(const char *path, const char *dir, float *logits, char *kind)
{
    return run_r(path, dir, logits, kind, NULL);
}

/* Info-level log lines go to a temporary file (for count_lines) until release_log. */
static FILE *capture_log(enum lb_log_level *saved)
{
    FILE *log = tmpfile();
    lb_log_set_stream(log);
    *saved = lb_log_get_level();
    lb_log_set_level(LB_LOG_INFO);
    return log;
}

static void release_log(FILE *log, enum lb_log_level saved)
{
    lb_log_set_level(saved);
    lb_log_set_stream(NULL);
    fclose(log);
}

static int count_lines(FILE *f, const char *needle)
{
    char line[600];
    int n = 0;
    rewind(f);
    while (fgets(line, sizeof line, f))
        n += strstr(line, needle) != NULL;
    return n;
}

TEST(restart_reuses_weights_file_with_same_logits)
{
    char path[512], dir[512], kind[32];
    snprintf(path, sizeof path, "%s/m.gguf", lb_test_tmpdir());
    snprintf(dir, sizeof dir, "%s/hugetlbfs", lb_test_tmpdir());
    CHECK_EQ(mkdir(dir, 0700), 0);
    write_model(path, 0);
    float a[V], b[V], ref[V];
    enum lb_log_level lvl;
    FILE *log = capture_log(&lvl);
    CHECK_EQ(run(path, NULL, ref, kind), LB_OK);  /* no cache: reference */
    CHECK_EQ(run(path, dir, a, kind), LB_OK);
    CHECK_STR(kind, "file");                      /* a plain directory: not huge pages */
    CHECK_EQ(count_lines(log, "reusing"), 0);
    CHECK_EQ(run(path, dir, b, kind), LB_OK);
    CHECK_EQ(count_lines(log, "reusing"), 1);
    release_log(log, lvl);
    CHECK(memcmp(a, ref, sizeof a) == 0);
    CHECK(memcmp(b, ref, sizeof b) == 0);
}

TEST(unusable_dir_falls_back_with_a_report)
{
    char path[512], kind[32];
    snprintf(path, sizeof path, "%s/m2.gguf", lb_test_tmpdir());
    write_model(path, 0);
    float a[V];
    FILE *log = tmpfile();
    lb_log_set_stream(log);
    CHECK_EQ(run(path, "/nonexistent/hugetlbfs", a, kind), LB_OK);
    lb_log_set_stream(NULL);
    CHECK(strncmp(kind, "file", 4) != 0);
    CHECK_EQ(count_lines(log, "falling back to transparent hugepages + mlock"), 1);
    fclose(log);
}

/* Q8_0 weights are repacked at load (engine/repack.h) and the weights file holds them
 * repacked: a restart reuses it with the same logits; a start without repacking
 * (LLMBOX_REPACK=0) must not map that file as plain rows (another file, close logits). */
TEST(restart_reuses_repacked_weights_and_never_mixes_layouts)
{
    char path[512], dir[512], kind[32];
    snprintf(path, sizeof path, "%s/q8.gguf", lb_test_tmpdir());
    snprintf(dir, sizeof dir, "%s/hugetlbfs-q8", lb_test_tmpdir());
    CHECK_EQ(mkdir(dir, 0700), 0);
    write_model(path, 8);
    float a[V], b[V], c[V], ref[V];
    uint64_t rp_ref = 0, rp_a = 0, rp_b = 0, rp_c = 1;
    enum lb_log_level lvl;
    FILE *log = capture_log(&lvl);
    CHECK_EQ(run_r(path, NULL, ref, kind, &rp_ref), LB_OK);
    CHECK_EQ(run_r(path, dir, a, kind, &rp_a), LB_OK);
    CHECK_EQ(run_r(path, dir, b, kind, &rp_b), LB_OK);
    CHECK_EQ(count_lines(log, "reusing"), 1);
    setenv("LLMBOX_REPACK", "0", 1);
    CHECK_EQ(run_r(path, dir, c, kind, &rp_c), LB_OK);
    unsetenv("LLMBOX_REPACK");
    CHECK_EQ(count_lines(log, "reusing"), 1); /* the repacked file was not taken */
    release_log(log, lvl);
    CHECK(rp_ref > 0);
    CHECK_EQ(rp_a, rp_ref);
    CHECK_EQ(rp_b, rp_ref); /* reported for a reused file too */
    CHECK_EQ(rp_c, 0);
    CHECK(memcmp(a, ref, sizeof a) == 0);
    CHECK(memcmp(b, ref, sizeof b) == 0);
    double md = 0, spread = 0;
    for (int i = 0; i < V; i++) {
        md = fmax(md, fabs(c[i] - ref[i]));
        spread = fmax(spread, fabs(ref[i]));
    }
    CHECK_MSG(md <= 1e-4 * spread + 1e-6, "plain vs repacked logits differ by %g (|max| %g)", md, spread);
}
