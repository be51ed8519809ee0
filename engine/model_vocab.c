/* Vocabulary hook of the loader. The tokenizer library (vocab.h) is not on main yet:
 * models load without a vocabulary and lb_model_vocab() returns NULL. */
#include "model.h"

int lb_model_vocab_load(const lb_gguf *g, lb_vocab **out, lb_err *err)
{
    (void)g;
    (void)err;
    *out = NULL;
    return LB_OK;
}

void lb_model_vocab_free(lb_vocab *v) { (void)v; }
