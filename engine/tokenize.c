/* lb_tokenize: splits the text at special tokens (control ones only when the caller allows
 * it, user-defined ones always, longest first), then tokenizes each text fragment with the
 * vocabulary's algorithm. */
#include <stdlib.h>
#include <string.h>

#include "vocab_impl.h"

#define MAX_TEXT_BYTES (256u << 20)

int lb_toklist_push(lb_toklist *l, int32_t id)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 256;
        int32_t *ids = realloc(l->ids, cap * sizeof *ids);
        if (!ids)
            return -1;
        l->ids = ids, l->cap = cap;
    }
    l->ids[l->n++] = id;
    return 0;
}

typedef struct frag {
    int32_t tok;     /* >= 0: a special token; -1: text */
    size_t off, len;
} frag;

typedef struct fraglist {
    frag *a;
    size_t n, cap;
} fraglist;

static int frag_insert(fraglist *f, size_t at, frag x)
{
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 16;
        frag *a = realloc(f->a, cap * sizeof *a);
        if (!a)
            return -1;
        f->a = a, f->cap = cap;
    }
    memmove(&f->a[at + 1], &f->a[at], (f->n - at) * sizeof *f->a);
    f->a[at] = x;
    f->n++;
    return 0;
}

static bool is_space(char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

/* Splits every text fragment at each occurrence of special token id. */
static int split_at(const lb_vocab *v, const char *text, fraglist *f, int32_t id)
{
    const char *tt = vocab_text(v, id);
    size_t tl = v->len[id];
    for (size_t i = 0; i < f->n; i++) {
        if (f->a[i].tok >= 0 || f->a[i].len < tl)
            continue;
        const char *base = text + f->a[i].off;
        const char *m = memmem(base, f->a[i].len, tt, tl);
        if (!m)
            continue;
        frag whole = f->a[i];
        size_t mo = (size_t)(m - base);
        size_t left_len = mo;
        if (v->attr[id] & LB_ATTR_LSTRIP)
            while (left_len > 0 && is_space(base[left_len - 1]))
                left_len--;
        size_t roff = mo + tl, rlen = whole.len - roff;
        if (v->attr[id] & LB_ATTR_RSTRIP)
            while (rlen > 0 && is_space(base[roff]))
                roff++, rlen--;
        /* Replace fragment i by [left] token [right]; the right part is scanned next. */
        size_t at = i;
        if (left_len > 0) {
            f->a[at++] = (frag){ -1, whole.off, left_len };
            if (frag_insert(f, at, (frag){ id, 0, 0 }) < 0)
                return -1;
        } else {
            f->a[at] = (frag){ id, 0, 0 };
        }
        if (rlen > 0 && frag_insert(f, at + 1, (frag){ -1, whole.off + roff, rlen }) < 0)
            return -1;
        i = at;  /* loop increments to the right part */
    }
    return 0;
}

int lb_tokenize(const lb_vocab *v, const char *text, size_t len, bool add_bos, bool parse_special,
                int32_t *out, int cap, lb_err *err)
{
    if (!v || (!text && len > 0) || cap < 0 || (cap > 0 && !out))
        return lb_err_set(err, LB_EINVAL, "tokenize: bad arguments");
    if (len > MAX_TEXT_BYTES)
        return lb_err_set(err, LB_ELIMIT, "tokenize: text of %zu bytes is too long", len);
    int rc = LB_OK;
    lb_toklist toks = { 0 };
    fraglist f = { 0 };
    if (len > 0 && frag_insert(&f, 0, (frag){ -1, 0, len }) < 0)
        goto nomem;

    /* Bytes present in the text: skip special tokens that cannot occur. */
    uint8_t present[32] = { 0 };
    for (size_t i = 0; i < len; i++)
        present[(unsigned char)text[i] >> 3] |= (uint8_t)(1u << ((unsigned char)text[i] & 7));
    for (int s = 0; s < v->n_special && f.n > 0; s++) {
        int32_t id = v->special[s];
        int t = v->ttype[id];
        if (!parse_special && t != LB_TOKEN_USER_DEFINED)
            continue;
        unsigned char c0 = (unsigned char)vocab_text(v, id)[0];
        if (!((present[c0 >> 3] >> (c0 & 7)) & 1))
            continue;
        if (split_at(v, text, &f, id) < 0)
            goto nomem;
    }

    if (add_bos && v->bos >= 0 && lb_toklist_push(&toks, v->bos) < 0)
        goto nomem;
    bool prev_special = true;  /* SentencePiece: a space is prefixed after specials and at start */
    for (size_t i = 0; i < f.n; i++) {
        if (f.a[i].tok >= 0) {
            if (lb_toklist_push(&toks, f.a[i].tok) < 0)
                goto nomem;
            prev_special = true;
            continue;
        }
        const char *frag_text = text + f.a[i].off;
        size_t fl = f.a[i].len;
        if (v->type == LB_VOCAB_SPM) {
            char *tmp = NULL;
            if (v->add_space_prefix && prev_special) {
                tmp = malloc(fl + 1);
                if (!tmp)
                    goto nomem;
                tmp[0] = ' ';
                memcpy(tmp + 1, frag_text, fl);
                frag_text = tmp, fl++;
            }
            rc = lb_tokenize_spm(v, frag_text, fl, &toks, err);
            free(tmp);
        } else {
            rc = lb_tokenize_bpe(v, frag_text, fl, &toks, err);
        }
        if (rc < 0)
            goto out;
        prev_special = false;
    }
    if (add_bos && v->add_eos && v->eos >= 0 && lb_toklist_push(&toks, v->eos) < 0)
        goto nomem;
    if (toks.n > (size_t)INT32_MAX) {
        rc = lb_err_set(err, LB_ELIMIT, "tokenize: too many tokens");
        goto out;
    }
    size_t copy = toks.n < (size_t)cap ? toks.n : (size_t)cap;
    if (copy)
        memcpy(out, toks.ids, copy * sizeof *out);
    rc = (int)toks.n;
    goto out;
nomem:
    rc = lb_err_set(err, LB_ENOMEM, "tokenize: out of memory");
out:
    free(toks.ids);
    free(f.a);
    return rc;
}
