/* SentencePiece-style tokenization ("llama" vocabularies): start from UTF-8 characters and
 * repeatedly merge the adjacent pair whose concatenation is the highest-scoring token;
 * pieces that are not tokens fall back to <0xNN> byte tokens. */
#include <stdlib.h>
#include <string.h>

#include "merge_queue.h"
#include "unicode.h"
#include "vocab_impl.h"

typedef struct sym {
    int prev, next;
    uint32_t off, n;  /* bytes of the (escaped) text */
} sym;

static int try_bigram(const lb_vocab *v, const char *text, sym *syms, lb_merge_queue *h, int left, int right)
{
    if (left < 0 || right < 0)
        return 0;
    uint32_t size = syms[left].n + syms[right].n;
    int32_t id = lb_vocab_lookup(v, text + syms[left].off, size);
    if (id < 0)
        return 0;
    return lb_mq_push(h, (lb_merge){ left, right, v->score[id], { (int32_t)size, 0 } });
}

int lb_tokenize_spm(const lb_vocab *v, const char *raw, size_t len, lb_toklist *out, lb_err *err)
{
    /* Escape spaces as U+2581 (3 bytes each). */
    size_t spaces = 0;
    for (size_t i = 0; i < len; i++)
        spaces += raw[i] == ' ';
    size_t tlen = len + 2 * spaces;
    char *text = malloc(tlen + 1);
    sym *syms = malloc((tlen + 1) * sizeof *syms);
    lb_merge_queue h = { 0 };
    int rc = LB_OK;
    if (!text || !syms) {
        rc = lb_err_set(err, LB_ENOMEM, "tokenize: out of memory");
        goto out;
    }
    size_t t = 0;
    for (size_t i = 0; i < len; i++) {
        if (raw[i] == ' ') {
            memcpy(text + t, "\xe2\x96\x81", 3);
            t += 3;
        } else {
            text[t++] = raw[i];
        }
    }
    int n = 0;
    for (size_t off = 0; off < tlen; n++) {
        size_t cl = (size_t)lb_utf8_len((unsigned char)text[off]);
        if (cl > tlen - off)
            cl = tlen - off;
        syms[n] = (sym){ n - 1, off + cl == tlen ? -1 : n + 1, (uint32_t)off, (uint32_t)cl };
        off += cl;
    }
    for (int i = 1; i < n; i++)
        if (try_bigram(v, text, syms, &h, i - 1, i) < 0)
            goto nomem;
    while (h.n > 0) {
        lb_merge b = lb_mq_pop(&h);
        sym *l = &syms[b.left], *r = &syms[b.right];
        if (l->n == 0 || r->n == 0 || l->n + r->n != (uint32_t)b.check[0])
            continue;  /* outdated */
        l->n += r->n;
        r->n = 0;
        l->next = r->next;
        if (r->next >= 0)
            syms[r->next].prev = b.left;
        if (try_bigram(v, text, syms, &h, l->prev, b.left) < 0 ||
            try_bigram(v, text, syms, &h, b.left, l->next) < 0)
            goto nomem;
    }
    for (int i = n > 0 ? 0 : -1; i >= 0; i = syms[i].next) {
        const sym *s = &syms[i];
        int32_t id = lb_vocab_lookup(v, text + s->off, s->n);
        if (id >= 0) {
            if (lb_toklist_push(out, id) < 0)
                goto nomem;
            continue;
        }
        for (uint32_t k = 0; k < s->n; k++) {
            int32_t b = v->byte_tok[(unsigned char)text[s->off + k]];
            if (b < 0)
                b = v->unk;
            if (b >= 0 && lb_toklist_push(out, b) < 0)
                goto nomem;
        }
    }
    goto out;
nomem:
    rc = lb_err_set(err, LB_ENOMEM, "tokenize: out of memory");
out:
    free(text);
    free(syms);
    free(h.a);
    return rc;
}
