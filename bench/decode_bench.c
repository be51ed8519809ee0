/* Continuous-batching ceiling of the engine: milliseconds per lb_decode step with 1, 2 and 4
 * sequences generating one token each (what llmboxd's scheduler runs per step with that many
 * streams), and the aggregate speed-up over one sequence. Rounds alternate the sizes so
 * machine noise spreads over all of them.
 *   decode_bench MODEL [-t THREADS] [-n STEPS] [-r ROUNDS] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median ms per step of `steps` steps of n_seq tokens (one per sequence), after one warm-up. */
static int run(lb_ctx *c, int n_seq, int steps, double *ms, lb_err *err)
{
    int32_t tok[4], pos[4], seq[4];
    uint8_t want[4] = { 1, 1, 1, 1 };
    double *t = malloc(sizeof(double) * (size_t)steps);
    int rc = LB_OK;
    if (!t)
        return lb_err_set(err, LB_ENOMEM, "out of memory");
    for (int s = 0; s < n_seq; s++)
        lb_kv_truncate(c, s, 0);
    for (int i = -1; i < steps; i++) {
        for (int s = 0; s < n_seq; s++) {
            tok[s] = 1 + (i + 1) * 7 + s * 13;
            pos[s] = i + 1;
            seq[s] = s;
        }
        lb_batch b = { .n = n_seq, .tokens = tok, .pos = pos, .seq = seq, .want_logits = want };
        double t0 = now_ms();
        if ((rc = lb_decode(c, &b, err)))
            goto out;
        if (i >= 0)
            t[i] = now_ms() - t0;
    }
    qsort(t, (size_t)steps, sizeof *t, cmp_double);
    *ms = t[steps / 2];
out:
    free(t);
    return rc;
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : NULL;
    int threads = 0, steps = 32, rounds = 3;
    for (int i = 2; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "-t"))
            threads = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "-n"))
            steps = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "-r"))
            rounds = atoi(argv[i + 1]);
    }
    if (!path || steps < 1 || steps > 1000 || rounds < 1 || rounds > 100) {
        fprintf(stderr, "usage: decode_bench MODEL [-t THREADS] [-n STEPS 1-1000] [-r ROUNDS 1-100]\n");
        return 2;
    }
    lb_err err = { 0 };
    lb_model *m = NULL;
    lb_ctx *c = NULL;
    lb_load_opts lo = LB_LOAD_OPTS_DEFAULT;
    int rc = lb_model_load(path, &lo, &m, &err);
    if (!rc) {
        lb_ctx_params p = { .n_ctx = steps + 8, .n_seq = 4, .n_batch = 4, .n_threads = threads };
        rc = lb_ctx_new(m, &p, &c, &err);
    }
    const int sizes[3] = { 1, 2, 4 };
    double ms[100][3];
    for (int r = 0; r < rounds && !rc; r++)
        for (int k = 0; k < 3 && !rc; k++) {
            int i = (k + r) % 3;
            rc = run(c, sizes[i], steps, &ms[r][i], &err);
        }
    if (rc) {
        fprintf(stderr, "decode_bench: %s\n", err.msg);
        goto out;
    }
    for (int i = 0; i < 3; i++) {
        double v[100];
        for (int r = 0; r < rounds; r++)
            v[r] = ms[r][i];
        qsort(v, (size_t)rounds, sizeof *v, cmp_double);
        double one[100];
        for (int r = 0; r < rounds; r++)
            one[r] = ms[r][0];
        qsort(one, (size_t)rounds, sizeof *one, cmp_double);
        printf("{\"seqs\":%d,\"ms_per_step\":%.2f,\"rounds_ms\":[", sizes[i], v[rounds / 2]);
        for (int r = 0; r < rounds; r++)
            printf("%s%.2f", r ? "," : "", ms[r][i]);
        printf("],\"speedup\":%.2f}\n", sizes[i] * one[rounds / 2] / v[rounds / 2]);
    }
out:
    lb_ctx_free(c);
    lb_model_free(m);
    return rc ? 1 : 0;
}
