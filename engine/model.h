/* Engine-internal view of a loaded model: hyperparameters and weight tensors located in the
 * weights memory. Public API in engine.h. */
#ifndef LB_MODEL_H
#define LB_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "engine.h"
#include "gguf.h"
#include "weights_mem.h"

enum lb_arch { LB_ARCH_LLAMA, LB_ARCH_QWEN2 };
enum lb_rope_type { LB_ROPE_NORM, LB_ROPE_NEOX };  /* adjacent pairs / halves */

/* A weight matrix: ne1 rows of ne0 elements in ggml type `type`. */
typedef struct lb_wt {
    uint32_t type;
    int64_t ne0, ne1;
    size_t row_bytes;
    const void *data;
    uint32_t layout;  /* enum lb_layout (repack.h): how the rows are stored */
} lb_wt;

typedef struct lb_layer {
    const float *attn_norm, *ffn_norm;    /* [n_embd], f32 copies */
    const float *bq, *bk, *bv;            /* biases or NULL */
    lb_wt wq, wk, wv, wo, w_gate, w_up, w_down;
} lb_layer;

typedef struct lb_hparams {
    enum lb_arch arch;
    int n_vocab, n_ctx_train, n_embd, n_layer, n_head, n_head_kv, n_ff;
    int head_dim;     /* key/value length per head */
    int n_rot;        /* rotated dims per head */
    enum lb_rope_type rope_type;
    float rope_freq_base, rope_freq_scale, norm_eps;
} lb_hparams;

struct lb_model {
    lb_gguf *g;
    lb_hparams hp;
    lb_model_info info;
    lb_weights_mem mem;
    lb_vocab *vocab;
    bool vocab_only;
    bool repack;              /* Q4_0/Q8_0 matmul weights in the x4 layout (repack.h) */
    lb_wt tok_embd, output;
    const float *output_norm;
    const float *rope_freqs;  /* [n_rot/2] frequency divisors (llama3) or NULL */
    lb_layer *layers;
    float *vecs;              /* storage for the f32 copies of 1-D tensors */
};

/* The model's GGUF (metadata and tensor infos stay valid while the model lives). */
const lb_gguf *lb_model_gguf(const lb_model *m);

/* Vocabulary hook: builds the model's vocabulary from its metadata (NULL if unavailable). */
int lb_model_vocab_load(const lb_gguf *g, lb_vocab **out, lb_err *err);
void lb_model_vocab_free(lb_vocab *v);

#endif
