/* Token → text: SentencePiece "▁" becomes a space and <0xNN> tokens their byte; GPT-2's byte
 * stand-ins are mapped back. The streaming detokenizer holds back incomplete UTF-8. */
#include <stdlib.h>
#include <string.h>

#include "unicode.h"
#include "vocab_impl.h"

static int copy_out(char *buf, int cap, const char *s, size_t n)
{
    if (n > (size_t)INT32_MAX)
        return LB_ELIMIT;
    if (buf && cap > 0)
        memcpy(buf, s, n < (size_t)cap ? n : (size_t)cap);
    return (int)n;
}

static int spm_piece(const char *t, size_t n, char *buf, int cap)
{
    int w = 0;
    for (size_t i = 0; i < n;) {
        if (n - i >= 3 && memcmp(t + i, "\xe2\x96\x81", 3) == 0) {
            if (w < cap)
                buf[w] = ' ';
            w++, i += 3;
        } else {
            if (w < cap)
                buf[w] = t[i];
            w++, i++;
        }
    }
    return w;
}

static int bpe_piece(const char *t, size_t n, char *buf, int cap)
{
    int w = 0;
    for (size_t i = 0; i < n;) {
        size_t start = i;
        uint32_t cp = lb_utf8_decode(t, n, &i);
        int b = lb_bpe_cp_to_byte(cp);
        if (b >= 0) {
            if (w < cap)
                buf[w] = (char)b;
            w++;
        } else {  /* not a byte stand-in: keep the character as it is */
            for (size_t k = start; k < i; k++, w++)
                if (w < cap)
                    buf[w] = t[k];
        }
    }
    return w;
}

int lb_token_to_piece(const lb_vocab *v, int32_t tok, bool special, char *buf, int cap)
{
    if (!v || tok < 0 || tok >= v->n)
        return LB_EINVAL;
    if (cap < 0 || (cap > 0 && !buf))
        return LB_EINVAL;
    const char *t = vocab_text(v, tok);
    size_t n = v->len[tok];
    switch (v->ttype[tok]) {
    case LB_TOKEN_CONTROL:
        return special ? copy_out(buf, cap, t, n) : 0;
    case LB_TOKEN_UNUSED:
        return 0;
    case LB_TOKEN_UNKNOWN:
        if (v->type == LB_VOCAB_SPM)
            return copy_out(buf, cap, "\xe2\x96\x85", 3);  /* what SentencePiece prints */
        return special ? copy_out(buf, cap, t, n) : 0;
    case LB_TOKEN_BYTE:
        if (v->type == LB_VOCAB_SPM && n == 6 && memcmp(t, "<0x", 3) == 0) {
            static const char hex[] = "0123456789ABCDEF";
            const char *h1 = strchr(hex, t[3]), *h2 = strchr(hex, t[4]);
            if (h1 && h2 && t[3] && t[4]) {
                char byte = (char)(((h1 - hex) << 4) | (h2 - hex));
                return copy_out(buf, cap, &byte, 1);
            }
        }
        break;
    case LB_TOKEN_USER_DEFINED:
        if (v->type == LB_VOCAB_BPE)
            return copy_out(buf, cap, t, n);
        break;
    default:
        break;
    }
    if (v->type == LB_VOCAB_SPM)
        return spm_piece(t, n, buf, cap);
    return bpe_piece(t, n, buf, cap);
}

void lb_detok_init(lb_detok *d, const lb_vocab *v, bool special)
{
    memset(d, 0, sizeof *d);
    d->v = v;
    d->special = special;
    d->first = false;
}

/* Appends bytes to out (keeping room for the NUL); returns bytes appended. */
static int append(char *out, int cap, int *w, const char *s, int n)
{
    int room = cap - 1 - *w;
    if (room < 0)
        room = 0;
    int k = n < room ? n : room;
    memcpy(out + *w, s, (size_t)k);
    *w += k;
    return k;
}

/* Appends s with each malformed sequence replaced by U+FFFD. */
static void append_valid(char *out, int cap, int *w, const char *s, int n)
{
    for (size_t i = 0; i < (size_t)n;) {
        size_t start = i;
        uint32_t cp = lb_utf8_decode(s, (size_t)n, &i);
        if (cp == LB_UNICODE_REPLACEMENT && i - start == 1)
            append(out, cap, w, "\xef\xbf\xbd", 3);
        else
            append(out, cap, w, s + start, (int)(i - start));
    }
}

int lb_detok_push(lb_detok *d, int32_t tok, char *out, int cap)
{
    if (!out || cap <= 0)
        return 0;
    out[0] = 0;
    if (tok == d->v->bos && d->v->type == LB_VOCAB_SPM && d->v->add_space_prefix) {
        d->first = true;  /* the next piece's leading space is the one SentencePiece added */
        if (!d->special)
            return 0;
    }
    /* pending bytes + this piece; long pieces (runs of spaces in code vocabularies) get heap */
    char small[512 + 8], *piece = small;
    int n = lb_token_to_piece(d->v, tok, d->special, NULL, 0);
    if (n < 0)
        return 0;  /* invalid id: nothing to show */
    if (n > 512 && !(piece = malloc((size_t)n + 8)))
        return 0;
    lb_token_to_piece(d->v, tok, d->special, piece + d->n_pending, n);
    memcpy(piece, d->pending, (size_t)d->n_pending);
    int total = d->n_pending + n;
    int start = 0;
    if (d->first && tok != d->v->bos && n > 0) {
        if (piece[d->n_pending] == ' ' && d->n_pending == 0)
            start = 1;
        d->first = false;
    }
    /* Emit only complete UTF-8; keep an unfinished tail (at most 3 bytes). */
    int complete = (int)lb_utf8_complete_prefix(piece + start, (size_t)(total - start)) + start;
    int w = 0;
    append_valid(out, cap, &w, piece + start, complete - start);
    d->n_pending = total - complete;
    memmove(d->pending, piece + complete, (size_t)d->n_pending);
    if (piece != small)
        free(piece);
    out[w] = 0;
    return w;
}

int lb_detok_flush(lb_detok *d, char *out, int cap)
{
    if (!out || cap <= 0)
        return 0;
    int w = 0;
    /* Whatever is held back can never complete now. */
    if (d->n_pending > 0)
        append(out, cap, &w, "\xef\xbf\xbd", 3);
    d->n_pending = 0;
    out[w] = 0;
    return w;
}
