/* Sampling chain: logit bias → penalties → top-k → typical-p → top-p → min-p → temperature
 * → draw with a seeded RNG (xoshiro256**). Candidates are sorted only as far as needed:
 * top-p over a 150k vocabulary must not sort the whole vocabulary each token. */
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
    s->counts = calloc((size_t)n_vocab, sizeof *s->counts);
    s->hist_cap = p->penalty_last_n > 0 ? p->penalty_last_n : p->penalty_last_n < 0 ? 4096 : 1;
    s->hist = malloc((size_t)s->hist_cap * sizeof *s->hist);
    if (p->n_bias > 0) {
        s->bias = malloc((size_t)p->n_bias * sizeof *s->bias);
        if (s->bias)
            memcpy(s->bias, p->bias, (size_t)p->n_bias * sizeof *s->bias);
    }
    s->p.bias = s->bias;
    if (!s->c || !s->counts || !s->hist || (p->n_bias > 0 && !s->bias)) {
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

int32_t lb_sampler_sample(lb_sampler *s, const float *logits)
{
    const lb_sampling_params *p = &s->p;
    int n = s->n_vocab;
    cand *c = s->c;
    for (int i = 0; i < n; i++) {
        float l = logits[i];
        c[i] = (cand){ i, isnan(l) ? -INFINITY : l, 0 };
    }
    for (int i = 0; i < p->n_bias; i++)
        if (p->bias[i].token >= 0 && p->bias[i].token < n)
            c[p->bias[i].token].logit += p->bias[i].bias;
    if (s->hist_n > 0 && (p->repeat_penalty != 1.0f || p->presence_penalty != 0.0f ||
                          p->frequency_penalty != 0.0f)) {
        for (int k = 0; k < s->hist_n; k++) {
            int32_t t = s->hist[(s->hist_pos + k) % s->hist_cap];
            uint32_t cnt = s->counts[t];
            if (cnt == 0)
                continue;  /* already handled (counts zeroed below while iterating) */
            float l = c[t].logit;
            l = l <= 0 ? l * p->repeat_penalty : l / p->repeat_penalty;
            l -= (float)cnt * p->frequency_penalty + p->presence_penalty;
            c[t].logit = l;
            s->counts[t] = 0;  /* mark done; restored below */
            c[t].p = (float)cnt;
        }
        for (int k = 0; k < s->hist_n; k++) {
            int32_t t = s->hist[(s->hist_pos + k) % s->hist_cap];
            if (s->counts[t] == 0)
                s->counts[t] = (uint32_t)c[t].p;
            c[t].p = 0;
        }
    }

    /* Drop banned tokens (-inf); if everything is banned, fall back to the raw argmax. */
    int m = 0;
    for (int i = 0; i < n; i++)
        if (!(isinf(c[i].logit) && c[i].logit < 0))
            c[m++] = c[i];
    if (m == 0) {
        int32_t best = 0;
        for (int i = 1; i < n; i++)
            if (logits[i] > logits[best])
                best = i;
        return best;
    }

    if (p->temperature <= 0) {  /* greedy */
        int best = 0;
        for (int i = 1; i < m; i++)
            if (c[i].logit > c[best].logit)
                best = i;
        return c[best].id;
    }

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
