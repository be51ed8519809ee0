/* Tokenizer acceptance (every case of shared/testdata/tokenizer/X.gguf.inp against .out),
 * behaviour on small in-memory vocabularies, and malformed metadata. */
#include "../lib/gguf_builder.h"
#include "../lib/harness.h"
#include "gguf.h"
#include "unicode.h"
#include "vocab.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *b = NULL;
    if (fseek(f, 0, SEEK_END) == 0) {
        long len = ftell(f);
        rewind(f);
        b = malloc((size_t)len + 1);
        if (b && fread(b, 1, (size_t)len, f) == (size_t)len) {
            b[len] = 0;
            *n = (size_t)len;
        } else {
            free(b);
            b = NULL;
        }
    }
    fclose(f);
    return b;
}

/* Runs every case of NAME.gguf.inp; returns the number of failures (cases in *n_cases). */
static int run_cases(const char *name, int *n_cases)
{
    char rel[256];
    snprintf(rel, sizeof rel, "testdata/tokenizer/%s.gguf", name);
    char path[1024], pin[1100], pout[1100];
    snprintf(path, sizeof path, "%s", lb_test_shared(rel));
    snprintf(pin, sizeof pin, "%s.inp", path);
    snprintf(pout, sizeof pout, "%s.out", path);
    lb_err err = { 0 };
    lb_gguf *g = NULL;
    lb_vocab *v = NULL;
    size_t ni = 0, no = 0;
    char *inp = slurp(pin, &ni), *outp = slurp(pout, &no);
    int fails = 0;
    *n_cases = 0;
    if (!inp || !outp) {
        lb_test_fail(__FILE__, __LINE__, "cannot read %s(.inp/.out)", path);
        fails = 1;
        goto out;
    }
    if (lb_gguf_open(path, &g, &err) < 0 || lb_vocab_load(g, &v, &err) < 0) {
        lb_test_fail(__FILE__, __LINE__, "%s: %s", path, err.msg);
        fails = 1;
        goto out;
    }
    /* Cases are separated by lines "__ggml_vocab_test__"; a case's text excludes the newline
     * before the separator. The .out file has one line of ids (each preceded by a space). */
    const char *sep = "\n__ggml_vocab_test__\n";
    char *cur = inp, *line = outp;
    for (;;) {
        char *end = strstr(cur, sep);
        if (!end)
            break;
        *end = 0;
        char *eol = strchr(line, '\n');
        if (!eol) {
            lb_test_fail(__FILE__, __LINE__, "%s: fewer expected lines than cases", name);
            fails++;
            break;
        }
        *eol = 0;
        int32_t ids[8192];
        int n = lb_tokenize(v, cur, strlen(cur), false, false, ids, 8192, &err);
        char got[65536];
        size_t w = 0;
        got[0] = 0;
        for (int i = 0; i < n && w + 16 < sizeof got; i++)
            w += (size_t)snprintf(got + w, sizeof got - w, " %d", ids[i]);
        (*n_cases)++;
        if (n < 0 || strcmp(got, line) != 0) {
            fails++;
            lb_test_fail(__FILE__, __LINE__, "%s case %d \"%.40s\": got\"%.200s\" want\"%.200s\"",
                         name, *n_cases, cur, got, line);
        }
        cur = end + strlen(sep);
        line = eol + 1;
    }
    if (*cur)
        fails++, lb_test_fail(__FILE__, __LINE__, "%s: trailing text after the last separator", name);
out:
    lb_vocab_free(v);
    lb_gguf_close(g);
    free(inp);
    free(outp);
    return fails;
}

TEST(llama_spm_all_cases)
{
    int n = 0;
    CHECK_EQ(run_cases("ggml-vocab-llama-spm", &n), 0);
    CHECK(n >= 40);
}

TEST(gpt2_bpe_all_cases)
{
    int n = 0;
    CHECK_EQ(run_cases("ggml-vocab-gpt-2", &n), 0);
    CHECK(n >= 40);
}

static lb_vocab *load_shared(const char *name, lb_gguf **g)
{
    char rel[256];
    snprintf(rel, sizeof rel, "testdata/tokenizer/%s.gguf", name);
    lb_err err = { 0 };
    lb_vocab *v = NULL;
    *g = NULL;
    if (lb_gguf_open(lb_test_shared(rel), g, &err) < 0 || lb_vocab_load(*g, &v, &err) < 0)
        lb_test_fail(__FILE__, __LINE__, "%s: %s", rel, err.msg);
    return v;
}

static void detok_all(const lb_vocab *v, const int32_t *ids, int n, char *out, size_t cap)
{
    lb_detok d;
    lb_detok_init(&d, v, false);
    size_t w = 0;
    char piece[64];
    for (int i = 0; i < n; i++) {
        int k = lb_detok_push(&d, ids[i], piece, sizeof piece);
        if (w + (size_t)k < cap)
            memcpy(out + w, piece, (size_t)k), w += (size_t)k;
    }
    int k = lb_detok_flush(&d, piece, sizeof piece);
    if (w + (size_t)k < cap)
        memcpy(out + w, piece, (size_t)k), w += (size_t)k;
    out[w] = 0;
}

TEST(roundtrip_and_bos_both_vocabs)
{
    const char *texts[] = { "Hello world", " leading space", "Ünïcödé ½ 🚀 日本語\n\ttabs",
                            "3333333 digits, 'quotes' and <tags>" };
    const char *names[] = { "ggml-vocab-llama-spm", "ggml-vocab-gpt-2" };
    for (int k = 0; k < 2; k++) {
        lb_gguf *g;
        lb_vocab *v = load_shared(names[k], &g);
        if (!v)
            continue;
        lb_err err = { 0 };
        for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
            int32_t ids[256];
            bool spm = k == 0;
            int n = lb_tokenize(v, texts[i], strlen(texts[i]), spm, false, ids, 256, &err);
            CHECK(n > 0);
            if (spm)
                CHECK_EQ(ids[0], lb_vocab_bos(v));
            char back[512];
            detok_all(v, ids, n, back, sizeof back);
            CHECK_STR(back, texts[i]);
        }
        CHECK(lb_vocab_add_bos(v) == (k == 0));
        CHECK_STR(lb_vocab_model_name(v), k == 0 ? "llama" : "gpt2");
        lb_vocab_free(v);
        lb_gguf_close(g);
    }
}

TEST(capacity_and_count)
{
    lb_gguf *g;
    lb_vocab *v = load_shared("ggml-vocab-gpt-2", &g);
    if (!v)
        return;
    lb_err err = { 0 };
    int32_t ids[2] = { -7, -7 };
    int n = lb_tokenize(v, "Hello world and more words", 26, false, false, ids, 1, &err);
    CHECK_EQ(n, 5);
    CHECK_EQ(ids[0], 15496);
    CHECK_EQ(ids[1], -7);  /* nothing beyond cap */
    CHECK_EQ(lb_tokenize(v, "", 0, false, false, ids, 2, &err), 0);
    CHECK_EQ(lb_tokenize(v, "x", 1, false, false, NULL, 0, &err), 1);
    char buf[8];
    CHECK(lb_token_to_piece(v, 50257, true, buf, 8) < 0);
    CHECK(lb_token_to_piece(v, -1, true, buf, 8) < 0);
    /* <|endoftext|> is a control token: only matched with parse_special, printed if special */
    n = lb_tokenize(v, "<|endoftext|>", 13, false, true, ids, 2, &err);
    CHECK_EQ(n, 1);
    CHECK_EQ(ids[0], 50256);
    CHECK(lb_tokenize(v, "<|endoftext|>", 13, false, false, ids, 2, &err) > 1);
    CHECK_EQ(lb_token_to_piece(v, 50256, false, buf, 8), 0);
    CHECK_EQ(lb_token_to_piece(v, 50256, true, buf, 8), 13);  /* needs 13, wrote 8 */
    CHECK(lb_vocab_is_eog(v, 50256));
    CHECK(!lb_vocab_is_eog(v, 15496));
    lb_vocab_free(v);
    lb_gguf_close(g);
}

/* ---- small in-memory vocabularies ---- */

/* SPM: <unk> <s> </s>, byte tokens for a few bytes, pieces with scores, a control token
 * and a user-defined one. */
static lb_vocab *tiny_spm(void)
{
    static const char *toks[] = { "<unk>", "<s>", "</s>", "<0xF0>", "<0x9F>", "<0x98>", "<0x80>",
                                  "\xe2\x96\x81", "h", "i", "\xe2\x96\x81h", "\xe2\x96\x81hi", "<|im_end|>",
                                  "<tool>", "a" };
    static const float scores[] = { 0, 0, 0, 0, 0, 0, 0, -1, -2, -2, -3, -1, 0, 0, -5 };
    static const int32_t types[] = { 2, 3, 3, 6, 6, 6, 6, 1, 1, 1, 1, 1, 3, 4, 1 };
    lb_vocab_spec s = lb_vocab_spec_default();
    s.model = "llama";
    s.n_tokens = 15;
    s.tokens = toks;
    s.scores = scores;
    s.types = types;
    lb_vocab *v = NULL;
    lb_err err = { 0 };
    if (lb_vocab_build(&s, &v, &err) < 0)
        lb_test_fail(__FILE__, __LINE__, "build: %s", err.msg);
    return v;
}

static int tok(const lb_vocab *v, const char *text, bool bos, bool special, int32_t *ids)
{
    lb_err err = { 0 };
    return lb_tokenize(v, text, strlen(text), bos, special, ids, 64, &err);
}

TEST(spm_merges_byte_fallback_specials)
{
    lb_vocab *v = tiny_spm();
    if (!v)
        return;
    int32_t ids[64];
    /* " hi" → "▁hi" (space prefix added), BOS first */
    CHECK_EQ(tok(v, "hi", true, false, ids), 2);
    CHECK_EQ(ids[0], 1);
    CHECK_EQ(ids[1], 11);
    /* 😀 = F0 9F 98 80: not a token, falls back to bytes */
    CHECK_EQ(tok(v, "\xf0\x9f\x98\x80", false, false, ids), 5);
    CHECK_EQ(ids[0], 7);
    CHECK_EQ(ids[1], 3);
    CHECK_EQ(ids[4], 6);
    /* unknown byte without a byte token → <unk> */
    CHECK_EQ(tok(v, "z", false, false, ids), 2);
    CHECK_EQ(ids[1], 0);
    /* control token only with parse_special; a space is prefixed after it */
    CHECK_EQ(tok(v, "<|im_end|>hi", false, true, ids), 2);
    CHECK_EQ(ids[0], 12);
    CHECK_EQ(ids[1], 11);
    CHECK(tok(v, "<|im_end|>", false, false, ids) > 1);
    for (int i = 0, n = tok(v, "<|im_end|>", false, false, ids); i < n; i++)
        CHECK(ids[i] != 12);
    /* user-defined tokens are matched even without parse_special */
    int n = tok(v, "a<tool>", false, false, ids);
    CHECK_EQ(n, 3);
    CHECK_EQ(ids[2], 13);
    CHECK(lb_vocab_is_eog(v, 2));
    CHECK(lb_vocab_is_eog(v, 12));
    CHECK(!lb_vocab_is_eog(v, 11));
    lb_vocab_free(v);
}

TEST(streaming_detok_holds_partial_utf8)
{
    lb_vocab *v = tiny_spm();
    if (!v)
        return;
    lb_detok d;
    lb_detok_init(&d, v, false);
    char out[64];
    CHECK_EQ(lb_detok_push(&d, 1, out, sizeof out), 0);   /* BOS prints nothing */
    CHECK_EQ(lb_detok_push(&d, 11, out, sizeof out), 2);  /* "▁hi" after BOS → "hi" */
    CHECK_STR(out, "hi");
    CHECK_EQ(lb_detok_push(&d, 7, out, sizeof out), 1);   /* "▁" → " " */
    CHECK_EQ(lb_detok_push(&d, 3, out, sizeof out), 0);   /* F0: held */
    CHECK_EQ(lb_detok_push(&d, 4, out, sizeof out), 0);   /* 9F: held */
    CHECK_EQ(lb_detok_push(&d, 5, out, sizeof out), 0);   /* 98: held */
    CHECK_EQ(lb_detok_push(&d, 6, out, sizeof out), 4);   /* 80 completes 😀 */
    CHECK_STR(out, "\xf0\x9f\x98\x80");
    CHECK_EQ(lb_detok_push(&d, 3, out, sizeof out), 0);
    CHECK_EQ(lb_detok_flush(&d, out, sizeof out), 3);     /* incomplete → U+FFFD */
    CHECK_STR(out, "\xef\xbf\xbd");
    /* a broken sequence followed by text: the bad byte becomes U+FFFD, the text follows */
    CHECK_EQ(lb_detok_push(&d, 3, out, sizeof out), 0);
    CHECK_EQ(lb_detok_push(&d, 14, out, sizeof out), 4);
    CHECK_STR(out, "\xef\xbf\xbd" "a");
    /* control tokens: nothing unless special */
    CHECK_EQ(lb_detok_push(&d, 12, out, sizeof out), 0);
    lb_detok_init(&d, v, true);
    CHECK_EQ(lb_detok_push(&d, 12, out, sizeof out), 10);
    CHECK_STR(out, "<|im_end|>");
    lb_vocab_free(v);
}

/* BPE over the byte alphabet: a-c plus "Ġ" (space), merges "a b", "ab c", "Ġ ab". */
static lb_vocab *tiny_bpe(const char *pre, lb_err *err)
{
    static const char *toks[] = { "a", "b", "c", "\xc4\xa0", "ab", "abc", "\xc4\xa0" "ab", "1", "2",
                                  "<|eot|>" };
    static const int32_t types[] = { 1, 1, 1, 1, 1, 1, 1, 1, 1, 3 };
    static const char *merges[] = { "a b", "ab c", "\xc4\xa0 ab" };
    lb_vocab_spec s = lb_vocab_spec_default();
    s.model = "gpt2";
    s.pre = pre;
    s.n_tokens = 10;
    s.tokens = toks;
    s.types = types;
    s.n_merges = 3;
    s.merges = merges;
    lb_vocab *v = NULL;
    if (lb_vocab_build(&s, &v, err) < 0)
        return NULL;
    return v;
}

TEST(bpe_rank_order_and_digits)
{
    lb_err err = { 0 };
    lb_vocab *v = tiny_bpe("gpt-2", &err);
    CHECK_MSG(v != NULL, "%s", err.msg);
    if (!v)
        return;
    int32_t ids[64];
    CHECK_EQ(tok(v, "abc", false, false, ids), 1);
    CHECK_EQ(ids[0], 5);
    /* " abc": "a b" first (rank 0), then "ab c" (rank 1) before "Ġ ab" (rank 2) → Ġ abc */
    CHECK_EQ(tok(v, " abc", false, false, ids), 2);
    CHECK_EQ(ids[0], 3);
    CHECK_EQ(ids[1], 5);
    CHECK_EQ(tok(v, " ab", false, false, ids), 1);
    CHECK_EQ(ids[0], 6);
    /* characters with no token are dropped (no byte fallback in byte-level BPE vocabularies
     * that lack them) */
    CHECK_EQ(tok(v, "z", false, false, ids), 0);
    CHECK_EQ(lb_vocab_bos(v), -1);
    CHECK(!lb_vocab_add_bos(v));
    lb_vocab_free(v);
}

/* ---- pre-tokenizers ---- */

#include "pretokenize.h"

/* Splits text with pre-tokenizer name; writes words joined by '|' into out. */
static void split_words(const char *pre, const char *text, char *out, size_t cap)
{
    lb_pretok *p = NULL;
    lb_err err = { 0 };
    out[0] = 0;
    bool known = false;
    if (lb_pretok_new(pre, &p, &known, &err) < 0) {
        lb_test_fail(__FILE__, __LINE__, "%s: %s", pre, err.msg);
        return;
    }
    if (!known)
        lb_test_fail(__FILE__, __LINE__, "pre-tokenizer %s unknown", pre);
    size_t len = strlen(text), n = 0;
    uint32_t *cps = malloc((len + 1) * sizeof *cps);
    for (size_t i = 0; i < len;)
        cps[n++] = lb_utf8_decode(text, len, &i);
    lb_pretok_scratch sc = { 0 };
    const lb_span *w;
    size_t nw;
    if (lb_pretok_split(p, cps, n, &sc, &w, &nw, &err) == 0) {
        size_t o = 0;
        for (size_t k = 0; k < nw; k++) {
            if (k && o + 1 < cap)
                out[o++] = '|';
            for (uint32_t j = 0; j < w[k].len && o + 5 < cap; j++)
                o += (size_t)lb_utf8_encode(cps[w[k].start + j], out + o);
        }
        out[o] = 0;
    }
    lb_pretok_scratch_free(&sc);
    free(cps);
    lb_pretok_free(p);
}

#define CHECK_SPLIT(pre, text, want)                     \
    do {                                                 \
        char got_[1024];                                 \
        split_words(pre, text, got_, sizeof got_);       \
        CHECK_STR(got_, want);                           \
    } while (0)

TEST(pretokenizer_variants)
{
    CHECK_SPLIT("gpt-2", "Hello world's 12345  x\n", "Hello| world|'s| 12345| | x|\n");
    CHECK_SPLIT("llama3", "I'VE 1234567 ok\n\n  hi", "I|'VE| |123|456|7| ok|\n\n| | hi");
    CHECK_SPLIT("qwen2", "ab 123!!\n", "ab| |1|2|3|!!\n");
    CHECK_SPLIT("starcoder", "x 123", "x| |1|2|3");
    CHECK_SPLIT("refact", "x 123", "x| |1|2|3");
    CHECK_SPLIT("falcon", "a+b 12345", "a|+|b| |123|45");
    CHECK_SPLIT("default", "a+b 12345", "a|+|b| |123|45");
    CHECK_SPLIT("deepseek-coder", "foo(1)\n中文", "foo|(|1|)|\n|中文");
    CHECK_SPLIT("deepseek-llm", "Hi, 世界 12\n", "Hi|,| |世界| |12|\n");
    CHECK_SPLIT("mpt", "can't stop", "can|'t| stop");
    CHECK_SPLIT("gpt-neox", "can't stop", "can|'t| stop");
    CHECK_SPLIT("smollm", "v2.0", "v|2|.|0");
    /* non-ASCII categories: letters with diacritics, Arabic-Indic digits, CJK, NBSP */
    CHECK_SPLIT("gpt-2", "Ünïcödé ٣٤ 日本", "Ünïcödé| ٣٤| 日本");
    CHECK_SPLIT("llama3", "x\xc2\xa0y", "x|\xc2\xa0y");
    CHECK_SPLIT("qwen2", "über—cool", "über|—cool");
}

TEST(unicode_categories)
{
    CHECK_EQ(lb_unicode_cat('a'), LB_UCAT_L);
    CHECK_EQ(lb_unicode_cat(0x00E9), LB_UCAT_L);   /* é */
    CHECK_EQ(lb_unicode_cat(0x4E2D), LB_UCAT_L);   /* 中 */
    CHECK_EQ(lb_unicode_cat(0x0663), LB_UCAT_N);   /* ٣ */
    CHECK_EQ(lb_unicode_cat(0x00BD), LB_UCAT_N);   /* ½ */
    CHECK_EQ(lb_unicode_cat(0x2014), LB_UCAT_P);   /* — */
    CHECK_EQ(lb_unicode_cat('$'), LB_UCAT_S);
    CHECK_EQ(lb_unicode_cat(0x0301), LB_UCAT_M);   /* combining acute */
    CHECK_EQ(lb_unicode_cat(0x1F680), LB_UCAT_S);  /* 🚀 */
    CHECK_EQ(lb_unicode_cat(0x10FFFF), LB_UCAT_C);
    CHECK(lb_unicode_is_space(0x3000) && lb_unicode_is_space('\t') && !lb_unicode_is_space(0x200B));
    CHECK(lb_utf8_valid("\xe2\x96\x81", 3));
    CHECK(!lb_utf8_valid("\xc0\x80", 2));      /* overlong */
    CHECK(!lb_utf8_valid("\xed\xa0\x80", 3));  /* surrogate */
    CHECK_EQ(lb_utf8_complete_prefix("ab\xe2\x96", 4), 2);
    CHECK_EQ(lb_utf8_complete_prefix("ab\xe2\x96\x81", 5), 5);
}

/* ---- malformed metadata ---- */

TEST(malformed_vocab_specs)
{
    static const char *toks[] = { "a", "b", "\xff\xfe", "ab" };
    static const char *bad_merge[] = { "a zz" };
    static const char *no_space[] = { "ab" };
    lb_err err = { 0 };
    lb_vocab *v = NULL;
    lb_vocab_spec s = lb_vocab_spec_default();
    s.model = "llama";
    s.n_tokens = 4;
    s.tokens = toks;
    CHECK_EQ(lb_vocab_build(&s, &v, &err), LB_EFORMAT);
    CHECK(strstr(err.msg, "UTF-8") != NULL);
    CHECK(v == NULL);
    static const char *good[] = { "a", "b", "ab", "c" };
    s.tokens = good;
    s.model = "gpt2";
    CHECK_EQ(lb_vocab_build(&s, &v, &err), LB_EFORMAT);  /* no merges */
    CHECK(strstr(err.msg, "merges") != NULL);
    s.n_merges = 1;
    s.merges = bad_merge;
    CHECK_EQ(lb_vocab_build(&s, &v, &err), LB_EFORMAT);
    CHECK(strstr(err.msg, "unknown token") != NULL);
    s.merges = no_space;
    CHECK_EQ(lb_vocab_build(&s, &v, &err), LB_EFORMAT);
    CHECK(strstr(err.msg, "no space") != NULL);
    s.model = "bert";
    CHECK_EQ(lb_vocab_build(&s, &v, &err), LB_ENOTSUP);
    s.model = "llama";
    s.bos = 99;
    CHECK_EQ(lb_vocab_build(&s, &v, &err), LB_EFORMAT);
    CHECK(strstr(err.msg, "bos") != NULL);
    s.bos = LB_VOCAB_ID_DEFAULT;
    static const int32_t bad_types[] = { 1, 1, 9, 1 };
    s.types = bad_types;
    CHECK_EQ(lb_vocab_build(&s, &v, &err), LB_EFORMAT);
    s.types = NULL;
    s.n_tokens = 0;
    CHECK_EQ(lb_vocab_build(&s, &v, &err), LB_EFORMAT);
    CHECK(v == NULL);
}

/* GGUF with tokenizer metadata; which: 0 good, 1 no tokens, 2 scores length mismatch,
 * 3 types length mismatch, 4 no model, 5 tokens not strings. */
static void build_gguf(gb *g, int which)
{
    int n_kv = which == 4 ? 3 : 4;
    gb_header(g, 3, 0, (uint64_t)n_kv);
    if (which != 4)
        gb_kv_str(g, "tokenizer.ggml.model", "llama");
    if (which == 1) {
        gb_kv_u32(g, "tokenizer.ggml.bos_token_id", 1);
    } else if (which == 5) {
        gb_kv_arr(g, "tokenizer.ggml.tokens", 4, 3);
        gb_u32(g, 1), gb_u32(g, 2), gb_u32(g, 3);
    } else {
        gb_kv_arr(g, "tokenizer.ggml.tokens", 8, 3);
        gb_str(g, "<unk>"), gb_str(g, "<s>"), gb_str(g, "</s>");
    }
    gb_kv_arr(g, "tokenizer.ggml.scores", 6, which == 2 ? 2 : 3);
    for (int i = 0; i < (which == 2 ? 2 : 3); i++)
        gb_f32(g, 0);
    gb_kv_arr(g, "tokenizer.ggml.token_type", 5, which == 3 ? 4 : 3);
    for (int i = 0; i < (which == 3 ? 4 : 3); i++)
        gb_u32(g, i == 0 ? 2 : 3);
}

TEST(malformed_gguf_metadata)
{
    const char *want[] = { NULL, "tokenizer.ggml.tokens", "scores", "token_type", "tokenizer.ggml.model",
                           "tokenizer.ggml.tokens" };
    for (int which = 0; which < 6; which++) {
        gb b = { 0 };
        build_gguf(&b, which);
        lb_gguf *g = NULL;
        lb_vocab *v = NULL;
        lb_err err = { 0 };
        int rc = lb_gguf_open_mem(b.b, b.len, &g, &err);
        CHECK_MSG(rc == 0, "case %d open: %s", which, err.msg);
        if (rc == 0) {
            rc = lb_vocab_load(g, &v, &err);
            if (which == 0) {
                CHECK_MSG(rc == 0 && v && lb_vocab_n_tokens(v) == 3, "good: %s", err.msg);
            } else {
                CHECK_MSG(rc < 0 && !v, "case %d accepted", which);
                CHECK_MSG(strstr(err.msg, want[which]) != NULL, "case %d: %s", which, err.msg);
            }
        }
        lb_vocab_free(v);
        lb_gguf_close(g);
        free(b.b);
    }
}

/* llama3-family pre-tokenizers take a whole word that is a token without merging. */
TEST(ignore_merges_for_llama3)
{
    static const char *toks[] = { "a", "b", "c", "bc", "abc" };
    static const char *merges[] = { "b c" };
    lb_vocab_spec s = lb_vocab_spec_default();
    s.model = "gpt2";
    s.n_tokens = 5;
    s.tokens = toks;
    s.n_merges = 1;
    s.merges = merges;
    int32_t ids[8];
    lb_err err = { 0 };
    const char *pres[] = { "gpt-2", "llama-bpe" };
    for (int k = 0; k < 2; k++) {
        s.pre = pres[k];
        lb_vocab *v = NULL;
        CHECK_EQ(lb_vocab_build(&s, &v, &err), 0);
        if (!v)
            continue;
        int n = lb_tokenize(v, "abc", 3, false, false, ids, 8, &err);
        if (k == 0) {
            CHECK_EQ(n, 2);  /* a + bc: no merge makes "abc" */
            CHECK_EQ(ids[1], 3);
        } else {
            CHECK_EQ(n, 1);
            CHECK_EQ(ids[0], 4);
            CHECK(lb_vocab_add_bos(v) == false);  /* no BOS token in this vocabulary */
        }
        lb_vocab_free(v);
    }
}

/* A piece longer than any fixed buffer still streams out whole. */
TEST(detok_long_piece)
{
    char big[2001];
    memset(big, 'x', 2000);
    big[2000] = 0;
    const char *toks[] = { "<unk>", "<s>", "</s>", big };
    lb_vocab_spec s = lb_vocab_spec_default();
    s.model = "llama";
    s.n_tokens = 4;
    s.tokens = toks;
    lb_vocab *v = NULL;
    lb_err err = { 0 };
    CHECK_EQ(lb_vocab_build(&s, &v, &err), 0);
    if (!v)
        return;
    lb_detok d;
    lb_detok_init(&d, v, false);
    char *out = malloc(4096);
    CHECK_EQ(lb_detok_push(&d, 3, out, 4096), 2000);
    CHECK_EQ(strlen(out), 2000);
    free(out);
    lb_vocab_free(v);
}
