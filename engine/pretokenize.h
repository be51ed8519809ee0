/* Pre-tokenizers of byte-level BPE vocabularies: the regex splits that tokenizer.ggml.pre
 * names (gpt-2, llama3, qwen2, deepseek-*, falcon, starcoder, ...). Each regex of a
 * pre-tokenizer splits every fragment further, keeping both matches and the text between. */
#ifndef LB_PRETOKENIZE_H
#define LB_PRETOKENIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "pretokenize_regex.h"

typedef struct lb_pretok lb_pretok;

typedef struct lb_span {
    uint32_t start, len;  /* codepoint offsets */
} lb_span;

/* Per-call scratch space (tokenization is reentrant; nothing mutable lives in lb_pretok). */
typedef struct lb_pretok_scratch {
    lb_re_stack st;
    lb_span *a, *b;
    size_t cap_a, cap_b;
} lb_pretok_scratch;

/* name: tokenizer.ggml.pre (NULL or "" = "default"). Unknown names fall back to the default
 * pre-tokenizer with a warning; *known (may be NULL) tells which happened. */
int lb_pretok_new(const char *name, lb_pretok **out, bool *known, lb_err *err);
void lb_pretok_free(lb_pretok *p);
const char *lb_pretok_name(const lb_pretok *p);
/* Whole words that are a token skip the merges (llama3 family). */
bool lb_pretok_ignore_merges(const lb_pretok *p);
/* The pre-tokenizer's family adds BOS by default (when add_bos_token is not in the file). */
bool lb_pretok_add_bos(const lb_pretok *p);

/* The regexes, in the order they are applied (for cross-checks against other engines). */
int lb_pretok_patterns(const lb_pretok *p, const char *const **out);

/* Splits cps[0..n) into words; *words points into sc (valid until the next call). */
int lb_pretok_split(const lb_pretok *p, const uint32_t *cps, size_t n, lb_pretok_scratch *sc,
                    const lb_span **words, size_t *n_words, lb_err *err);
void lb_pretok_scratch_free(lb_pretok_scratch *sc);

#endif
