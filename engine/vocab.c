/* Builds an lb_vocab from arrays (validated: a bad vocabulary is an error, never a crash)
 * and answers the lookups the tokenizers need through hash tables. */
#include "vocab_impl.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "unicode.h"

#define MAX_TOKENS (1 << 22)
#define MAX_TOKEN_BYTES 65536

lb_vocab_spec lb_vocab_spec_default(void)
{
    return (lb_vocab_spec){
        .bos = LB_VOCAB_ID_DEFAULT, .eos = LB_VOCAB_ID_DEFAULT, .unk = LB_VOCAB_ID_DEFAULT,
        .eot = LB_VOCAB_ID_DEFAULT, .eom = LB_VOCAB_ID_DEFAULT, .pad = LB_VOCAB_ID_DEFAULT,
        .add_bos = -1, .add_eos = -1, .add_space_prefix = -1,
    };
}

static uint64_t hash_bytes(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h ^ (h >> 29);
}

static uint64_t hash_u64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    return x ^ (x >> 33);
}

int32_t lb_vocab_lookup(const lb_vocab *v, const char *s, size_t n)
{
    for (uint64_t i = hash_bytes(s, n) & v->hash_mask;; i = (i + 1) & v->hash_mask) {
        uint32_t e = v->hash[i];
        if (e == 0)
            return -1;
        int32_t id = (int32_t)(e - 1);
        if (v->len[id] == n && memcmp(vocab_text(v, id), s, n) == 0)
            return id;
    }
}

int32_t lb_vocab_find(const lb_vocab *v, const char *text, size_t len)
{
    return lb_vocab_lookup(v, text, len);
}

int32_t lb_vocab_merge_rank(const lb_vocab *v, int32_t left, int32_t right)
{
    if (!v->mkeys || left < 0 || right < 0)
        return -1;
    uint64_t key = ((uint64_t)(left + 1) << 32) | (uint64_t)(right + 1);
    for (uint64_t i = hash_u64(key) & v->mmask;; i = (i + 1) & v->mmask) {
        if (v->mkeys[i] == 0)
            return -1;
        if (v->mkeys[i] == key)
            return v->mrank[i];
    }
}

static uint64_t pow2_at_least(uint64_t n)
{
    uint64_t c = 16;
    while (c < n)
        c <<= 1;
    return c;
}

static int build_hash(lb_vocab *v, lb_err *err)
{
    uint64_t cap = pow2_at_least((uint64_t)v->n * 2);
    v->hash = calloc(cap, sizeof *v->hash);
    if (!v->hash)
        return lb_err_set(err, LB_ENOMEM, "vocab: out of memory");
    v->hash_mask = (uint32_t)(cap - 1);
    for (int32_t id = 0; id < v->n; id++) {
        uint64_t i = hash_bytes(vocab_text(v, id), v->len[id]) & v->hash_mask;
        for (;; i = (i + 1) & v->hash_mask) {
            uint32_t e = v->hash[i];
            if (e == 0) {
                v->hash[i] = (uint32_t)id + 1;
                break;
            }
            int32_t o = (int32_t)(e - 1);
            if (v->len[o] == v->len[id] && memcmp(vocab_text(v, o), vocab_text(v, id), v->len[id]) == 0) {
                v->hash[i] = (uint32_t)id + 1;  /* duplicate text: the later id wins */
                break;
            }
        }
    }
    return LB_OK;
}

static int build_merges(lb_vocab *v, const lb_vocab_spec *s, lb_err *err)
{
    if (s->n_merges <= 0)
        return LB_OK;
    uint64_t cap = pow2_at_least((uint64_t)s->n_merges * 2);
    v->mkeys = calloc(cap, sizeof *v->mkeys);
    v->mrank = calloc(cap, sizeof *v->mrank);
    if (!v->mkeys || !v->mrank)
        return lb_err_set(err, LB_ENOMEM, "vocab: out of memory");
    v->mmask = cap - 1;
    for (int r = 0; r < s->n_merges; r++) {
        const char *m = s->merges[r];
        if (!m)
            return lb_err_set(err, LB_EFORMAT, "vocab: merge %d is missing", r);
        size_t n = s->merge_lens ? s->merge_lens[r] : strlen(m);
        /* The separator is the first space after the first byte (a part may be " "). */
        const char *sp = n > 1 ? memchr(m + 1, ' ', n - 1) : NULL;
        if (!sp)
            return lb_err_set(err, LB_EFORMAT, "vocab: merge %d \"%.40s\" has no space", r, m);
        size_t ln = (size_t)(sp - m);
        int32_t left = lb_vocab_lookup(v, m, ln);
        int32_t right = lb_vocab_lookup(v, sp + 1, n - ln - 1);
        if (left < 0 || right < 0)
            return lb_err_set(err, LB_EFORMAT, "vocab: merge %d \"%.*s\" names an unknown token", r,
                              (int)(n < 60 ? n : 60), m);
        uint64_t key = ((uint64_t)(left + 1) << 32) | (uint64_t)(right + 1);
        for (uint64_t i = hash_u64(key) & v->mmask;; i = (i + 1) & v->mmask) {
            if (v->mkeys[i] == key)
                break;  /* duplicate merge: the first rank wins */
            if (v->mkeys[i] == 0) {
                v->mkeys[i] = key;
                v->mrank[i] = r;
                break;
            }
        }
    }
    v->n_merges = s->n_merges;
    return LB_OK;
}

static int special_cmp(const void *a, const void *b, void *arg)
{
    const lb_vocab *v = arg;
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    if (v->len[x] != v->len[y])
        return v->len[x] > v->len[y] ? -1 : 1;
    return x < y ? -1 : x > y;
}

/* qsort_r is not portable across libcs with the same signature: a small insertion+merge sort. */
static void sort_special(lb_vocab *v)
{
    int32_t *a = v->special;
    int n = v->n_special;
    int32_t *tmp = malloc((size_t)(n > 0 ? n : 1) * sizeof *tmp);
    if (!tmp) {
        for (int i = 1; i < n; i++)  /* fall back to insertion sort */
            for (int j = i; j > 0 && special_cmp(&a[j], &a[j - 1], v) < 0; j--) {
                int32_t t = a[j];
                a[j] = a[j - 1], a[j - 1] = t;
            }
        return;
    }
    for (int w = 1; w < n; w *= 2) {
        for (int lo = 0; lo < n; lo += 2 * w) {
            int mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            int i = lo, j = mid, k = lo;
            while (i < mid && j < hi)
                tmp[k++] = special_cmp(&a[j], &a[i], v) < 0 ? a[j++] : a[i++];
            while (i < mid)
                tmp[k++] = a[i++];
            while (j < hi)
                tmp[k++] = a[j++];
        }
        memcpy(a, tmp, (size_t)n * sizeof *a);
    }
    free(tmp);
}

static int check_id(const lb_vocab *v, int32_t *id, int32_t dflt, const char *what, lb_err *err)
{
    if (*id == LB_VOCAB_ID_DEFAULT)
        *id = dflt < v->n ? dflt : -1;
    if (*id < -1 || *id >= v->n)
        return lb_err_set(err, LB_EFORMAT, "vocab: %s token id %d out of range (%d tokens)", what,
                          (int)*id, v->n);
    return LB_OK;
}

static bool contains_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; hay && *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0)
            return true;
    return false;
}

static void set_attr_by_text(lb_vocab *v, const char *text, int attr, bool on)
{
    int32_t id = lb_vocab_lookup(v, text, strlen(text));
    if (id >= 0)
        v->attr[id] = (uint8_t)(on ? (v->attr[id] | attr) : (v->attr[id] & ~attr));
}

static int finish_specials(lb_vocab *v, const lb_vocab_spec *s, lb_err *err)
{
    static const char *const eog_texts[] = {
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|eom_id|>",
        "<EOT>", "_<EOT>", "<|end_of_text|>", "<\uff5cend\u2581of\u2581sentence\uff5c>",
        "<|return|>", "<|call|>",
    };
    bool spm = v->type == LB_VOCAB_SPM;
    v->bos = s->bos, v->eos = s->eos, v->unk = s->unk, v->eot = s->eot, v->eom = s->eom, v->pad = s->pad;
    int rc;
    if ((rc = check_id(v, &v->bos, spm ? 1 : -1, "bos", err)) < 0 ||
        (rc = check_id(v, &v->eos, spm ? 2 : -1, "eos", err)) < 0 ||
        (rc = check_id(v, &v->unk, spm ? 0 : -1, "unknown", err)) < 0 ||
        (rc = check_id(v, &v->eot, -1, "eot", err)) < 0 ||
        (rc = check_id(v, &v->eom, -1, "eom", err)) < 0 ||
        (rc = check_id(v, &v->pad, -1, "padding", err)) < 0)
        return rc;

    v->eog = malloc((sizeof eog_texts / sizeof eog_texts[0] + 3) * sizeof *v->eog);
    v->special = malloc((size_t)v->n * sizeof *v->special);
    if (!v->eog || !v->special)
        return lb_err_set(err, LB_ENOMEM, "vocab: out of memory");
    int32_t fixed[3] = { v->eos, v->eot, v->eom };
    for (int i = 0; i < 3; i++)
        if (fixed[i] >= 0)
            v->eog[v->n_eog++] = fixed[i];
    for (size_t i = 0; i < sizeof eog_texts / sizeof eog_texts[0]; i++) {
        int32_t id = lb_vocab_lookup(v, eog_texts[i], strlen(eog_texts[i]));
        if (id < 0 || (v->ttype[id] != LB_TOKEN_CONTROL && v->ttype[id] != LB_TOKEN_USER_DEFINED))
            continue;
        bool dup = false;
        for (int k = 0; k < v->n_eog; k++)
            dup |= v->eog[k] == id;
        if (!dup)
            v->eog[v->n_eog++] = id;
        if (v->eot < 0)
            v->eot = id;
    }

    for (int32_t id = 0; id < v->n; id++) {
        int t = v->ttype[id];
        if ((t == LB_TOKEN_CONTROL || t == LB_TOKEN_USER_DEFINED || t == LB_TOKEN_UNKNOWN) && v->len[id] > 0)
            v->special[v->n_special++] = id;
    }
    sort_special(v);

    /* Token attributes that some tokenizers set by model (as llama.cpp does). */
    if (contains_ci(s->name, "phi-3") || contains_ci(s->name, "phi3")) {
        for (int i = 0; i < v->n_special; i++)
            v->attr[v->special[i]] |= LB_ATTR_RSTRIP;
        set_attr_by_text(v, "</s>", LB_ATTR_RSTRIP, true);
        set_attr_by_text(v, "<unk>", LB_ATTR_RSTRIP, false);
        set_attr_by_text(v, "<s>", LB_ATTR_RSTRIP, false);
        set_attr_by_text(v, "<|endoftext|>", LB_ATTR_RSTRIP, false);
    }
    if (s->pre && strncmp(s->pre, "jina-v2-", 8) == 0)
        set_attr_by_text(v, "<mask>", LB_ATTR_LSTRIP, true);
    return LB_OK;
}

int lb_vocab_build(const lb_vocab_spec *s, lb_vocab **out, lb_err *err)
{
    *out = NULL;
    int rc = LB_OK;
    lb_vocab *v = calloc(1, sizeof *v);
    if (!v)
        return lb_err_set(err, LB_ENOMEM, "vocab: out of memory");
    if (!s->model) {
        rc = lb_err_set(err, LB_EFORMAT, "vocab: tokenizer model missing");
        goto out;
    }
    if (strcmp(s->model, "llama") == 0) {
        v->type = LB_VOCAB_SPM;
    } else if (strcmp(s->model, "gpt2") == 0) {
        v->type = LB_VOCAB_BPE;
    } else {
        rc = lb_err_set(err, LB_ENOTSUP, "vocab: tokenizer model \"%.32s\" not supported "
                        "(llama and gpt2 are)", s->model);
        goto out;
    }
    snprintf(v->model, sizeof v->model, "%s", s->model);
    if (s->n_tokens <= 0 || s->n_tokens > MAX_TOKENS || !s->tokens) {
        rc = lb_err_set(err, LB_EFORMAT, "vocab: bad token count %d", s->n_tokens);
        goto out;
    }
    v->n = s->n_tokens;
    v->off = calloc((size_t)v->n, sizeof *v->off);
    v->len = calloc((size_t)v->n, sizeof *v->len);
    v->score = calloc((size_t)v->n, sizeof *v->score);
    v->ttype = calloc((size_t)v->n, 1);
    v->attr = calloc((size_t)v->n, 1);
    if (!v->off || !v->len || !v->score || !v->ttype || !v->attr) {
        rc = lb_err_set(err, LB_ENOMEM, "vocab: out of memory");
        goto out;
    }
    size_t total = 0;
    for (int i = 0; i < v->n; i++) {
        if (!s->tokens[i]) {
            rc = lb_err_set(err, LB_EFORMAT, "vocab: token %d missing", i);
            goto out;
        }
        size_t n = s->token_lens ? s->token_lens[i] : strlen(s->tokens[i]);
        if (n > MAX_TOKEN_BYTES || memchr(s->tokens[i], 0, n)) {
            rc = lb_err_set(err, LB_EFORMAT, "vocab: token %d is too long or has a NUL byte", i);
            goto out;
        }
        if (!lb_utf8_valid(s->tokens[i], n)) {
            rc = lb_err_set(err, LB_EFORMAT, "vocab: token %d is not valid UTF-8", i);
            goto out;
        }
        v->len[i] = (uint32_t)n;
        total += n + 1;
    }
    v->arena = malloc(total);
    if (!v->arena) {
        rc = lb_err_set(err, LB_ENOMEM, "vocab: out of memory");
        goto out;
    }
    size_t pos = 0;
    for (int i = 0; i < v->n; i++) {
        v->off[i] = (uint32_t)pos;
        memcpy(v->arena + pos, s->tokens[i], v->len[i]);
        v->arena[pos + v->len[i]] = 0;
        pos += v->len[i] + 1;
        float sc = s->scores ? s->scores[i] : 0.0f;
        if (isnan(sc)) {
            rc = lb_err_set(err, LB_EFORMAT, "vocab: score of token %d is NaN", i);
            goto out;
        }
        v->score[i] = sc;
        int32_t t = s->types ? s->types[i] : LB_TOKEN_NORMAL;
        if (t < LB_TOKEN_UNDEFINED || t > LB_TOKEN_BYTE) {
            rc = lb_err_set(err, LB_EFORMAT, "vocab: token %d has invalid type %d", i, (int)t);
            goto out;
        }
        v->ttype[i] = (uint8_t)(t == LB_TOKEN_UNDEFINED ? LB_TOKEN_NORMAL : t);
    }
    if ((rc = build_hash(v, err)) < 0)
        goto out;
    if (v->type == LB_VOCAB_BPE) {
        if (s->n_merges <= 0 || !s->merges) {
            rc = lb_err_set(err, LB_EFORMAT, "vocab: gpt2 tokenizer without merges");
            goto out;
        }
        if ((rc = build_merges(v, s, err)) < 0)
            goto out;
        if ((rc = lb_pretok_new(s->pre, &v->pretok, NULL, err)) < 0)
            goto out;
        v->ignore_merges = lb_pretok_ignore_merges(v->pretok);
    }
    for (int b = 0; b < 256; b++) {
        char buf[8];
        snprintf(buf, sizeof buf, "<0x%02X>", b);
        v->byte_tok[b] = v->type == LB_VOCAB_SPM ? lb_vocab_lookup(v, buf, 6) : -1;
        if (v->type == LB_VOCAB_SPM && v->byte_tok[b] < 0) {
            char one = (char)b;  /* some vocabularies spell bytes as themselves */
            v->byte_tok[b] = lb_vocab_lookup(v, &one, 1);
        }
    }
    if ((rc = finish_specials(v, s, err)) < 0)
        goto out;
    bool spm = v->type == LB_VOCAB_SPM;
    v->add_bos = s->add_bos >= 0 ? s->add_bos : (spm || lb_pretok_add_bos(v->pretok));
    v->add_eos = s->add_eos > 0;
    v->add_space_prefix = s->add_space_prefix >= 0 ? s->add_space_prefix : spm;
    if (v->add_bos && v->bos < 0) {
        LOG_WARN("vocab: add_bos_token set but the vocabulary has no BOS token; ignored");
        v->add_bos = false;
    }
    *out = v;
    v = NULL;
out:
    if (rc < 0 && err)
        err->code = rc;
    lb_vocab_free(v);
    return rc;
}

void lb_vocab_free(lb_vocab *v)
{
    if (!v)
        return;
    free(v->arena);
    free(v->off);
    free(v->len);
    free(v->score);
    free(v->ttype);
    free(v->attr);
    free(v->hash);
    free(v->mkeys);
    free(v->mrank);
    free(v->special);
    free(v->eog);
    lb_pretok_free(v->pretok);
    free(v);
}

int lb_vocab_n_tokens(const lb_vocab *v) { return v->n; }
int32_t lb_vocab_bos(const lb_vocab *v) { return v->bos; }
int32_t lb_vocab_eos(const lb_vocab *v) { return v->eos; }
bool lb_vocab_add_bos(const lb_vocab *v) { return v->add_bos; }
const char *lb_vocab_model_name(const lb_vocab *v) { return v->model; }
const char *lb_vocab_pre_name(const lb_vocab *v) { return v->pretok ? lb_pretok_name(v->pretok) : "default"; }

bool lb_vocab_is_eog(const lb_vocab *v, int32_t tok)
{
    for (int i = 0; i < v->n_eog; i++)
        if (v->eog[i] == tok)
            return true;
    return false;
}

const char *lb_vocab_token_text(const lb_vocab *v, int32_t tok, size_t *len)
{
    if (tok < 0 || tok >= v->n)
        return NULL;
    if (len)
        *len = v->len[tok];
    return vocab_text(v, tok);
}

int lb_vocab_token_type(const lb_vocab *v, int32_t tok)
{
    return tok < 0 || tok >= v->n ? -1 : v->ttype[tok];
}
