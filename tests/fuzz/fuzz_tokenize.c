/* Fuzzes tokenization of arbitrary bytes with every pre-tokenizer, the real SentencePiece
 * and GPT-2 vocabularies (from LLMBOX_SHARED, when present), streaming detokenization, stop
 * strings, and vocabulary loading from arbitrary GGUF bytes.
 * Input: byte 0 selects the mode and flags, the rest is the text (or the GGUF file). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf.h"
#include "log.h"
#include "sampler.h"
#include "tokenizer.h"
#include "vocab.h"

static const char *const k_pres[] = { "default", "gpt-2", "llama3", "qwen2", "deepseek-llm",
                                      "deepseek-coder", "deepseek-v3", "falcon", "starcoder",
                                      "refact", "mpt", "gpt-neox", "smollm", "tekken", "bloom",
                                      "viking", "chatglm-bpe" };
#define N_PRE (sizeof k_pres / sizeof k_pres[0])

static lb_vocab *g_bpe[N_PRE];
static lb_vocab *g_spm_tiny;
static lb_vocab *g_real[2];
static lb_gguf *g_real_gguf[2];

/* A byte-level vocabulary: all 256 byte stand-ins plus a few merges and specials. */
static lb_vocab *tiny_bpe(const char *pre)
{
    static char texts[256][4];
    static const char *toks[262];
    int32_t types[262];
    for (int b = 0; b < 256; b++) {
        int cp = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE) ? b : -1;
        if (cp < 0) {  /* same order as the GPT-2 mapping */
            static int next = 256, assigned[256];
            if (!assigned[b])
                assigned[b] = next++;
            cp = assigned[b];
        }
        if (cp < 0x80) {
            texts[b][0] = (char)cp;
        } else {
            texts[b][0] = (char)(0xC0 | (cp >> 6));
            texts[b][1] = (char)(0x80 | (cp & 0x3F));
        }
        toks[b] = texts[b];
        types[b] = 1;
    }
    toks[256] = "he"; toks[257] = "ll"; toks[258] = "hell"; toks[259] = "\xc4\xa0" "hell";
    toks[260] = "<|im_end|>"; toks[261] = "<tool>";
    for (int i = 256; i < 262; i++)
        types[i] = 1;
    types[260] = 3;
    types[261] = 4;
    static const char *merges[] = { "h e", "l l", "he ll", "\xc4\xa0 hell" };
    lb_vocab_spec s = lb_vocab_spec_default();
    s.model = "gpt2";
    s.pre = pre;
    s.n_tokens = 262;
    s.tokens = toks;
    s.types = types;
    s.n_merges = 4;
    s.merges = merges;
    lb_vocab *v = NULL;
    lb_err err = { 0 };
    if (lb_vocab_build(&s, &v, &err) < 0) {
        fprintf(stderr, "fuzz_tokenize: tiny bpe %s: %s\n", pre, err.msg);
        abort();
    }
    return v;
}

static lb_vocab *tiny_spm(void)
{
    static const char *toks[] = { "<unk>", "<s>", "</s>", "<0x41>", "\xe2\x96\x81", "a", "b",
                                  "\u2581a", "ab", "<|im_end|>" };
    static const float scores[] = { 0, 0, 0, 0, -1, -2, -2, -1, -1, 0 };
    static const int32_t types[] = { 2, 3, 3, 6, 1, 1, 1, 1, 1, 3 };
    lb_vocab_spec s = lb_vocab_spec_default();
    s.model = "llama";
    s.n_tokens = 10;
    s.tokens = toks;
    s.scores = scores;
    s.types = types;
    lb_vocab *v = NULL;
    lb_err err = { 0 };
    if (lb_vocab_build(&s, &v, &err) < 0)
        abort();
    return v;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    lb_log_set_level(LB_LOG_ERR);
    for (size_t i = 0; i < N_PRE; i++)
        g_bpe[i] = tiny_bpe(k_pres[i]);
    g_spm_tiny = tiny_spm();
    const char *shared = getenv("LLMBOX_SHARED");
    const char *names[2] = { "ggml-vocab-llama-spm.gguf", "ggml-vocab-gpt-2.gguf" };
    for (int i = 0; i < 2 && shared; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/testdata/tokenizer/%s", shared, names[i]);
        lb_err err = { 0 };
        if (lb_gguf_open(path, &g_real_gguf[i], &err) == 0 && lb_vocab_load(g_real_gguf[i], &g_real[i], &err) < 0)
            g_real[i] = NULL;
    }
    return 0;
}

static void exercise(const lb_vocab *v, const char *text, size_t len, bool bos, bool special)
{
    lb_err err = { 0 };
    int32_t ids[512];
    int n = lb_tokenize(v, text, len, bos, special, ids, 512, &err);
    if (n < 0)
        return;
    if (n > 512)
        n = 512;
    int nv = lb_vocab_n_tokens(v);
    lb_detok d;
    lb_detok_init(&d, v, special);
    const char *stops[] = { "ll", "\n\n", "<|im_end|>" };
    lb_stop *st = NULL;
    if (lb_stop_new(stops, 3, &st, &err) < 0)
        abort();
    char piece[300], out[400];
    for (int i = 0; i < n; i++) {
        if (ids[i] < 0 || ids[i] >= nv)
            abort();  /* the tokenizer must only produce valid ids */
        int k = lb_detok_push(&d, ids[i], piece, sizeof piece);
        int ol = 0;
        lb_stop_push(st, piece, k, out, sizeof out, &ol);
    }
    lb_detok_flush(&d, piece, sizeof piece);
    lb_stop_flush(st, out, sizeof out);
    lb_stop_free(st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t mode = data[0];
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    bool bos = mode & 1, special = mode & 2;
    switch ((mode >> 2) % 4) {
    case 0:
        exercise(g_bpe[(mode >> 4) % N_PRE], text, len, bos, special);
        break;
    case 1:
        exercise(g_spm_tiny, text, len, bos, special);
        break;
    case 2:
        for (int i = 0; i < 2; i++)
            if (g_real[i])
                exercise(g_real[i], text, len, bos, special);
        break;
    default: {
        lb_gguf *g = NULL;
        lb_vocab *v = NULL;
        lb_err err = { 0 };
        if (lb_gguf_open_mem(text, len, &g, &err) == 0 && lb_vocab_load(g, &v, &err) == 0)
            exercise(v, "Hello <|im_end|> world 123", 26, true, true);
        lb_vocab_free(v);
        lb_gguf_close(g);
        break;
    }
    }
    return 0;
}
