/* Sampling chain: logit bias → penalties → top-k → typical-p → top-p → min-p → temperature
 * → draw with a seeded RNG (xoshiro256**). Candidates are sorted only as far as needed:
 * top-p over a 150k vocabulary must not sort the whole vocabulary each token.
 * This runs between two decode steps while the compute threads wait, once per token: bias
 * and penalties touch few tokens, so their adjusted logits are computed for those tokens
 * only, and greedy decoding is one read-only pass over the logits. */
#include "sampler.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

typedef struct cand {
    int32_t id;
    float logit;
    float p;
} cand;

struct lb_sampler {
    lb_sampling_params p;
    lb_logit_bias *bias;
    int n_vocab;
    cand *c;             /* working candidates */
    float *adj;          /* adjusted logit of each token marked in mark */
    uint8_t *mark;       /* per token: MARK_* (all zero between calls) */
    uint32_t *counts;    /* occurrences in the penalty window */
    int32_t *hist;       /* ring of recent tokens */
    int hist_cap, hist_n, hist_pos;
    uint64_t s[4];       /* RNG state */
};

lb_sampling_params lb_sampling_default(void)
{
    return (lb_sampling_params){
        .temperature = 0.8f, .top_k = 40, .top_p = 0.95f, .min_p = 0.05f, .typical_p = 1.0f,
        .repeat_penalty = 1.0f, .presence_penalty = 0.0f, .frequency_penalty = 0.0f,
        .penalty_last_n = 64, .seed = 0, .bias = NULL, .n_bias = 0,
    };
}

static uint64_t splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t next_u64(lb_sampler *s)
{
    uint64_t r = rotl(s->s[1] * 5, 7) * 9, t = s->s[1] << 17;
    s->s[2] ^= s->s[0];
    s->s[3] ^= s->s[1];
    s->s[1] ^= s->s[2];
    s->s[0] ^= s->s[3];
    s->s[2] ^= t;
    s->s[3] = rotl(s->s[3], 45);
    return r;
}

static double next_unit(lb_sampler *s)
{
    return (double)(next_u64(s) >> 11) * (1.0 / 9007199254740992.0);  /* [0, 1) */
}

static void seed_rng(lb_sampler *s)
{
    uint64_t x = s->p.seed;
    for (int i = 0; i < 4; i++)
        s->s[i] = splitmix(&x);
}

int lb_sampler_new(const lb_sampling_params *p, int n_vocab, lb_sampler **out, lb_err *err)
{
    *out = NULL;
    if (!p || n_vocab <= 0)
        return lb_err_set(err, LB_EINVAL, "sampler: bad vocabulary size %d", n_vocab);
    if (isnan(p->temperature) || isnan(p->top_p) || isnan(p->min_p) || isnan(p->typical_p) ||
        isnan(p->repeat_penalty) || p->repeat_penalty <= 0 || isnan(p->presence_penalty) ||
        isnan(p->frequency_penalty) || p->penalty_last_n < -1 || p->n_bias < 0 ||
        (p->n_bias > 0 && !p->bias))
        return lb_err_set(err, LB_EINVAL, "sampler: invalid parameters");
    lb_sampler *s = calloc(1, sizeof *s);
    if (!s)
        return lb_err_set(err, LB_ENOMEM, "sampler: out of memory");
    s->p = *p;
    s->n_vocab = n_vocab;
    s->c = malloc((size_t)n_vocab * sizeof *s->c);
    s->adj = malloc((size_t)n_vocab * sizeof *s->adj);
    s->mark = calloc((size_t)n_vocab, 1);
    s->counts = calloc((size_t)n_vocab, sizeof *s->counts);
    s->hist_cap = p->penalty_last_n > 0 ? p->penalty_last_n : p->penalty_last_n < 0 ? 4096 : 1;
    s->hist = malloc((size_t)s->hist_cap * sizeof *s->hist);
    if (p->n_bias > 0) {
        s->bias = malloc((size_t)p->n_bias * sizeof *s->bias);
        if (s->bias)
            memcpy(s->bias, p->bias, (size_t)p->n_bias * sizeof *s->bias);
    }
    s->p.bias = s->bias;
    if (!s->c || !s->adj || !s->mark || !s->counts || !s->hist || (p->n_bias > 0 && !s->bias)) {
        lb_sampler_free(s);
        return lb_err_set(err, LB_ENOMEM, "sampler: out of memory");
    }
    seed_rng(s);
    *out = s;
    return LB_OK;
}

void lb_sampler_free(lb_sampler *s)
{
    if (!s)
        return;
    free(s->c);
    free(s->adj);
    free(s->mark);
    free(s->counts);
    free(s->hist);
    free(s->bias);
    free(s);
}

void lb_sampler_reset(lb_sampler *s)
{
    memset(s->counts, 0, (size_t)s->n_vocab * sizeof *s->counts);
    s->hist_n = s->hist_pos = 0;
    seed_rng(s);
}

void lb_sampler_accept(lb_sampler *s, int32_t tok)
{
    if (tok < 0 || tok >= s->n_vocab || s->p.penalty_last_n == 0)
        return;
    if (s->hist_n == s->hist_cap) {
        if (s->p.penalty_last_n < 0) {  /* whole history: grow */
            int cap = s->hist_cap * 2;
            int32_t *h = malloc((size_t)cap * sizeof *h);
            if (h) {
                for (int i = 0; i < s->hist_n; i++)
                    h[i] = s->hist[(s->hist_pos + i) % s->hist_cap];
                free(s->hist);
                s->hist = h;
                s->hist_pos = 0;
                s->hist_cap = cap;
            }
        }
        if (s->hist_n == s->hist_cap) {  /* window full: forget the oldest */
            int32_t old = s->hist[s->hist_pos];
            s->counts[old]--;
            s->hist_pos = (s->hist_pos + 1) % s->hist_cap;
            s->hist_n--;
        }
    }
    s->hist[(s->hist_pos + s->hist_n) % s->hist_cap] = tok;
    s->hist_n++;
    s->counts[tok]++;
}

/* ---- candidate ordering ---- */

static int cand_desc(const void *a, const void *b)
{
    const cand *x = a, *y = b;
    if (x->logit != y->logit)
        return x->logit > y->logit ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* Moves the k largest of c[0..n) to the front, sorted descending. */
static void top_sorted(cand *c, int n, int k)
{
    if (k >= n) {
        qsort(c, (size_t)n, sizeof *c, cand_desc);
        return;
    }
    int lo = 0, hi = n - 1;
    while (lo < hi) {  /* quickselect: after this, c[0..k) are the k largest */
        cand pivot = c[lo + (hi - lo) / 2];
        int i = lo, j = hi;
        while (i <= j) {
            while (cand_desc(&c[i], &pivot) < 0)
                i++;
            while (cand_desc(&c[j], &pivot) > 0)
                j--;
            if (i <= j) {
                cand t = c[i];
                c[i] = c[j], c[j] = t;
                i++, j--;
            }
        }
        if (k - 1 <= j)
            hi = j;
        else if (k - 1 >= i)
            lo = i;
        else
            break;
    }
    qsort(c, (size_t)k, sizeof *c, cand_desc);
}

/* Softmax over c[0..n) (sorted descending: c[0] is the max). */
static void softmax_sorted(cand *c, int n)
{
    double sum = 0;
    float max = c[0].logit;
    for (int i = 0; i < n; i++) {
        c[i].p = isinf(c[i].logit) && c[i].logit < 0 ? 0.0f : expf(c[i].logit - max);
        sum += c[i].p;
    }
    for (int i = 0; i < n; i++)
        c[i].p = (float)(c[i].p / sum);
}

/* Offers candidate x; they come in id order. k == 0 keeps all of them. Otherwise c[0..*m) is
 * a heap of the k best so far (cand_desc order) with the worst at the root, so most tokens of
 * a large vocabulary cost one comparison: a later token that only equals the root loses the
 * tie on its larger id. */
static inline void offer(cand *c, int *m, int k, cand x)
{
    if (k == 0) {
        c[(*m)++] = x;
        return;
    }
    int i;
    if (*m < k) {
        for (i = (*m)++; i > 0 && cand_desc(&x, &c[(i - 1) / 2]) > 0; i = (i - 1) / 2)
            c[i] = c[(i - 1) / 2];
        c[i] = x;
        return;
    }
    if (!(x.logit > c[0].logit))
        return;
    for (i = 0;;) {  /* x replaces the root and sinks below every child worse than it */
        int w = 2 * i + 1;
        if (w >= k)
            break;
        if (w + 1 < k && cand_desc(&c[w + 1], &c[w]) > 0)
            w++;
        if (cand_desc(&c[w], &x) <= 0)
            break;
        c[i] = c[w];
        i = w;
    }
    c[i] = x;
}

enum { MARK_ADJ = 1, MARK_PEN = 2 };

static bool penalties_on(const lb_sampler *s)
{
    const lb_sampling_params *p = &s->p;
    return s->hist_n > 0 && (p->repeat_penalty != 1.0f || p->presence_penalty != 0.0f || p->frequency_penalty != 0.0f);
}

static inline bool is_banned(float l) { return isinf(l) && l < 0; }

/* Adjusted logits of the tokens that logit bias and penalties change (bias entries summed in
 * order, then the penalty of each distinct token in the window), in adj[] and marked. */
static void mark_adjusted(lb_sampler *s, const float *logits)
{
    const lb_sampling_params *p = &s->p;
    int n = s->n_vocab;
    for (int i = 0; i < p->n_bias; i++) {
        int32_t t = p->bias[i].token;
        if (t < 0 || t >= n)
            continue;
        if (!s->mark[t]) {
            s->mark[t] = MARK_ADJ;
            s->adj[t] = isnan(logits[t]) ? -INFINITY : logits[t];
        }
        s->adj[t] += p->bias[i].bias;
    }
    if (!penalties_on(s))
        return;
    for (int k = 0; k < s->hist_n; k++) {
        int32_t t = s->hist[(s->hist_pos + k) % s->hist_cap];
        if (s->mark[t] & MARK_PEN)
            continue;
        if (!s->mark[t])
            s->adj[t] = isnan(logits[t]) ? -INFINITY : logits[t];
        s->mark[t] = MARK_ADJ | MARK_PEN;
        float l = s->adj[t];
        l = l <= 0 ? l * p->repeat_penalty : l / p->repeat_penalty;
        l -= (float)s->counts[t] * p->frequency_penalty + p->presence_penalty;
        s->adj[t] = l;
    }
}

/* Clears what mark_adjusted set (the same token lists, so no pass over the vocabulary). */
static void unmark_adjusted(lb_sampler *s)
{
    const lb_sampling_params *p = &s->p;
    for (int i = 0; i < p->n_bias; i++)
        if (p->bias[i].token >= 0 && p->bias[i].token < s->n_vocab)
            s->mark[p->bias[i].token] = 0;
    if (penalties_on(s))
        for (int k = 0; k < s->hist_n; k++)
            s->mark[s->hist[(s->hist_pos + k) % s->hist_cap]] = 0;
}

/* Argmax of the raw logits (first of equals): the answer when every token is banned. */
static int32_t raw_argmax(const float *logits, int n)
{
    int32_t best = 0;
    for (int i = 1; i < n; i++)
        if (logits[i] > logits[best])
            best = i;
    return best;
}

/* Greedy: the lowest id among the largest adjusted logits, banned (-inf) and NaN excluded. */
static int32_t greedy(lb_sampler *s, const float *logits)
{
    const lb_sampling_params *p = &s->p;
    int n = s->n_vocab;
    int32_t best = -1;
    float bv = -INFINITY;
    for (int i = 0; i < n; i++) {  /* untouched tokens: strict > keeps the first of equals */
        float l = logits[i];
        if (l > bv && !s->mark[i])
            bv = l, best = i;
    }
    /* touched tokens, in list order: compare with the id as tie-breaker */
    for (int i = 0; i < p->n_bias; i++) {
        int32_t t = p->bias[i].token;
        if (t >= 0 && t < n && (s->adj[t] > bv || (s->adj[t] == bv && !is_banned(bv) && t < best)))
            bv = s->adj[t], best = t;
    }
    if (penalties_on(s))
        for (int k = 0; k < s->hist_n; k++) {
            int32_t t = s->hist[(s->hist_pos + k) % s->hist_cap];
            if (s->adj[t] > bv || (s->adj[t] == bv && !is_banned(bv) && t < best))
                bv = s->adj[t], best = t;
        }
    return best >= 0 ? best : raw_argmax(logits, n);
}

int32_t lb_sampler_sample(lb_sampler *s, const float *logits)
{
    const lb_sampling_params *p = &s->p;
    int n = s->n_vocab;
    cand *c = s->c;
    bool touched = p->n_bias > 0 || penalties_on(s);
    if (touched)
        mark_adjusted(s, logits);
    if (p->temperature <= 0) {
        int32_t t = greedy(s, logits);
        if (touched)
            unmark_adjusted(s);
        return t;
    }

    /* Candidates, banned tokens (-inf) dropped, NaN counted as banned; with top-k only the k
     * best, found in the same pass and sorted, so the rest of the chain sees k tokens. */
    int m = 0, heap_k = p->top_k > 0 && p->top_k < n ? p->top_k : 0, full = heap_k ? heap_k : n + 1;
    for (int i = 0; i < n; i++) {
        float l = touched && s->mark[i] ? s->adj[i] : logits[i];
        if (isnan(l) || is_banned(l) || (m == full && !(l > c[0].logit)))
            continue;  /* the last test is offer's own rejection, kept inline for speed */
        offer(c, &m, heap_k, (cand){ i, l, 0 });
    }
    if (touched)
        unmark_adjusted(s);
    if (m == 0)  /* everything banned: fall back to the raw argmax */
        return raw_argmax(logits, n);
    if (heap_k)
        qsort(c, (size_t)m, sizeof *c, cand_desc);

    int k = p->top_k > 0 && p->top_k < m ? p->top_k : m;
    if (p->typical_p < 1.0f) {
        top_sorted(c, m, k);
        m = k;
        softmax_sorted(c, m);
        double ent = 0;
        for (int i = 0; i < m; i++)
            if (c[i].p > 0)
                ent -= c[i].p * log(c[i].p);
        /* order by |−log p − H| ascending; keep the smallest set reaching typical_p mass */
        float *shift = malloc((size_t)m * sizeof *shift);
        int *idx = malloc((size_t)m * sizeof *idx);
        cand *tmp = malloc((size_t)m * sizeof *tmp);
        if (shift && idx && tmp) {
            for (int i = 0; i < m; i++) {
                shift[i] = c[i].p > 0 ? (float)fabs(-log(c[i].p) - ent) : INFINITY;
                idx[i] = i;
            }
            for (int i = 1; i < m; i++)  /* insertion sort: m is at most top_k here in practice */
                for (int j = i; j > 0 && shift[idx[j]] < shift[idx[j - 1]]; j--) {
                    int t = idx[j];
                    idx[j] = idx[j - 1], idx[j - 1] = t;
                }
            double cum = 0;
            int keep = 0;
            for (int i = 0; i < m; i++) {
                tmp[keep++] = c[idx[i]];
                cum += c[idx[i]].p;
                if (cum >= p->typical_p)
                    break;
            }
            qsort(tmp, (size_t)keep, sizeof *tmp, cand_desc);
            memcpy(c, tmp, (size_t)keep * sizeof *c);
            m = keep;
            k = m;
        }
        free(shift);
        free(idx);
        free(tmp);
    }

    if (p->top_p < 1.0f) {
        /* Grow the sorted prefix until it holds top_p of the mass. */
        float max;
        double total = 0;
        {
            int b = 0;
            for (int i = 1; i < m; i++)
                if (c[i].logit > c[b].logit)
                    b = i;
            max = c[b].logit;
        }
        if (k < m) {
            top_sorted(c, m, k);
            m = k;
        }
        for (int i = 0; i < m; i++)
            total += exp((double)c[i].logit - max);
        int want = m < 64 ? m : 64;
        for (;;) {
            top_sorted(c, m, want);
            double cum = 0;
            int keep = -1;
            for (int i = 0; i < want; i++) {
                cum += exp((double)c[i].logit - max) / total;
                if (cum >= p->top_p) {
                    keep = i + 1;
                    break;
                }
            }
            if (keep > 0 || want == m) {
                m = keep > 0 ? keep : m;
                break;
            }
            want = want * 4 < m ? want * 4 : m;
        }
        k = m;
    } else if (k < m) {
        top_sorted(c, m, k);
        m = k;
    } else {
        top_sorted(c, m, m);
    }
    /* c[0..m) is now sorted descending. */
    if (p->min_p > 0.0f && m > 1) {
        float cut = c[0].logit + logf(p->min_p);
        int keep = 1;
        while (keep < m && c[keep].logit >= cut)
            keep++;
        m = keep;
    }
    for (int i = 0; i < m; i++)
        c[i].logit /= p->temperature;
    softmax_sorted(c, m);
    double r = next_unit(s), cum = 0;
    for (int i = 0; i < m; i++) {
        cum += c[i].p;
        if (r < cum)
            return c[i].id;
    }
    return c[m - 1].id;
}
