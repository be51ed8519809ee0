/* llmbox tokenize / detokenize: text on stdin → token ids, and back. Both read only the
 * vocabulary from the GGUF file (vocab-only files work). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "gguf.h"
#include "tokenizer.h"
#include "vocab.h"

#define MAX_STDIN (64u << 20)

static int read_stdin(char **out, size_t *len)
{
    size_t cap = 65536, n = 0;
    char *b = malloc(cap + 1);
    if (!b)
        return -1;
    for (;;) {
        if (n == cap) {
            if (cap >= MAX_STDIN) {
                free(b);
                return -2;
            }
            cap *= 2;
            char *nb = realloc(b, cap + 1);
            if (!nb) {
                free(b);
                return -1;
            }
            b = nb;
        }
        size_t r = fread(b + n, 1, cap - n, stdin);
        n += r;
        if (r == 0)
            break;
    }
    if (ferror(stdin)) {
        free(b);
        return -1;
    }
    b[n] = 0;
    *out = b;
    *len = n;
    return 0;
}

static int load_vocab(const char *path, lb_gguf **g, lb_vocab **v)
{
    lb_err err = { 0 };
    *g = NULL;
    *v = NULL;
    int rc = lb_gguf_open(path, g, &err);
    if (rc == 0)
        rc = lb_vocab_load(*g, v, &err);
    if (rc < 0) {
        lb_gguf_close(*g);
        *g = NULL;
        return lb_cli_fail(lb_cli_load_status(rc), "%s", err.msg);
    }
    return 0;
}

static int parse_opts(int argc, char **argv, const char *usage, const char **model, bool *no_bos,
                      bool *special, bool allow_bos)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-m") || !strcmp(argv[i], "--model")) {
            if (!(*model = lb_cli_value(argc, argv, &i)))
                return lb_cli_fail(2, "%s: -m needs a file", usage);
        } else if (allow_bos && !strcmp(argv[i], "--no-bos")) {
            *no_bos = true;
        } else if (!strcmp(argv[i], "--special")) {
            *special = true;
        } else {
            return lb_cli_fail(2, "%s: unknown option '%s'", usage, argv[i]);
        }
    }
    if (!*model)
        return lb_cli_fail(2, "usage: llmbox %s", usage);
    return 0;
}

int lb_cli_tokenize(int argc, char **argv)
{
    const char *usage = "tokenize -m FILE [--no-bos] [--special]";
    const char *model = NULL;
    bool no_bos = false, special = false;
    int rc = parse_opts(argc, argv, usage, &model, &no_bos, &special, true);
    if (rc)
        return rc;
    lb_gguf *g;
    lb_vocab *v;
    if ((rc = load_vocab(model, &g, &v)))
        return rc;
    char *text = NULL;
    size_t len = 0;
    int32_t *ids = NULL;
    lb_err err = { 0 };
    int r = read_stdin(&text, &len);
    if (r < 0) {
        rc = lb_cli_fail(r == -2 ? 2 : 1, "tokenize: %s", r == -2 ? "input too large" : "cannot read stdin");
        goto out;
    }
    bool bos = !no_bos && lb_vocab_add_bos(v);
    int n = lb_tokenize(v, text, len, bos, special, NULL, 0, &err);
    if (n >= 0) {
        ids = malloc(((size_t)n + 1) * sizeof *ids);
        if (!ids) {
            rc = lb_cli_fail(1, "tokenize: out of memory");
            goto out;
        }
        n = lb_tokenize(v, text, len, bos, special, ids, n, &err);
    }
    if (n < 0) {
        rc = lb_cli_fail(1, "tokenize: %s", err.msg);
        goto out;
    }
    for (int i = 0; i < n; i++)
        printf(i ? " %d" : "%d", ids[i]);
    printf("\n");
    rc = fflush(stdout) == 0 ? 0 : 1;
out:
    free(ids);
    free(text);
    lb_vocab_free(v);
    lb_gguf_close(g);
    return rc;
}

int lb_cli_detokenize(int argc, char **argv)
{
    const char *usage = "detokenize -m FILE [--special]";
    const char *model = NULL;
    bool no_bos = false, special = false;
    int rc = parse_opts(argc, argv, usage, &model, &no_bos, &special, false);
    if (rc)
        return rc;
    lb_gguf *g;
    lb_vocab *v;
    if ((rc = load_vocab(model, &g, &v)))
        return rc;
    char *text = NULL;
    size_t len = 0;
    int32_t *ids = NULL;
    int n = 0;
    lb_err err = { 0 };
    if (read_stdin(&text, &len) < 0) {
        rc = lb_cli_fail(1, "detokenize: cannot read stdin");
        goto out;
    }
    for (char *p = text; *p; p++)  /* accept newlines and tabs between ids */
        if (*p == '\n' || *p == '\t' || *p == '\r')
            *p = ' ';
    if (strspn(text, " ,") == strlen(text)) {  /* no ids: no text */
        rc = 0;
        goto out;
    }
    if (lb_cli_parse_tokens(text, &ids, &n, &err) < 0) {
        rc = lb_cli_fail(2, "detokenize: %s", err.msg);
        goto out;
    }
    int n_vocab = lb_vocab_n_tokens(v);
    for (int i = 0; i < n; i++)
        if (ids[i] < 0 || ids[i] >= n_vocab) {
            rc = lb_cli_fail(2, "detokenize: token id %d out of range (vocabulary has %d)", (int)ids[i], n_vocab);
            goto out;
        }
    lb_detok d;
    lb_detok_init(&d, v, special);
    char piece[512];
    for (int i = 0; i < n; i++) {
        int k = lb_detok_push(&d, ids[i], piece, sizeof piece);
        fwrite(piece, 1, (size_t)k, stdout);
    }
    int k = lb_detok_flush(&d, piece, sizeof piece);
    fwrite(piece, 1, (size_t)k, stdout);
    rc = fflush(stdout) == 0 ? 0 : 1;
out:
    free(ids);
    free(text);
    lb_vocab_free(v);
    lb_gguf_close(g);
    return rc;
}
