/* Chat templates: the family is detected from tokenizer.chat_template and the conversation is
 * rendered exactly as that Jinja template would render it. */
#ifndef LB_CHAT_H
#define LB_CHAT_H

#include <stdbool.h>

#include "err.h"

typedef struct lb_chat_msg {
    const char *role;     /* "system", "user", "assistant" */
    const char *content;
} lb_chat_msg;

typedef enum lb_chat_family {
    LB_CHAT_CHATML,  /* also the fallback for unknown templates */
    LB_CHAT_LLAMA2,
    LB_CHAT_LLAMA3,
    LB_CHAT_MISTRAL,
    LB_CHAT_PHI3,
    LB_CHAT_GEMMA,
    LB_CHAT_ZEPHYR,
    LB_CHAT_DEEPSEEK,
    LB_CHAT_QWEN,    /* ChatML with Qwen's default system prompt */
    LB_CHAT_LLAMA3_0, /* Llama 3.0: like LLAMA3 (3.1+) without the dates system header */
    LB_CHAT_QWEN2,   /* ChatML with "You are a helpful assistant." as default system (Qwen1.5/2) */
    LB_CHAT_MISTRAL_V1, /* Mistral 7B v0.1/v0.2: "[INST] user [/INST]" with spaces */
} lb_chat_family;

/* Detects the family; *known is false when the template was not recognised (ChatML used). */
lb_chat_family lb_chat_detect(const char *tmpl, bool *known);
const char *lb_chat_family_name(lb_chat_family f);

/* Renders msgs into a malloc'd string (*out). bos/eos: the vocabulary's BOS/EOS text, used by
 * templates that spell them out. */
int lb_chat_render(lb_chat_family f, const lb_chat_msg *msgs, int n, bool add_generation_prompt,
                   const char *bos, const char *eos, char **out, lb_err *err);

#endif
