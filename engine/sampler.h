/* Sampling: penalties, logit bias, top-k, typical-p, top-p, min-p, temperature, seeded RNG.
 * temperature <= 0 is greedy (argmax after penalties and bias). */
#ifndef LB_SAMPLER_H
#define LB_SAMPLER_H

#include <stdint.h>

#include "err.h"

typedef struct lb_logit_bias {
    int32_t token;
    float bias;  /* -INFINITY bans the token */
} lb_logit_bias;

typedef struct lb_sampling_params {
    float temperature;        /* default 0.8; <= 0 greedy */
    int top_k;                /* <= 0 off */
    float top_p;              /* >= 1 off */
    float min_p;              /* <= 0 off */
    float typical_p;          /* >= 1 off */
    float repeat_penalty;     /* 1 off */
    float presence_penalty;   /* 0 off */
    float frequency_penalty;  /* 0 off */
    int penalty_last_n;       /* window of recent tokens for penalties; 0 off, -1 whole history */
    uint64_t seed;
    const lb_logit_bias *bias;
    int n_bias;
} lb_sampling_params;

lb_sampling_params lb_sampling_default(void);

typedef struct lb_sampler lb_sampler;

int lb_sampler_new(const lb_sampling_params *p, int n_vocab, lb_sampler **out, lb_err *err);
void lb_sampler_free(lb_sampler *s);
/* Chooses the next token from logits (not modified). */
int32_t lb_sampler_sample(lb_sampler *s, const float *logits);
/* Records a token in the penalty history (prompt tokens too, if penalties should see them). */
void lb_sampler_accept(lb_sampler *s, int32_t tok);
void lb_sampler_reset(lb_sampler *s);

/* Stop strings, also when they span token boundaries: text that might be the start of a
 * stop string is held back until it is known not to be. */
typedef struct lb_stop lb_stop;
int lb_stop_new(const char *const *stops, int n, lb_stop **out, lb_err *err);
void lb_stop_free(lb_stop *s);
/* Feeds generated text; appends what is safe to emit to out (NUL-terminated, cap bytes).
 * Returns 1 when a stop string matched (out then holds the text before it), 0 otherwise. */
int lb_stop_push(lb_stop *s, const char *text, int len, char *out, int cap, int *out_len);
/* At end of generation: the held-back text that turned out not to be a stop. */
int lb_stop_flush(lb_stop *s, char *out, int cap);

#endif
