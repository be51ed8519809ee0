/* Weights memory benchmark: load time and generation speed of one model with the weights in
 * (a) plain anonymous memory, anonymous memory + THP, (b) explicit hugepages (MAP_HUGETLB) and (c) a hugetlbfs file,
 * where a second load of (c) is a service restart that maps the pages again without
 * reading the model. One JSON line per run on stdout. Run by bench/hugepages.sh (root: it
 * sizes the hugetlb pool). Not a unit test: timings vary with the machine. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine.h"
#include "err.h"
#include "log.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: hugepages_bench MODEL off|thp|huge|hugetlbfs:DIR N_TOKENS [THREADS]\n");
        return 2;
    }
    const char *path = argv[1], *mode = argv[2];
    int n_tg = atoi(argv[3]), threads = argc > 4 ? atoi(argv[4]) : 0;
    lb_log_init("bench", LB_LOG_WARN);
    lb_load_opts lo = LB_LOAD_OPTS_DEFAULT;
    if (!strcmp(mode, "off")) {
        lo.hugepages = 0;          /* plain anonymous memory */
    } else if (!strcmp(mode, "thp")) {
        lo.hugepages = -1;         /* with an empty pool: anonymous memory + MADV_HUGEPAGE */
    } else if (!strcmp(mode, "huge")) {
        lo.hugepages = 1;
    } else if (!strncmp(mode, "hugetlbfs:", 10)) {
        lo.hugepages = -1;
        lo.hugetlb_dir = mode + 10;
    } else {
        fprintf(stderr, "bad mode %s\n", mode);
        return 2;
    }
    lb_err err = { 0 };
    lb_model *m = NULL;
    lb_ctx *c = NULL;
    double t0 = now_ms();
    if (lb_model_load(path, &lo, &m, &err) != LB_OK) {
        fprintf(stderr, "load: %s\n", err.msg);
        return 1;
    }
    double load_ms = now_ms() - t0;
    lb_ctx_params cp = { .n_ctx = n_tg + 8, .n_seq = 1, .n_batch = 8, .n_threads = threads };
    if (lb_ctx_new(m, &cp, &c, &err) != LB_OK) {
        fprintf(stderr, "ctx: %s\n", err.msg);
        lb_model_free(m);
        return 1;
    }
    double ready_ms = now_ms() - t0;
    /* Generation: one token per step, greedy on the logits, as a chat reply would run. */
    int32_t tok = 1, pos = 0;
    int n_vocab = lb_model_n_vocab(m);
    double g0 = 0;
    int rc = 0;
    for (int i = 0; i <= n_tg && rc == 0; i++) {
        if (i == 1)
            g0 = now_ms();  /* step 0 warms up */
        lb_batch b = { .n = 1, .tokens = &tok, .pos = &pos };
        if ((rc = lb_decode(c, &b, &err)) != LB_OK)
            break;
        const float *lg = lb_get_logits(c, 0);
        int best = 0;
        for (int v = 1; v < n_vocab; v++)
            if (lg[v] > lg[best])
                best = v;
        tok = best;
        pos++;
    }
    double tg_ms = now_ms() - g0;
    if (rc) {
        fprintf(stderr, "decode: %s\n", err.msg);
    } else {
        lb_model_info in;
        lb_model_get_info(m, &in);
        printf("{\"mode\":\"%s\",\"weights_memory\":\"%s\",\"hugepage_bytes\":%llu,\"weight_bytes\":%llu,"
               "\"load_ms\":%.1f,\"ready_ms\":%.1f,\"tg_tokens\":%d,\"tg_tps\":%.2f}\n",
               mode, in.weights_memory, (unsigned long long)in.hugepage_bytes, (unsigned long long)in.weight_bytes,
               load_ms, ready_ms, n_tg, n_tg / (tg_ms / 1e3));
    }
    lb_ctx_free(c);
    lb_model_free(m);
    return rc ? 1 : 0;
}
