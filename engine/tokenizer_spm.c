/* SentencePiece-style tokenization ("llama" vocabularies): start from UTF-8 characters and
 * repeatedly merge the adjacent pair whose concatenation is the highest-scoring token;
 * pieces that are not tokens fall back to <0xNN> byte tokens. */
#include <stdlib.h>
#include <string.h>

#include "unicode.h"
#include "vocab_impl.h"

typedef struct sym {
    int prev, next;
    uint32_t off, n;  /* bytes of the (escaped) text */
} sym;

typedef struct bigram {
    int left, right;
    float score;
    uint32_t size;
} bigram;

/* Max-heap: higher score first, then the leftmost pair. */
static bool bigram_before(const bigram *a, const bigram *b)
{
    return a->score > b->score || (a->score == b->score && a->left < b->left);
}

typedef struct heap {
    bigram *a;
    size_t n, cap;
} heap;

static int heap_push(heap *h, bigram b)
{
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 64;
        bigram *a = realloc(h->a, cap * sizeof *a);
        if (!a)
            return -1;
        h->a = a, h->cap = cap;
    }
    size_t i = h->n++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!bigram_before(&b, &h->a[p]))
            break;
        h->a[i] = h->a[p];
        i = p;
    }
    h->a[i] = b;
    return 0;
}

static bigram heap_pop(heap *h)
{
    bigram top = h->a[0], last = h->a[--h->n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= h->n)
            break;
        if (c + 1 < h->n && bigram_before(&h->a[c + 1], &h->a[c]))
            c++;
        if (!bigram_before(&h->a[c], &last))
            break;
        h->a[i] = h->a[c];
        i = c;
    }
    if (h->n > 0)
        h->a[i] = last;
    return top;
}

static int try_bigram(const lb_vocab *v, const char *text, sym *syms, heap *h, int left, int right)
{
    if (left < 0 || right < 0)
        return 0;
    uint32_t size = syms[left].n + syms[right].n;
    int32_t id = lb_vocab_lookup(v, text + syms[left].off, size);
    if (id < 0)
        return 0;
    return heap_push(h, (bigram){ left, right, v->score[id], size });
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
    heap h = { 0 };
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
        bigram b = heap_pop(&h);
        sym *l = &syms[b.left], *r = &syms[b.right];
        if (l->n == 0 || r->n == 0 || l->n + r->n != b.size)
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
