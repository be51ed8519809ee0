/* Helper of pretok_diff.js: `pretok_split NAME --patterns` prints the pre-tokenizer's
 * regexes as a JSON array; `pretok_split NAME` reads NUL-separated texts on stdin and prints
 * one line per text: the codepoint lengths of its words, comma-separated. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pretokenize.h"
#include "unicode.h"

int main(int argc, char **argv)
{
    lb_pretok *p = NULL;
    lb_err err = { 0 };
    if (argc < 2 || lb_pretok_new(argv[1], &p, NULL, &err) < 0) {
        fprintf(stderr, "pretok_split: %s\n", argc < 2 ? "usage: pretok_split NAME [--patterns]" : err.msg);
        return 2;
    }
    if (argc > 2 && !strcmp(argv[2], "--patterns")) {
        const char *const *pats;
        int n = lb_pretok_patterns(p, &pats);
        printf("[");
        for (int i = 0; i < n; i++) {
            printf("%s\"", i ? "," : "");
            for (const char *c = pats[i]; *c; c++)
                printf(*c == '"' || *c == '\\' ? "\\%c" : "%c", *c);
            printf("\"");
        }
        printf("]\n");
        lb_pretok_free(p);
        return 0;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    for (size_t r; buf && (r = fread(buf + n, 1, cap - n, stdin)) > 0;) {
        n += r;
        if (n == cap)
            buf = realloc(buf, cap *= 2);
    }
    if (!buf)
        return 1;
    lb_pretok_scratch sc = { 0 };
    uint32_t *cps = malloc((n + 1) * sizeof *cps);
    for (size_t s = 0, i = 0; i <= n; i++) {
        if (i < n && buf[i] != 0)
            continue;
        size_t nc = 0, len = i - s;
        for (size_t off = 0; off < len;)
            cps[nc++] = lb_utf8_decode(buf + s, len, &off);
        const lb_span *w;
        size_t nw;
        if (lb_pretok_split(p, cps, nc, &sc, &w, &nw, &err) < 0)
            return 1;
        for (size_t k = 0; k < nw; k++)
            printf("%s%u", k ? "," : "", w[k].len);
        printf("\n");
        s = i + 1;
    }
    free(cps);
    free(buf);
    lb_pretok_scratch_free(&sc);
    lb_pretok_free(p);
    return 0;
}
