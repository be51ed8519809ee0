/* Public API of the inference engine: load a GGUF model, decode batches of tokens into
 * logits. Used by the CLI (engine/main_llmbox.c) and the service (netsvc/). Tokenizer,
 * sampler and chat templates have their own headers (tokenizer.h, sampler.h, chat.h).
 * All functions return LB_OK or a negative lb_err code with a message in *err. */
#ifndef LB_ENGINE_H
#define LB_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

typedef struct lb_model lb_model;
typedef struct lb_ctx lb_ctx;
typedef struct lb_vocab lb_vocab;

typedef struct lb_load_opts {
    bool vocab_only;          /* parse metadata + vocabulary only, no weights (tokenize tools) */
    int hugepages;            /* -1 auto (try, fall back), 0 off, 1 require */
    const char *hugetlb_dir;  /* hugetlbfs mount: keep weights in a file there, reuse if present */
    bool mlock;               /* lock weights in RAM when not on hugepages */
} lb_load_opts;

#define LB_LOAD_OPTS_DEFAULT ((lb_load_opts){ .vocab_only = false, .hugepages = -1, .hugetlb_dir = NULL, .mlock = false })

int lb_model_load(const char *path, const lb_load_opts *opts, lb_model **out, lb_err *err);
void lb_model_free(lb_model *m);

typedef struct lb_model_info {
    char arch[32];             /* "llama", "qwen2" */
    char name[128];            /* general.name or file name */
    int n_vocab, n_ctx_train, n_embd, n_layer, n_head, n_head_kv, n_ff;
    float rope_freq_base, norm_eps;
    uint64_t n_params;         /* total elements of all weight tensors */
    uint64_t weight_bytes;     /* bytes of tensor data */
    uint64_t file_bytes;
    char weights_memory[32];   /* "hugetlbfs", "hugetlb", "thp+mlock", "thp", "heap" */
    uint64_t hugepage_bytes;   /* bytes of weights on explicit hugepages */
    uint64_t repacked_bytes;   /* bytes of weights repacked at load for the kernels (x4 layout) */
    double load_ms;
} lb_model_info;

void lb_model_get_info(const lb_model *m, lb_model_info *out);
const lb_vocab *lb_model_vocab(const lb_model *m);
int lb_model_n_vocab(const lb_model *m);
/* Raw metadata string (e.g. "tokenizer.chat_template"), NULL if absent. Valid while m lives. */
const char *lb_model_meta_str(const lb_model *m, const char *key);

/* A context holds the KV cache of n_seq independent sequences (service slots) of up to
 * n_ctx positions each, plus all scratch buffers: nothing is allocated per token. */
typedef struct lb_ctx_params {
    int n_ctx;      /* positions per sequence; 0 = min(model's context_length, 4096) */
    int n_seq;      /* sequences (slots); 0 = 1 */
    int n_batch;    /* max tokens per lb_decode call; 0 = 512 */
    int n_threads;  /* 0 = number of physical cores */
    int flash_attn; /* 0: ggml's plain attention arithmetic (parity default); 1: llama.cpp's
                       CPU flash-attention arithmetic (online softmax, f16 V accumulator) */
} lb_ctx_params;

int lb_ctx_new(lb_model *m, const lb_ctx_params *p, lb_ctx **out, lb_err *err);
void lb_ctx_free(lb_ctx *c);
int lb_ctx_n_ctx(const lb_ctx *c);

/* One decode step over tokens of one or more sequences (continuous batching): token i goes
 * to sequence seq[i] at position pos[i]; positions of a sequence must follow its cache.
 * Logits are computed for the tokens with want_logits[i] set (NULL: the last token only). */
typedef struct lb_batch {
    int n;
    const int32_t *tokens;
    const int32_t *pos;
    const int32_t *seq;          /* NULL: all sequence 0 */
    const uint8_t *want_logits;  /* NULL: only token n-1 */
} lb_batch;

int lb_decode(lb_ctx *c, const lb_batch *b, lb_err *err);
/* Logits (n_vocab floats) of batch token i from the last lb_decode; NULL if not requested. */
const float *lb_get_logits(const lb_ctx *c, int i);

/* Forget positions >= n_keep of a sequence (0 clears it): slot reuse and prompt caching. */
void lb_kv_truncate(lb_ctx *c, int seq, int n_keep);
/* Number of cached positions of a sequence. */
int lb_kv_len(const lb_ctx *c, int seq);

#endif
