/* Validation of /v1/chat/completions and /v1/completions request bodies into generation
 * parameters. Every rejected field is named (OpenAI's error "param"). */
#ifndef LB_API_PARAMS_H
#define LB_API_PARAMS_H

#include <stdbool.h>
#include <stdint.h>

#include "json.h"
#include "sampler.h"

#define LB_MAX_STOPS 16
#define LB_MAX_STOP_LEN 512
#define LB_MAX_BIAS 1024

typedef struct lb_chat_msg_in {
    const char *role;
    char *content;  /* owned (text parts joined) */
} lb_chat_msg_in;

typedef struct lb_gen_params {
    bool chat;
    const char *model;          /* NULL when absent */
    bool stream, include_usage;
    int max_tokens;             /* -1: until the context ends */
    bool has_seed;
    lb_sampling_params sp;
    lb_logit_bias bias[LB_MAX_BIAS];
    const char *stops[LB_MAX_STOPS];
    int n_stops;
    /* chat */
    lb_chat_msg_in *msgs;
    int n_msgs;
    /* completions: text, or token ids */
    const char *prompt;
    size_t prompt_len;
    int32_t *prompt_tokens;
    int n_prompt_tokens;
} lb_gen_params;

typedef struct lb_param_error {
    char param[48];
    char msg[256];
} lb_param_error;

/* Fills p from the request object (strings point into doc, which must outlive p), starting
 * from the default sampling parameters. n_vocab bounds token ids (logit_bias, prompt arrays). Returns false with *e filled on a bad
 * request. lb_gen_params_free releases what was allocated, also after a failure. */
bool lb_gen_params_parse(const lb_json *root, bool chat, int n_vocab, int max_stops,
                         const lb_sampling_params *defaults, lb_gen_params *p, lb_param_error *e);
void lb_gen_params_free(lb_gen_params *p);

#endif
