/* llmbox logits: last-position logits of a token sequence as JSON (parity tests). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int lb_cli_logits(int argc, char **argv)
{
    const char *model = NULL, *tokens = NULL;
    long threads = 0;
    int flash = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = lb_cli_value(argc, argv, &i);
        if (!v)
            return lb_cli_fail(2, "logits: option %s needs a value", a);
        if (!strcmp(a, "-m") || !strcmp(a, "--model"))
            model = v;
        else if (!strcmp(a, "--tokens"))
            tokens = v;
        else if ((!strcmp(a, "-t") || !strcmp(a, "--threads")) && lb_cli_int(v, 1, 1024, &threads))
            ;
        else if ((!strcmp(a, "-fa") || !strcmp(a, "--flash-attn")) && lb_cli_onoff(v, &flash))
            ;
        else
            return lb_cli_fail(2, "logits: bad option or value: %s %s", a, v);
    }
    if (!model || !tokens)
        return lb_cli_fail(2, "logits: -m FILE and --tokens \"1 2 3\" are required");
    lb_err err = { 0 };
    int32_t *toks = NULL, *pos = NULL;
    int n = 0, st;
    lb_model *m = NULL;
    lb_ctx *c = NULL;
    if (lb_cli_parse_tokens(tokens, &toks, &n, &err))
        return lb_cli_fail(2, "logits: %s", err.msg);
    if ((st = lb_cli_load(model, false, &m)))
        goto out;
    lb_ctx_params cp = { .n_ctx = n, .n_seq = 1, .n_batch = n, .n_threads = (int)threads, .flash_attn = flash };
    if (lb_ctx_new(m, &cp, &c, &err)) {
        st = lb_cli_fail(1, "logits: %s", err.msg);
        goto out;
    }
    pos = malloc((size_t)n * sizeof *pos);
    if (!pos) {
        st = lb_cli_fail(1, "logits: no memory");
        goto out;
    }
    for (int i = 0; i < n; i++)
        pos[i] = i;
    lb_batch b = { .n = n, .tokens = toks, .pos = pos };
    if (lb_decode(c, &b, &err)) {
        st = lb_cli_fail(err.code == LB_EINVAL ? 2 : 1, "logits: %s", err.msg);
        goto out;
    }
    const float *lg = lb_get_logits(c, n - 1);
    int nv = lb_model_n_vocab(m);
    printf("{\"n_vocab\":%d,\"logits\":[", nv);
    for (int i = 0; i < nv; i++) {
        if (isfinite(lg[i]))
            printf(i ? ",%.9g" : "%.9g", lg[i]);
        else
            printf(i ? ",null" : "null");
    }
    printf("]}\n");
    st = 0;
out:
    free(toks);
    free(pos);
    lb_ctx_free(c);
    lb_model_free(m);
    return st;
}
