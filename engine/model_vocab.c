/* Vocabulary hook of the loader: builds the tokenizer library's lb_vocab from the model's
 * metadata (none when the file has no tokenizer section). */
#include "log.h"
#include "model.h"

#include "vocab.h"

int lb_model_vocab_load(const lb_gguf *g, lb_vocab **out, lb_err *err)
{
    *out = NULL;
    if (!lb_gguf_find(g, "tokenizer.ggml.tokens"))
        return LB_OK;  /* no tokenizer section: token ids only */
    int rc = lb_vocab_load(g, out, err);
    if (rc == LB_ENOTSUP) {
        /* The weights are still usable with token ids. */
        LOG_WARN("tokenizer not supported (%s); use token ids", err ? err->msg : "");
        *out = NULL;
        return LB_OK;
    }
    return rc ? lb_err_wrap(err, rc, "tokenizer") : LB_OK;
}

void lb_model_vocab_free(lb_vocab *v) { lb_vocab_free(v); }
