/* lb_vocab_load: reads tokenizer.ggml.* from a GGUF file and builds the vocabulary.
 * Missing or inconsistent metadata is reported by key name. */
#include <stdlib.h>
#include <string.h>

#include "gguf.h"
#include "vocab_impl.h"

static int get_id(const lb_gguf *g, const char *key, int32_t *out, lb_err *err)
{
    int64_t v;
    const lb_gguf_val *val = lb_gguf_find(g, key);
    if (!val)
        return LB_OK;  /* keep the default */
    if (lb_gguf_val_i64(val, &v) < 0 || v < -1 || v > INT32_MAX)
        return lb_err_set(err, LB_EFORMAT, "vocab: %s is not a token id", key);
    *out = (int32_t)v;
    return LB_OK;
}

static int get_flag(const lb_gguf *g, const char *key, int *out, lb_err *err)
{
    bool b;
    const lb_gguf_val *val = lb_gguf_find(g, key);
    if (!val)
        return LB_OK;
    if (lb_gguf_val_bool(val, &b) < 0)
        return lb_err_set(err, LB_EFORMAT, "vocab: %s is not a bool", key);
    *out = b;
    return LB_OK;
}

/* String array → pointers and lengths into the file. */
static int get_strings(const lb_gguf *g, const char *key, const char ***s, size_t **lens,
                       uint64_t *n, lb_err *err)
{
    const lb_gguf_val *arr;
    int rc = lb_gguf_get_arr(g, key, LB_GGUF_STRING, &arr, n, err);
    if (rc < 0)
        return rc;
    if (*n > (1u << 24))
        return lb_err_set(err, LB_ELIMIT, "vocab: %s has too many entries (%llu)", key,
                          (unsigned long long)*n);
    *s = malloc((*n ? *n : 1) * sizeof **s);
    *lens = malloc((*n ? *n : 1) * sizeof **lens);
    if (!*s || !*lens)
        return lb_err_set(err, LB_ENOMEM, "vocab: out of memory");
    for (uint64_t i = 0; i < *n; i++)
        if (lb_gguf_arr_str(arr, i, &(*s)[i], &(*lens)[i]) < 0)
            return lb_err_set(err, LB_EFORMAT, "vocab: %s[%llu] unreadable", key, (unsigned long long)i);
    return LB_OK;
}

int lb_vocab_load(const lb_gguf *g, lb_vocab **out, lb_err *err)
{
    *out = NULL;
    lb_vocab_spec s = lb_vocab_spec_default();
    const char **tokens = NULL, **merges = NULL;
    size_t *token_lens = NULL, *merge_lens = NULL;
    float *scores = NULL;
    int32_t *types = NULL;
    uint64_t n = 0, nm = 0;
    int rc;
    size_t slen;

    if ((rc = lb_gguf_get_str(g, "tokenizer.ggml.model", &s.model, &slen, err)) < 0)
        goto out;
    const lb_gguf_val *pre = lb_gguf_find(g, "tokenizer.ggml.pre");
    if (pre && lb_gguf_val_str(pre, &s.pre, &slen) < 0) {
        rc = lb_err_set(err, LB_EFORMAT, "vocab: tokenizer.ggml.pre is not a string");
        goto out;
    }
    const lb_gguf_val *name = lb_gguf_find(g, "general.name");
    if (name && lb_gguf_val_str(name, &s.name, &slen) < 0)
        s.name = NULL;
    if ((rc = get_strings(g, "tokenizer.ggml.tokens", &tokens, &token_lens, &n, err)) < 0)
        goto out;
    if (n == 0 || n > INT32_MAX) {
        rc = lb_err_set(err, LB_EFORMAT, "vocab: tokenizer.ggml.tokens is empty");
        goto out;
    }
    s.n_tokens = (int)n;
    s.tokens = tokens;
    s.token_lens = token_lens;

    const lb_gguf_val *arr = lb_gguf_find(g, "tokenizer.ggml.scores");
    if (arr) {
        if (lb_gguf_arr_len(arr) != n || lb_gguf_arr_type(arr) == LB_GGUF_TYPE_COUNT) {
            rc = lb_err_set(err, LB_EFORMAT, "vocab: tokenizer.ggml.scores has %llu entries, "
                            "tokens %llu", (unsigned long long)lb_gguf_arr_len(arr), (unsigned long long)n);
            goto out;
        }
        if (!(scores = malloc(n * sizeof *scores))) {
            rc = lb_err_set(err, LB_ENOMEM, "vocab: out of memory");
            goto out;
        }
        for (uint64_t i = 0; i < n; i++)
            if (lb_gguf_arr_f32(arr, i, &scores[i]) < 0) {
                rc = lb_err_set(err, LB_EFORMAT, "vocab: tokenizer.ggml.scores[%llu] is not a number",
                                (unsigned long long)i);
                goto out;
            }
        s.scores = scores;
    }
    arr = lb_gguf_find(g, "tokenizer.ggml.token_type");
    if (arr) {
        if (lb_gguf_arr_len(arr) != n || lb_gguf_arr_type(arr) == LB_GGUF_TYPE_COUNT) {
            rc = lb_err_set(err, LB_EFORMAT, "vocab: tokenizer.ggml.token_type has %llu entries, "
                            "tokens %llu", (unsigned long long)lb_gguf_arr_len(arr), (unsigned long long)n);
            goto out;
        }
        if (!(types = malloc(n * sizeof *types))) {
            rc = lb_err_set(err, LB_ENOMEM, "vocab: out of memory");
            goto out;
        }
        for (uint64_t i = 0; i < n; i++) {
            int64_t t;
            if (lb_gguf_arr_i64(arr, i, &t) < 0 || t < 0 || t > 6) {
                rc = lb_err_set(err, LB_EFORMAT, "vocab: tokenizer.ggml.token_type[%llu] is invalid",
                                (unsigned long long)i);
                goto out;
            }
            types[i] = (int32_t)t;
        }
        s.types = types;
    }
    if (lb_gguf_find(g, "tokenizer.ggml.merges")) {
        if ((rc = get_strings(g, "tokenizer.ggml.merges", &merges, &merge_lens, &nm, err)) < 0)
            goto out;
        if (nm > INT32_MAX) {
            rc = lb_err_set(err, LB_ELIMIT, "vocab: too many merges");
            goto out;
        }
        s.n_merges = (int)nm;
        s.merges = merges;
        s.merge_lens = merge_lens;
    }
    if ((rc = get_id(g, "tokenizer.ggml.bos_token_id", &s.bos, err)) < 0 ||
        (rc = get_id(g, "tokenizer.ggml.eos_token_id", &s.eos, err)) < 0 ||
        (rc = get_id(g, "tokenizer.ggml.unknown_token_id", &s.unk, err)) < 0 ||
        (rc = get_id(g, "tokenizer.ggml.eot_token_id", &s.eot, err)) < 0 ||
        (rc = get_id(g, "tokenizer.ggml.eom_token_id", &s.eom, err)) < 0 ||
        (rc = get_id(g, "tokenizer.ggml.padding_token_id", &s.pad, err)) < 0 ||
        (rc = get_flag(g, "tokenizer.ggml.add_bos_token", &s.add_bos, err)) < 0 ||
        (rc = get_flag(g, "tokenizer.ggml.add_eos_token", &s.add_eos, err)) < 0 ||
        (rc = get_flag(g, "tokenizer.ggml.add_space_prefix", &s.add_space_prefix, err)) < 0)
        goto out;
    rc = lb_vocab_build(&s, out, err);
out:
    free(tokens);
    free(token_lens);
    free(merges);
    free(merge_lens);
    free(scores);
    free(types);
    return rc;
}
