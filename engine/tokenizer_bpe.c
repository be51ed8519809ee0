/* Byte-level BPE ("gpt2" vocabularies): pre-tokenize into words, map each byte to its
 * printable stand-in codepoint, then merge adjacent pieces by merge rank (lowest first). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "merge_queue.h"
#include "unicode.h"
#include "vocab_impl.h"

static uint32_t g_byte_cp[256];
static int16_t g_cp_byte[324];

/* The mapping GPT-2 defined: printable Latin-1 bytes stand for themselves, the others are
 * moved to U+0100 and up in byte order. */
static void build_bytes(void)
{
    uint32_t next = 256;
    for (int b = 0; b < 256; b++) {
        bool self = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
        g_byte_cp[b] = self ? (uint32_t)b : next++;
    }
    for (int c = 0; c < 324; c++)
        g_cp_byte[c] = -1;
    for (int b = 0; b < 256; b++)
        g_cp_byte[g_byte_cp[b]] = (int16_t)b;
}

static void init_bytes(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, build_bytes);
}

uint32_t lb_bpe_byte_to_cp(unsigned char b)
{
    init_bytes();
    return g_byte_cp[b];
}

int lb_bpe_cp_to_byte(uint32_t cp)
{
    init_bytes();
    return cp < 324 ? g_cp_byte[cp] : -1;
}

typedef struct sym {
    int prev, next;
    uint32_t off, n;
    int32_t id;  /* token of the current text, -1 if none */
} sym;

typedef struct work {
    char *word;      /* byte-encoded word */
    size_t cap_word;
    sym *syms;
    size_t cap_syms;
    lb_merge_queue h;
} work;

static int try_bigram(const lb_vocab *v, work *w, int left, int right)
{
    if (left < 0 || right < 0)
        return 0;
    int32_t rank = lb_vocab_merge_rank(v, w->syms[left].id, w->syms[right].id);
    if (rank < 0)
        return 0;
    return lb_mq_push(&w->h, (lb_merge){ left, right, -(double)rank, { w->syms[left].id, w->syms[right].id } });
}

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap : 64;
    while (c < need)
        c *= 2;
    void *q = realloc(*p, c * elem);
    if (!q)
        return -1;
    *p = q, *cap = c;
    return 0;
}

/* Merges one byte-encoded word (w->word, wlen bytes) and appends its tokens. */
static int merge_word(const lb_vocab *v, work *w, size_t wlen, lb_toklist *out)
{
    if (v->ignore_merges) {
        int32_t id = lb_vocab_lookup(v, w->word, wlen);
        if (id >= 0)
            return lb_toklist_push(out, id);
    }
    if (grow((void **)&w->syms, &w->cap_syms, wlen + 1, sizeof(sym)) < 0)
        return -1;
    int n = 0;
    for (size_t off = 0; off < wlen; n++) {
        size_t cl = (size_t)lb_utf8_len((unsigned char)w->word[off]);
        if (cl > wlen - off)
            cl = wlen - off;
        w->syms[n] = (sym){ n - 1, off + cl == wlen ? -1 : n + 1, (uint32_t)off, (uint32_t)cl,
                            lb_vocab_lookup(v, w->word + off, cl) };
        off += cl;
    }
    w->h.n = 0;
    for (int i = 1; i < n; i++)
        if (try_bigram(v, w, i - 1, i) < 0)
            return -1;
    while (w->h.n > 0) {
        lb_merge b = lb_mq_pop(&w->h);
        sym *l = &w->syms[b.left], *r = &w->syms[b.right];
        if (l->n == 0 || r->n == 0 || l->id != b.check[0] || r->id != b.check[1] || l->next != b.right)
            continue;  /* outdated */
        l->n += r->n;
        l->id = lb_vocab_lookup(v, w->word + l->off, l->n);
        r->n = 0;
        l->next = r->next;
        if (r->next >= 0)
            w->syms[r->next].prev = b.left;
        if (try_bigram(v, w, l->prev, b.left) < 0 || try_bigram(v, w, b.left, l->next) < 0)
            return -1;
    }
    for (int i = n > 0 ? 0 : -1; i >= 0; i = w->syms[i].next) {
        const sym *s = &w->syms[i];
        if (s->id >= 0) {
            if (lb_toklist_push(out, s->id) < 0)
                return -1;
            continue;
        }
        for (uint32_t k = 0; k < s->n; k++) {  /* no token: single bytes that are tokens */
            int32_t id = lb_vocab_lookup(v, w->word + s->off + k, 1);
            if (id >= 0 && lb_toklist_push(out, id) < 0)
                return -1;
        }
    }
    return 0;
}

int lb_tokenize_bpe(const lb_vocab *v, const char *text, size_t len, lb_toklist *out, lb_err *err)
{
    init_bytes();
    int rc = LB_OK;
    work w = { 0 };
    lb_pretok_scratch sc = { 0 };
    uint32_t *cps = malloc((len + 1) * sizeof *cps);
    if (!cps)
        goto nomem;
    size_t n = 0;
    for (size_t i = 0; i < len;)
        cps[n++] = lb_utf8_decode(text, len, &i);  /* invalid bytes become U+FFFD */
    const lb_span *words;
    size_t n_words;
    if ((rc = lb_pretok_split(v->pretok, cps, n, &sc, &words, &n_words, err)) < 0)
        goto out;
    for (size_t wi = 0; wi < n_words; wi++) {
        /* each codepoint → UTF-8 bytes → each byte's stand-in codepoint (≤ 2 bytes each) */
        if (grow((void **)&w.word, &w.cap_word, (size_t)words[wi].len * 8 + 1, 1) < 0)
            goto nomem;
        size_t wl = 0;
        for (uint32_t k = 0; k < words[wi].len; k++) {
            char u[4];
            int ul = lb_utf8_encode(cps[words[wi].start + k], u);
            for (int j = 0; j < ul; j++)
                wl += (size_t)lb_utf8_encode(g_byte_cp[(unsigned char)u[j]], w.word + wl);
        }
        if (merge_word(v, &w, wl, out) < 0)
            goto nomem;
    }
    goto out;
nomem:
    rc = lb_err_set(err, LB_ENOMEM, "tokenize: out of memory");
out:
    free(cps);
    free(w.word);
    free(w.syms);
    free(w.h.a);
    lb_pretok_scratch_free(&sc);
    return rc;
}
