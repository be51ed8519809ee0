/* Samplers on fixed logits with fixed seeds, their edge cases, and stop strings. */
#include "../lib/harness.h"
#include "sampler.h"

#include <math.h>
#include <stdlib.h>

static lb_sampling_params plain(void)
{
    lb_sampling_params p = lb_sampling_default();
    p.temperature = 1.0f;
    p.top_k = 0;
    p.top_p = 1.0f;
    p.min_p = 0.0f;
    p.typical_p = 1.0f;
    p.penalty_last_n = 0;
    p.seed = 42;
    return p;
}

static lb_sampler *mk(const lb_sampling_params *p, int n)
{
    lb_sampler *s = NULL;
    lb_err err = { 0 };
    if (lb_sampler_new(p, n, &s, &err) < 0)
        lb_test_fail(__FILE__, __LINE__, "sampler_new: %s", err.msg);
    return s;
}

/* Draws n samples and counts each token. */
static void histogram(lb_sampler *s, const float *logits, int n_vocab, int draws, int *counts)
{
    for (int i = 0; i < n_vocab; i++)
        counts[i] = 0;
    for (int i = 0; i < draws; i++) {
        int32_t t = lb_sampler_sample(s, logits);
        if (t >= 0 && t < n_vocab)
            counts[t]++;
    }
}

static const float k_logits[6] = { 1.0f, 3.0f, 2.0f, 0.5f, 2.9f, -1.0f };

TEST(greedy_is_argmax)
{
    lb_sampling_params p = plain();
    p.temperature = 0;
    lb_sampler *s = mk(&p, 6);
    if (!s)
        return;
    for (int i = 0; i < 10; i++)
        CHECK_EQ(lb_sampler_sample(s, k_logits), 1);
    lb_sampler_free(s);
}

TEST(seed_reproducible_and_distribution)
{
    lb_sampling_params p = plain();
    lb_sampler *a = mk(&p, 6), *b = mk(&p, 6);
    if (!a || !b)
        return;
    int seq_a[50], same = 1;
    for (int i = 0; i < 50; i++)
        seq_a[i] = lb_sampler_sample(a, k_logits);
    for (int i = 0; i < 50; i++)
        same &= seq_a[i] == lb_sampler_sample(b, k_logits);
    CHECK(same);
    lb_sampler_reset(a);  /* reset restarts the seeded sequence */
    for (int i = 0; i < 50; i++)
        same &= seq_a[i] == lb_sampler_sample(a, k_logits);
    CHECK(same);
    /* empirical frequencies match softmax within a few percent */
    int counts[6];
    histogram(a, k_logits, 6, 20000, counts);
    double z = 0;
    for (int i = 0; i < 6; i++)
        z += exp(k_logits[i]);
    for (int i = 0; i < 6; i++)
        CHECK_NEAR(counts[i] / 20000.0, exp(k_logits[i]) / z, 0.015);
    lb_sampler_free(a);
    lb_sampler_free(b);
    p.seed = 43;
    lb_sampler *c = mk(&p, 6);
    int diff = 0;
    for (int i = 0; i < 50; i++)
        diff += seq_a[i] != lb_sampler_sample(c, k_logits);
    CHECK(diff > 0);
    lb_sampler_free(c);
}

TEST(top_k)
{
    lb_sampling_params p = plain();
    p.top_k = 2;
    lb_sampler *s = mk(&p, 6);
    int counts[6];
    histogram(s, k_logits, 6, 5000, counts);
    CHECK(counts[1] > 0 && counts[4] > 0);
    CHECK_EQ(counts[0] + counts[2] + counts[3] + counts[5], 0);
    lb_sampler_free(s);
    p.top_k = 1000;  /* larger than the vocabulary: no cut */
    s = mk(&p, 6);
    histogram(s, k_logits, 6, 20000, counts);
    for (int i = 0; i < 6; i++)
        CHECK(counts[i] > 0);
    lb_sampler_free(s);
}

TEST(top_p_edges)
{
    lb_sampling_params p = plain();
    p.top_p = 0.0f;  /* only the most likely token */
    lb_sampler *s = mk(&p, 6);
    int counts[6];
    histogram(s, k_logits, 6, 2000, counts);
    CHECK_EQ(counts[1], 2000);
    lb_sampler_free(s);
    /* probabilities: 1→.38 4→.34 2→.14 0→.05 3→.03 5→.01; 0.7 needs tokens 1 and 4 */
    p.top_p = 0.7f;
    s = mk(&p, 6);
    histogram(s, k_logits, 6, 5000, counts);
    CHECK(counts[1] > 0 && counts[4] > 0);
    CHECK_EQ(counts[0] + counts[2] + counts[3] + counts[5], 0);
    lb_sampler_free(s);
    p.top_p = 1.0f;  /* off */
    s = mk(&p, 6);
    histogram(s, k_logits, 6, 20000, counts);
    CHECK(counts[5] > 0);
    lb_sampler_free(s);
}

TEST(top_p_large_vocab)
{
    /* 100k tokens, one clear winner group: the nucleus is found without a full sort */
    int n = 100000;
    float *l = malloc((size_t)n * sizeof *l);
    for (int i = 0; i < n; i++)
        l[i] = (float)(i % 1000) * 0.001f;
    l[777] = 30.0f;
    l[4242] = 29.9f;
    lb_sampling_params p = plain();
    p.top_p = 0.9f;
    lb_sampler *s = mk(&p, n);
    int hit[2] = { 0, 0 }, other = 0;
    for (int i = 0; i < 2000; i++) {
        int32_t t = lb_sampler_sample(s, l);
        if (t == 777)
            hit[0]++;
        else if (t == 4242)
            hit[1]++;
        else
            other++;
    }
    CHECK(hit[0] > 0 && hit[1] > 0);
    CHECK_EQ(other, 0);
    lb_sampler_free(s);
    free(l);
}

TEST(min_p_and_typical_p)
{
    lb_sampling_params p = plain();
    p.min_p = 0.5f;  /* keep tokens with p >= 0.5 * p_max: 1 and 4 (e^-0.1 = .90) */
    lb_sampler *s = mk(&p, 6);
    int counts[6];
    histogram(s, k_logits, 6, 5000, counts);
    CHECK(counts[1] > 0 && counts[4] > 0);
    CHECK_EQ(counts[0] + counts[2] + counts[3] + counts[5], 0);
    lb_sampler_free(s);
    /* typical_p with a tiny mass keeps only the token closest to the entropy */
    p = plain();
    p.typical_p = 0.01f;
    s = mk(&p, 6);
    histogram(s, k_logits, 6, 2000, counts);
    int nonzero = 0;
    for (int i = 0; i < 6; i++)
        nonzero += counts[i] > 0;
    CHECK_EQ(nonzero, 1);
    CHECK_EQ(counts[4], 2000);  /* |-log p - H| is smallest for token 4 (0.30) */
    lb_sampler_free(s);
}

TEST(temperature_sharpens)
{
    lb_sampling_params p = plain();
    p.temperature = 0.1f;
    lb_sampler *s = mk(&p, 6);
    int counts[6];
    histogram(s, k_logits, 6, 5000, counts);
    /* at T=0.1: token 1 vs 4 differ by 0.1 logit → e^1 ratio; others vanish */
    CHECK(counts[1] > counts[4]);
    CHECK_NEAR((double)counts[1] / (counts[1] + counts[4]), exp(1.0) / (1 + exp(1.0)), 0.03);
    CHECK_EQ(counts[0] + counts[2] + counts[3] + counts[5], 0);
    lb_sampler_free(s);
}

TEST(logit_bias_bans_and_boosts)
{
    lb_logit_bias bias[2] = { { 1, -INFINITY }, { 5, 10.0f } };
    lb_sampling_params p = plain();
    p.temperature = 0;
    p.bias = bias;
    p.n_bias = 1;
    lb_sampler *s = mk(&p, 6);
    CHECK_EQ(lb_sampler_sample(s, k_logits), 4);  /* 1 banned */
    lb_sampler_free(s);
    p.n_bias = 2;
    s = mk(&p, 6);
    CHECK_EQ(lb_sampler_sample(s, k_logits), 5);  /* -1 + 10 */
    lb_sampler_free(s);
    /* sampling never returns a banned token */
    p.temperature = 1.0f;
    p.n_bias = 1;
    s = mk(&p, 6);
    int counts[6];
    histogram(s, k_logits, 6, 5000, counts);
    CHECK_EQ(counts[1], 0);
    lb_sampler_free(s);
}

TEST(penalties_window)
{
    lb_sampling_params p = plain();
    p.temperature = 0;
    p.repeat_penalty = 2.0f;
    p.penalty_last_n = 2;
    lb_sampler *s = mk(&p, 6);
    CHECK_EQ(lb_sampler_sample(s, k_logits), 1);
    lb_sampler_accept(s, 1);  /* 3 / 2 = 1.5 < 2.9 */
    CHECK_EQ(lb_sampler_sample(s, k_logits), 4);
    lb_sampler_accept(s, 4);  /* both penalised: 1.5, 1.45; token 2 (2.0) wins */
    CHECK_EQ(lb_sampler_sample(s, k_logits), 2);
    lb_sampler_accept(s, 0);  /* window of 2 drops token 1 → 1 wins again */
    CHECK_EQ(lb_sampler_sample(s, k_logits), 1);
    lb_sampler_free(s);

    p.repeat_penalty = 1.0f;
    p.presence_penalty = 0.5f;
    p.frequency_penalty = 0.1f;
    p.penalty_last_n = -1;  /* whole history */
    s = mk(&p, 6);
    for (int i = 0; i < 5000; i++)  /* grows past the initial capacity */
        lb_sampler_accept(s, 3);
    lb_sampler_accept(s, 1);  /* 3 - 0.5 - 0.1 = 2.4 < 2.9 */
    CHECK_EQ(lb_sampler_sample(s, k_logits), 4);
    lb_sampler_free(s);

    p.presence_penalty = 0;
    p.frequency_penalty = 0;
    p.repeat_penalty = 2.0f;
    p.penalty_last_n = 0;  /* off */
    s = mk(&p, 6);
    lb_sampler_accept(s, 1);
    CHECK_EQ(lb_sampler_sample(s, k_logits), 1);
    lb_sampler_free(s);
}

TEST(all_banned_and_bad_params)
{
    lb_logit_bias bias[6];
    for (int i = 0; i < 6; i++)
        bias[i] = (lb_logit_bias){ i, -INFINITY };
    lb_sampling_params p = plain();
    p.bias = bias;
    p.n_bias = 6;
    lb_sampler *s = mk(&p, 6);
    int32_t t = lb_sampler_sample(s, k_logits);
    CHECK(t >= 0 && t < 6);
    lb_sampler_free(s);
    lb_err err = { 0 };
    p = plain();
    p.temperature = NAN;
    CHECK_EQ(lb_sampler_new(&p, 6, &s, &err), LB_EINVAL);
    p = plain();
    CHECK_EQ(lb_sampler_new(&p, 0, &s, &err), LB_EINVAL);
}

/* ---- stop strings ---- */

TEST(stop_across_token_boundaries)
{
    const char *stops[] = { "</answer>", "\n\nUser:" };
    lb_stop *st = NULL;
    lb_err err = { 0 };
    CHECK_EQ(lb_stop_new(stops, 2, &st, &err), 0);
    if (!st)
        return;
    char out[64];
    int n = -1;
    CHECK_EQ(lb_stop_push(st, "Hello </an", 10, out, sizeof out, &n), 0);
    CHECK_STR(out, "Hello ");  /* "</an" held back */
    CHECK_EQ(n, 6);
    CHECK_EQ(lb_stop_push(st, "d", 1, out, sizeof out, &n), 0);  /* "</and" cannot match */
    CHECK_STR(out, "</and");
    CHECK_EQ(lb_stop_push(st, " more\n", 6, out, sizeof out, &n), 0);
    CHECK_STR(out, " more");
    CHECK_EQ(lb_stop_push(st, "\nUs", 3, out, sizeof out, &n), 0);
    CHECK_STR(out, "");
    CHECK_EQ(lb_stop_push(st, "er: hi", 6, out, sizeof out, &n), 1);
    CHECK_STR(out, "");
    CHECK_EQ(n, 0);
    lb_stop_free(st);

    CHECK_EQ(lb_stop_new(stops, 2, &st, &err), 0);
    CHECK_EQ(lb_stop_push(st, "x</ans", 6, out, sizeof out, &n), 0);
    CHECK_STR(out, "x");
    CHECK_EQ(lb_stop_flush(st, out, sizeof out), 5);  /* end of generation: held text was real */
    CHECK_STR(out, "</ans");
    /* the stop string inside one piece: text before it is emitted */
    CHECK_EQ(lb_stop_push(st, "ab</answer>cd", 13, out, sizeof out, &n), 1);
    CHECK_STR(out, "ab");
    lb_stop_free(st);

    /* no stop strings: everything passes straight through */
    CHECK_EQ(lb_stop_new(NULL, 0, &st, &err), 0);
    CHECK_EQ(lb_stop_push(st, "abc", 3, out, sizeof out, &n), 0);
    CHECK_STR(out, "abc");
    lb_stop_free(st);
    /* small output buffer: text is kept for later, never lost */
    CHECK_EQ(lb_stop_new(stops, 2, &st, &err), 0);
    char small[4];
    CHECK_EQ(lb_stop_push(st, "abcdef", 6, small, sizeof small, &n), 0);
    CHECK_STR(small, "abc");
    CHECK_EQ(lb_stop_flush(st, out, sizeof out), 3);
    CHECK_STR(out, "def");
    lb_stop_free(st);
}

/* ---- greedy and the candidate pass against a plain reference ---- */

static uint32_t rnd(uint32_t *x)
{
    *x = *x * 1103515245u + 12345u;
    return *x >> 8;
}

/* The sampling chain's first steps written the obvious way: NaN → -inf, bias entries added in
 * order, the penalties of each distinct token in the window, then the first of the largest
 * logits that is not -inf or NaN (the raw argmax when there is none). */
static int32_t ref_greedy(const lb_sampling_params *p, const float *logits, int n, const int32_t *hist, int n_hist)
{
    float *l = malloc((size_t)n * sizeof *l);
    int *cnt = calloc((size_t)n, sizeof *cnt);
    for (int i = 0; i < n; i++)
        l[i] = isnan(logits[i]) ? -INFINITY : logits[i];
    for (int i = 0; i < p->n_bias; i++)
        l[p->bias[i].token] += p->bias[i].bias;
    int from = p->penalty_last_n < 0 ? 0 : n_hist > p->penalty_last_n ? n_hist - p->penalty_last_n : 0;
    if (p->penalty_last_n != 0)
        for (int k = from; k < n_hist; k++)
            cnt[hist[k]]++;
    if (p->repeat_penalty != 1.0f || p->presence_penalty != 0.0f || p->frequency_penalty != 0.0f)
        for (int t = 0; t < n; t++)
            if (cnt[t] > 0) {
                float v = l[t] <= 0 ? l[t] * p->repeat_penalty : l[t] / p->repeat_penalty;
                l[t] = v - ((float)cnt[t] * p->frequency_penalty + p->presence_penalty);
            }
    int32_t best = -1;
    for (int i = 0; i < n; i++)
        if (!isnan(l[i]) && !(isinf(l[i]) && l[i] < 0) && (best < 0 || l[i] > l[best]))
            best = i;
    if (best < 0) {
        best = 0;
        for (int i = 1; i < n; i++)
            if (logits[i] > logits[best])
                best = i;
    }
    free(l);
    free(cnt);
    return best;
}

TEST(greedy_matches_reference_with_bias_and_penalties)
{
    enum { N = 40, ROUNDS = 3000 };
    uint32_t x = 7;
    float logits[N];
    int32_t hist[64];
    lb_logit_bias bias[8];
    int mismatches = 0, top1_mismatches = 0, banned_all = 0;
    for (int round = 0; round < ROUNDS; round++) {
        lb_sampling_params p = plain();
        p.temperature = 0;
        p.n_bias = (int)(rnd(&x) % 9);
        for (int i = 0; i < p.n_bias; i++) {
            int32_t t = (int32_t)(rnd(&x) % 6);  /* few distinct tokens: duplicates add up */
            uint32_t r = rnd(&x) % 4;
            bias[i] = (lb_logit_bias){ t, r == 0 ? -INFINITY : (float)((int)(rnd(&x) % 9) - 4) };
        }
        p.bias = bias;
        p.repeat_penalty = rnd(&x) % 2 ? 1.0f : 1.5f;
        p.presence_penalty = rnd(&x) % 2 ? 0.0f : 0.5f;
        p.frequency_penalty = rnd(&x) % 2 ? 0.0f : 0.25f;
        p.penalty_last_n = (int)(rnd(&x) % 5) - 1;  /* -1 whole history, 0 off, 1..3 */
        for (int i = 0; i < N; i++) {
            uint32_t r = rnd(&x) % 20;
            /* small integers make ties common; some banned, some NaN */
            logits[i] = r == 0 ? -INFINITY : r == 1 ? NAN : (float)((int)(rnd(&x) % 7) - 3);
        }
        if (round % 50 == 0)
            for (int i = 0; i < N; i++)
                logits[i] = -INFINITY;
        int n_hist = (int)(rnd(&x) % 12);
        for (int k = 0; k < n_hist; k++)
            hist[k] = (int32_t)(rnd(&x) % 8);
        lb_sampler *s = mk(&p, N);
        if (!s)
            return;
        for (int k = 0; k < n_hist; k++)
            lb_sampler_accept(s, hist[k]);
        int32_t want = ref_greedy(&p, logits, N, hist, n_hist);
        int32_t got = lb_sampler_sample(s, logits);
        mismatches += got != want;
        got = lb_sampler_sample(s, logits);  /* nothing left behind by the first call */
        mismatches += got != want;
        lb_sampler_free(s);
        /* the candidate pass of the sampling path keeps the same order: top_k 1 is greedy */
        p.temperature = 0.7f;
        p.top_k = 1;
        s = mk(&p, N);
        for (int k = 0; k < n_hist; k++)
            lb_sampler_accept(s, hist[k]);
        top1_mismatches += lb_sampler_sample(s, logits) != want;
        lb_sampler_free(s);
        banned_all += round % 50 == 0;
    }
    CHECK_EQ(mismatches, 0);
    CHECK_EQ(top1_mismatches, 0);
    CHECK(banned_all > 0);
}

TEST(top_k_keeps_lowest_ids_among_equal_logits)
{
    /* 5000 tokens; logit 5 at ids 4000, 3000, 100, 200, 4999 and logit 6 at 2500: top-4 is 2500
     * then the three lowest ids of the logit-5 group, however the vocabulary is ordered */
    enum { N = 5000 };
    static float l[N];
    for (int i = 0; i < N; i++)
        l[i] = (float)(i % 7) * 0.1f;
    int five[] = { 4000, 3000, 100, 200, 4999 };
    for (int i = 0; i < 5; i++)
        l[five[i]] = 5.0f;
    l[2500] = 6.0f;
    lb_sampling_params p = plain();
    p.top_k = 4;
    p.temperature = 100.0f;  /* nearly uniform over what top-k keeps */
    lb_sampler *s = mk(&p, N);
    int seen_2500 = 0, seen_100 = 0, seen_200 = 0, seen_3000 = 0, other = 0;
    for (int i = 0; i < 4000; i++) {
        int32_t t = lb_sampler_sample(s, l);
        seen_2500 += t == 2500, seen_100 += t == 100, seen_200 += t == 200, seen_3000 += t == 3000;
        other += t != 2500 && t != 100 && t != 200 && t != 3000;
    }
    CHECK(seen_2500 > 0 && seen_100 > 0 && seen_200 > 0 && seen_3000 > 0);
    CHECK_EQ(other, 0);
    lb_sampler_free(s);
}
