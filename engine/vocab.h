/* Vocabulary: tokens, scores, types and merges from GGUF metadata (tokenizer.ggml.*), or
 * built from arrays in memory (tests, fuzzing). The tokenizer API is in tokenizer.h. */
#ifndef LB_VOCAB_H
#define LB_VOCAB_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "tokenizer.h"

#include "gguf.h"

/* tokenizer.ggml.token_type values */
enum lb_token_type {
    LB_TOKEN_UNDEFINED = 0,
    LB_TOKEN_NORMAL = 1,
    LB_TOKEN_UNKNOWN = 2,
    LB_TOKEN_CONTROL = 3,
    LB_TOKEN_USER_DEFINED = 4,
    LB_TOKEN_UNUSED = 5,
    LB_TOKEN_BYTE = 6,
};

#define LB_VOCAB_ID_DEFAULT (-2)  /* spec field: use the model type's default */

typedef struct lb_vocab_spec {
    const char *model;            /* "llama" (SentencePiece) or "gpt2" (byte-level BPE) */
    const char *pre;              /* tokenizer.ggml.pre; NULL = default */
    const char *name;             /* general.name (some models get token attributes by name) */
    int n_tokens;
    const char *const *tokens;    /* token texts (UTF-8) */
    const size_t *token_lens;     /* NULL: NUL-terminated */
    const float *scores;          /* NULL: all 0 */
    const int32_t *types;         /* NULL: all normal */
    int n_merges;
    const char *const *merges;    /* "left right" */
    const size_t *merge_lens;     /* NULL: NUL-terminated */
    int32_t bos, eos, unk, eot, eom, pad;  /* -1 none, LB_VOCAB_ID_DEFAULT default */
    int add_bos, add_eos, add_space_prefix; /* -1 default, 0/1 */
} lb_vocab_spec;

/* A spec with every optional field at its default. */
lb_vocab_spec lb_vocab_spec_default(void);

int lb_vocab_build(const lb_vocab_spec *spec, lb_vocab **out, lb_err *err);
int lb_vocab_load(const lb_gguf *g, lb_vocab **out, lb_err *err);
void lb_vocab_free(lb_vocab *v);

/* Token text as stored (SPM "▁", GPT-2 byte mapping not undone); NULL for a bad id. */
const char *lb_vocab_token_text(const lb_vocab *v, int32_t tok, size_t *len);
int lb_vocab_token_type(const lb_vocab *v, int32_t tok);
/* Id of a token text, -1 if none. */
int32_t lb_vocab_find(const lb_vocab *v, const char *text, size_t len);
const char *lb_vocab_pre_name(const lb_vocab *v);

#endif
