#include "../lib/gguf_builder.h"
#include "../lib/harness.h"
#include "gguf.h"

#include <math.h>
#include <stdio.h>
#include <unistd.h>

/* A valid v3 file: every scalar type, a string, a string array, an f32 array, a nested
 * array, a custom alignment and two tensors (f32 [4,2] and q8_0 [32]). */
static void build_good(gb *g, uint32_t version)
{
    gb_header(g, version, 2, 16);
    gb_kv_str(g, "general.architecture", "llama");
    gb_kv_u32(g, "general.alignment", 64);
    gb_str(g, "k.u8"); gb_u32(g, 0); gb_u8(g, 200);
    gb_str(g, "k.i8"); gb_u32(g, 1); gb_u8(g, 0xff);            /* -1 */
    gb_str(g, "k.u16"); gb_u32(g, 2); gb_u8(g, 0x34); gb_u8(g, 0x12);
    gb_str(g, "k.i16"); gb_u32(g, 3); gb_u8(g, 0x00); gb_u8(g, 0x80);  /* -32768 */
    gb_kv_i32(g, "k.i32", -7);
    gb_kv_f32(g, "k.f32", 1.5f);
    gb_kv_bool(g, "k.bool", 1);
    gb_kv_u64(g, "k.u64", 1ull << 40);
    gb_str(g, "k.i64"); gb_u32(g, 11); gb_u64(g, (uint64_t)-5);
    gb_str(g, "k.f64"); gb_u32(g, 12); { double d = 0.25; gb_put(g, &d, 8); }
    gb_kv_arr(g, "tokenizer.ggml.tokens", 8, 3);
    gb_str(g, "<s>"); gb_str(g, ""); gb_str(g, "hello");
    gb_kv_arr(g, "k.f32arr", 6, 2);
    gb_f32(g, 0.5f); gb_f32(g, -2.0f);
    gb_kv_arr(g, "k.nested", 9, 2);                            /* [[1,2],[3]] of i32 */
    gb_u32(g, 5); gb_u64(g, 2); gb_u32(g, 1); gb_u32(g, 2);
    gb_u32(g, 5); gb_u64(g, 1); gb_u32(g, 3);
    gb_kv_arr(g, "k.empty", 4, 0);
    uint64_t ne_a[2] = { 4, 2 }, ne_b[1] = { 32 };
    gb_tensor(g, "a", 2, ne_a, 0, 0);
    gb_tensor(g, "b", 1, ne_b, 8, 64);
    size_t data = gb_data_start(g, 64);
    for (int i = 0; i < 8; i++)
        gb_f32(g, (float)i);
    gb_pad_to(g, data + 64);
    for (int i = 0; i < 34; i++)
        gb_u8(g, (uint8_t)i);
}

TEST(gguf_good_file_all_types)
{
    for (uint32_t ver = 2; ver <= 3; ver++) {
        gb g = { 0 };
        build_good(&g, ver);
        lb_gguf *f = NULL;
        lb_err err = { 0 };
        int rc = lb_gguf_open_mem(g.b, g.len, &f, &err);
        CHECK_MSG(rc == LB_OK, "open: %s", err.msg);
        if (rc) {
            gb_free(&g);
            return;
        }
        CHECK_EQ(lb_gguf_version(f), ver);
        CHECK_EQ(lb_gguf_n_kv(f), 16);
        CHECK_EQ(lb_gguf_alignment(f), 64);
        CHECK_EQ(lb_gguf_data_offset(f) % 64, 0);
        const char *s;
        size_t len;
        CHECK_EQ(lb_gguf_get_str(f, "general.architecture", &s, &len, &err), LB_OK);
        CHECK_STR(s, "llama");
        CHECK_EQ(len, 5);
        uint32_t u32;
        int32_t i32;
        int64_t i64;
        uint64_t u64;
        float f32;
        bool b;
        CHECK_EQ(lb_gguf_get_u32(f, "k.u8", &u32, &err), LB_OK);
        CHECK_EQ(u32, 200);
        CHECK_EQ(lb_gguf_get_i32(f, "k.i8", &i32, &err), LB_OK);
        CHECK_EQ(i32, -1);
        CHECK_EQ(lb_gguf_get_u32(f, "k.i8", &u32, &err), LB_EFORMAT);  /* -1 does not fit unsigned */
        CHECK_EQ(lb_gguf_get_u32(f, "k.u16", &u32, &err), LB_OK);
        CHECK_EQ(u32, 0x1234);
        CHECK_EQ(lb_gguf_get_i32(f, "k.i16", &i32, &err), LB_OK);
        CHECK_EQ(i32, -32768);
        CHECK_EQ(lb_gguf_get_i64(f, "k.i32", &i64, &err), LB_OK);
        CHECK_EQ(i64, -7);
        CHECK_EQ(lb_gguf_get_f32(f, "k.f32", &f32, &err), LB_OK);
        CHECK_NEAR(f32, 1.5, 0);
        CHECK_EQ(lb_gguf_get_bool(f, "k.bool", &b, &err), LB_OK);
        CHECK(b);
        CHECK_EQ(lb_gguf_get_u64(f, "k.u64", &u64, &err), LB_OK);
        CHECK_EQ(u64, 1ull << 40);
        CHECK_EQ(lb_gguf_get_u32(f, "k.u64", &u32, &err), LB_EFORMAT);  /* lossy */
        CHECK(strstr(err.msg, "k.u64") != NULL);
        CHECK_EQ(lb_gguf_get_i64(f, "k.i64", &i64, &err), LB_OK);
        CHECK_EQ(i64, -5);
        CHECK_EQ(lb_gguf_get_f32(f, "k.f64", &f32, &err), LB_OK);
        CHECK_NEAR(f32, 0.25, 0);
        CHECK_EQ(lb_gguf_get_bool(f, "k.u8", &b, &err), LB_EFORMAT);
        CHECK_EQ(lb_gguf_get_str(f, "k.u8", &s, &len, &err), LB_EFORMAT);
        CHECK_EQ(lb_gguf_get_u32(f, "no.such.key", &u32, &err), LB_ENOENT);
        CHECK(strstr(err.msg, "no.such.key") != NULL);

        const lb_gguf_val *arr;
        uint64_t n;
        CHECK_EQ(lb_gguf_get_arr(f, "tokenizer.ggml.tokens", LB_GGUF_STRING, &arr, &n, &err), LB_OK);
        CHECK_EQ(n, 3);
        CHECK_EQ(lb_gguf_arr_str(arr, 2, &s, &len), LB_OK);
        CHECK(len == 5 && !memcmp(s, "hello", 5));
        CHECK_EQ(lb_gguf_arr_str(arr, 1, &s, &len), LB_OK);
        CHECK_EQ(len, 0);
        CHECK_EQ(lb_gguf_arr_str(arr, 3, &s, &len), LB_EINVAL);
        CHECK_EQ(lb_gguf_get_arr(f, "tokenizer.ggml.tokens", LB_GGUF_F32, &arr, &n, &err), LB_EFORMAT);
        CHECK_EQ(lb_gguf_get_arr(f, "k.f32arr", LB_GGUF_F32, &arr, &n, &err), LB_OK);
        CHECK_EQ(lb_gguf_arr_f32(arr, 1, &f32), LB_OK);
        CHECK_NEAR(f32, -2.0, 0);
        CHECK_EQ(lb_gguf_arr_i64(arr, 1, &i64), LB_EINVAL);  /* float is not an integer */
        CHECK_EQ(lb_gguf_get_arr(f, "k.nested", LB_GGUF_ARRAY, &arr, &n, &err), LB_OK);
        CHECK_EQ(n, 2);
        const lb_gguf_val *inner = lb_gguf_arr_at(arr, 0);
        CHECK(inner != NULL);
        if (inner) {
            CHECK_EQ(lb_gguf_arr_len(inner), 2);
            CHECK_EQ(lb_gguf_arr_i64(inner, 1, &i64), LB_OK);
            CHECK_EQ(i64, 2);
        }
        inner = lb_gguf_arr_at(arr, 1);
        CHECK(inner && lb_gguf_arr_i64(inner, 0, &i64) == LB_OK && i64 == 3);
        CHECK(lb_gguf_arr_at(arr, 2) == NULL);
        CHECK_EQ(lb_gguf_get_arr(f, "k.empty", LB_GGUF_U32, &arr, &n, &err), LB_OK);
        CHECK_EQ(n, 0);

        CHECK_EQ(lb_gguf_n_tensors(f), 2);
        const lb_gguf_tensor *t = lb_gguf_find_tensor(f, "a");
        CHECK(t != NULL);
        if (t) {
            CHECK_EQ(t->type, LB_TYPE_F32);
            CHECK_EQ(t->n_dims, 2);
            CHECK_EQ(t->ne[0], 4);
            CHECK_EQ(t->ne[1], 2);
            CHECK_EQ(t->ne[2], 1);
            CHECK_EQ(t->nbytes, 32);
            float x;
            memcpy(&x, (const char *)t->data + 4 * 7, 4);
            CHECK_NEAR(x, 7.0, 0);
        }
        t = lb_gguf_find_tensor(f, "b");
        CHECK(t && t->type == LB_TYPE_Q8_0 && t->nbytes == 34 && t->offset == 64);
        CHECK(t && ((const uint8_t *)t->data)[33] == 33);
        CHECK(lb_gguf_find_tensor(f, "c") == NULL);
        lb_gguf_close(f);
        gb_free(&g);
    }
}

/* Opens bytes expected to be rejected; checks the code and that the message names `field`. */
static void expect_bad(const gb *g, const char *field, int line)
{
    lb_gguf *f = NULL;
    lb_err err = { 0 };
    int rc = lb_gguf_open_mem(g->b, g->len, &f, &err);
    if (rc == LB_OK) {
        lb_test_fail(__FILE__, line, "bad file opened (expected error naming '%s')", field);
        lb_gguf_close(f);
        return;
    }
    if (f != NULL)
        lb_test_fail(__FILE__, line, "out set on error");
    if (!strstr(err.msg, field))
        lb_test_fail(__FILE__, line, "error '%s' does not name '%s'", err.msg, field);
}
#define EXPECT_BAD(g, field) expect_bad(g, field, __LINE__)

TEST(gguf_truncated_everywhere)
{
    gb g = { 0 };
    build_good(&g, 3);
    /* Every proper prefix must be rejected cleanly (ASan checks no read goes past it). */
    size_t full = g.len;
    for (size_t n = 0; n < full; n++) {
        lb_gguf *f = NULL;
        lb_err err = { 0 };
        int rc = lb_gguf_open_mem(g.b, n, &f, &err);
        if (rc == LB_OK) {
            lb_test_fail(__FILE__, __LINE__, "prefix of %zu bytes opened", n);
            lb_gguf_close(f);
            break;
        }
        if (err.msg[0] == 0) {
            lb_test_fail(__FILE__, __LINE__, "prefix of %zu bytes: empty message", n);
            break;
        }
    }
    gb_free(&g);
}

TEST(gguf_bad_magic_and_version)
{
    gb g = { 0 };
    gb_put(&g, "GGUX", 4); gb_u32(&g, 3); gb_u64(&g, 0); gb_u64(&g, 0);
    EXPECT_BAD(&g, "magic");
    gb_free(&g);
    gb_header(&g, 1, 0, 0);
    EXPECT_BAD(&g, "version");
    gb_free(&g);
    gb_header(&g, 0x03000000, 0, 0);  /* big-endian v3 */
    EXPECT_BAD(&g, "version");
    gb_free(&g);
}

TEST(gguf_absurd_counts)
{
    gb g = { 0 };
    gb_header(&g, 3, 0, 1ull << 60);
    EXPECT_BAD(&g, "metadata count");
    gb_free(&g);
    gb_header(&g, 3, UINT64_MAX, 0);
    EXPECT_BAD(&g, "tensor count");
    gb_free(&g);
}

TEST(gguf_overflowing_lengths)
{
    gb g = { 0 };
    gb_header(&g, 3, 0, 1);
    gb_str(&g, "k");
    gb_u32(&g, 9); gb_u32(&g, 4); gb_u64(&g, UINT64_MAX / 2);  /* u32 array of 2^63 elements */
    EXPECT_BAD(&g, "array length");
    gb_free(&g);
    gb_header(&g, 3, 0, 1);
    gb_str(&g, "k");
    gb_u32(&g, 9); gb_u32(&g, 8); gb_u64(&g, 1); gb_u64(&g, UINT64_MAX); /* string of 2^64-1 */
    EXPECT_BAD(&g, "string length");
    gb_free(&g);
    gb_header(&g, 3, 0, 1);
    gb_u64(&g, 1ull << 62);                                     /* key length */
    gb_u64(&g, 0); gb_u64(&g, 0);
    EXPECT_BAD(&g, "key of metadata entry 0");
    gb_free(&g);
    gb_header(&g, 3, 0, 1);
    gb_str(&g, "k"); gb_u32(&g, 8); gb_u64(&g, 100); gb_put(&g, "short", 5);
    EXPECT_BAD(&g, "'k'");
    gb_free(&g);
}

TEST(gguf_bad_value_types)
{
    gb g = { 0 };
    gb_header(&g, 3, 0, 1);
    gb_str(&g, "weird"); gb_u32(&g, 13); gb_u32(&g, 0);
    EXPECT_BAD(&g, "weird");
    gb_free(&g);
    gb_header(&g, 3, 0, 1);
    gb_str(&g, "arr"); gb_u32(&g, 9); gb_u32(&g, 77); gb_u64(&g, 0);
    EXPECT_BAD(&g, "array element type");
    gb_free(&g);
    gb_header(&g, 3, 0, 1);
    gb_kv_bool(&g, "flag", 7);
    EXPECT_BAD(&g, "flag");
    gb_free(&g);
    gb_header(&g, 3, 0, 2);
    gb_kv_u32(&g, "dup", 1);
    gb_kv_u32(&g, "dup", 2);
    EXPECT_BAD(&g, "duplicate key 'dup'");
    gb_free(&g);
    gb_header(&g, 3, 0, 1);
    gb_kv_str(&g, "general.alignment", "32");
    EXPECT_BAD(&g, "general.alignment");
    gb_free(&g);
    gb_header(&g, 3, 0, 1);
    gb_kv_u32(&g, "general.alignment", 48);
    EXPECT_BAD(&g, "general.alignment");
    gb_free(&g);
    /* Arrays nested beyond the depth limit. */
    gb_header(&g, 3, 0, 1);
    gb_str(&g, "deep"); gb_u32(&g, 9);
    for (int i = 0; i < 20; i++) {
        gb_u32(&g, 9);
        gb_u64(&g, 1);
    }
    EXPECT_BAD(&g, "nested");
    gb_free(&g);
}

static void one_tensor(gb *g, const char *name, int n_dims, const uint64_t *ne, uint32_t type,
                       uint64_t offset, size_t data_bytes)
{
    gb_header(g, 3, 1, 0);
    gb_tensor(g, name, n_dims, ne, type, offset);
    size_t d = gb_data_start(g, 32);
    gb_pad_to(g, d + data_bytes);
}

TEST(gguf_bad_tensors)
{
    gb g = { 0 };
    uint64_t ne[4] = { 32, 2, 1, 1 };
    one_tensor(&g, "ok", 2, ne, 8, 0, 68);
    lb_gguf *f = NULL;
    lb_err err = { 0 };
    CHECK_MSG(lb_gguf_open_mem(g.b, g.len, &f, &err) == LB_OK, "%s", err.msg);
    lb_gguf_close(f);
    gb_free(&g);

    one_tensor(&g, "w", 2, ne, 8, 0, 67);             /* one byte short */
    EXPECT_BAD(&g, "tensor 'w'");
    gb_free(&g);
    one_tensor(&g, "w", 2, ne, 8, 1ull << 62, 68);    /* offset past the end */
    EXPECT_BAD(&g, "tensor 'w'");
    gb_free(&g);
    one_tensor(&g, "w", 2, ne, 8, 16, 200);           /* misaligned */
    EXPECT_BAD(&g, "alignment");
    gb_free(&g);
    one_tensor(&g, "w", 2, ne, 4, 0, 68);             /* removed type id 4 */
    EXPECT_BAD(&g, "unknown type id 4");
    gb_free(&g);
    one_tensor(&g, "w", 2, ne, 1000, 0, 68);
    EXPECT_BAD(&g, "unknown type id 1000");
    gb_free(&g);
    uint64_t huge[4] = { 1ull << 40, 1ull << 40, 1, 1 };
    one_tensor(&g, "w", 2, huge, 0, 0, 64);           /* absurd dims: product overflows */
    EXPECT_BAD(&g, "dim 1");
    gb_free(&g);
    uint64_t big[4] = { 1ull << 61, 1, 1, 1 };
    one_tensor(&g, "w", 1, big, 0, 0, 64);            /* byte size overflows */
    EXPECT_BAD(&g, "tensor 'w'");
    gb_free(&g);
    uint64_t zero[4] = { 32, 0, 1, 1 };
    one_tensor(&g, "w", 2, zero, 0, 0, 64);
    EXPECT_BAD(&g, "dim 1");
    gb_free(&g);
    uint64_t odd[4] = { 33, 1, 1, 1 };
    one_tensor(&g, "w", 1, odd, 8, 0, 64);            /* not a whole number of q8_0 blocks */
    EXPECT_BAD(&g, "block size");
    gb_free(&g);
    uint64_t five[5] = { 32, 1, 1, 1, 1 };
    one_tensor(&g, "w", 5, five, 0, 0, 64);
    EXPECT_BAD(&g, "n_dims");
    gb_free(&g);
    one_tensor(&g, "a-name-that-is-far-too-long-for-ggml-which-allows-sixty-three-bytes", 1, ne, 0, 0, 128);
    EXPECT_BAD(&g, "name of tensor 0");
    gb_free(&g);
    gb_header(&g, 3, 2, 0);
    gb_tensor(&g, "same", 1, ne, 0, 0);
    gb_tensor(&g, "same", 1, ne, 0, 128);
    gb_pad_to(&g, gb_data_start(&g, 32) + 256);
    EXPECT_BAD(&g, "duplicate tensor name 'same'");
    gb_free(&g);
}

TEST(gguf_vocab_only_without_padding)
{
    gb g = { 0 };
    gb_header(&g, 3, 0, 1);
    gb_kv_str(&g, "tokenizer.ggml.model", "llama");  /* ends unaligned, like real vocab files */
    lb_gguf *f = NULL;
    lb_err err = { 0 };
    CHECK_MSG(lb_gguf_open_mem(g.b, g.len, &f, &err) == LB_OK, "%s", err.msg);
    if (f) {
        CHECK_EQ(lb_gguf_n_tensors(f), 0);
        CHECK_EQ(lb_gguf_data_size(f), 0);
        lb_gguf_close(f);
    }
    gb_free(&g);
}

TEST(gguf_open_file_errors)
{
    lb_gguf *f = NULL;
    lb_err err = { 0 };
    CHECK_EQ(lb_gguf_open("/nonexistent/x.gguf", &f, &err), LB_ENOENT);
    char path[512];
    snprintf(path, sizeof path, "%s/short.gguf", lb_test_tmpdir());
    FILE *fp = fopen(path, "wb");
    CHECK(fp != NULL);
    if (!fp)
        return;
    fwrite("GGUF", 1, 4, fp);
    fclose(fp);
    CHECK_EQ(lb_gguf_open(path, &f, &err), LB_EFORMAT);
    CHECK(strstr(err.msg, path) != NULL);
    /* A good file written to disk opens through mmap too. */
    gb g = { 0 };
    build_good(&g, 3);
    fp = fopen(path, "wb");
    if (fp) {
        fwrite(g.b, 1, g.len, fp);
        fclose(fp);
    }
    CHECK_MSG(lb_gguf_open(path, &f, &err) == LB_OK, "%s", err.msg);
    if (f) {
        CHECK_EQ(lb_gguf_n_tensors(f), 2);
        CHECK_EQ(lb_gguf_file_size(f), g.len);
        lb_gguf_close(f);
    }
    gb_free(&g);
}

static void check_real_vocab(const char *rel, const char *model, int64_t n_tokens, const char *tok5)
{
    const char *path = lb_test_shared(rel);
    if (access(path, R_OK) != 0) {
        lb_test_fail(__FILE__, __LINE__, "shared test file missing: %s", path);
        return;
    }
    lb_gguf *f = NULL;
    lb_err err = { 0 };
    int rc = lb_gguf_open(path, &f, &err);
    CHECK_MSG(rc == LB_OK, "%s", err.msg);
    if (rc)
        return;
    CHECK_EQ(lb_gguf_n_tensors(f), 0);
    const char *s;
    size_t len;
    CHECK_EQ(lb_gguf_get_str(f, "tokenizer.ggml.model", &s, &len, &err), LB_OK);
    CHECK_STR(s, model);
    const lb_gguf_val *toks;
    uint64_t n = 0;
    CHECK_EQ(lb_gguf_get_arr(f, "tokenizer.ggml.tokens", LB_GGUF_STRING, &toks, &n, &err), LB_OK);
    CHECK_EQ(n, n_tokens);
    if (n > 5) {
        CHECK_EQ(lb_gguf_arr_str(toks, 5, &s, &len), LB_OK);
        CHECK(len == strlen(tok5) && !memcmp(s, tok5, len));
    }
    lb_gguf_close(f);
}

TEST(gguf_real_vocab_files)
{
    check_real_vocab("testdata/tokenizer/ggml-vocab-llama-spm.gguf", "llama", 32000, "<0x02>");
    check_real_vocab("testdata/tokenizer/ggml-vocab-gpt-2.gguf", "gpt2", 50257, "&");
}
