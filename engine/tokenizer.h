/* Tokenizers read from GGUF metadata: SentencePiece-style ("llama") and byte-level BPE
 * ("gpt2" with the pre-tokenizer named in tokenizer.ggml.pre). */
#ifndef LB_TOKENIZER_H
#define LB_TOKENIZER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

typedef struct lb_vocab lb_vocab;

int lb_vocab_n_tokens(const lb_vocab *v);
int32_t lb_vocab_bos(const lb_vocab *v);          /* -1 if none */
int32_t lb_vocab_eos(const lb_vocab *v);          /* -1 if none */
bool lb_vocab_add_bos(const lb_vocab *v);         /* tokenizer.ggml.add_bos_token (model default) */
/* End of generation: EOS, EOT (<|eot_id|>, <|im_end|>, <end_of_turn>, ...). */
bool lb_vocab_is_eog(const lb_vocab *v, int32_t tok);
const char *lb_vocab_model_name(const lb_vocab *v); /* "llama", "gpt2" */

/* Tokenizes text. parse_special: match control/special tokens' text (chat templates do,
 * user content does not). Returns the number of tokens (may exceed cap: nothing beyond cap
 * is written, call again with a larger buffer) or a negative error. */
int lb_tokenize(const lb_vocab *v, const char *text, size_t len, bool add_bos, bool parse_special,
                int32_t *out, int cap, lb_err *err);

/* The bytes of one token as they appear in text (byte tokens decoded, SPM "▁" → " ",
 * GPT-2 byte mapping undone). Control tokens give "" unless special. Returns bytes written
 * (may exceed cap, as above) or a negative error for an invalid id. */
int lb_token_to_piece(const lb_vocab *v, int32_t tok, bool special, char *buf, int cap);

/* Streaming detokenizer: feeds token pieces, emits only complete UTF-8 sequences, and drops
 * the leading space SentencePiece adds after BOS. */
typedef struct lb_detok {
    const lb_vocab *v;
    char pending[8];
    int n_pending;
    bool first;
    bool special;
} lb_detok;

void lb_detok_init(lb_detok *d, const lb_vocab *v, bool special);
/* Appends the text of tok to out (cap bytes, NUL-terminated); returns bytes appended. */
int lb_detok_push(lb_detok *d, int32_t tok, char *out, int cap);
/* Flushes held-back bytes (invalid/incomplete UTF-8 become U+FFFD). */
int lb_detok_flush(lb_detok *d, char *out, int cap);

#endif
