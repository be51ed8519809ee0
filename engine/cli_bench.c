/* llmbox bench: prompt processing (one batch of -p tokens) and generation (-n single-token
 * steps) speed, medians over -r repetitions. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cpu_features.h"
#include "json.h"
#include "kernels.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int lb_cli_bench(int argc, char **argv)
{
    const char *path = NULL;
    long n_pp = 128, n_tg = 64, threads = 0, reps = 1;
    bool json = false;
    int flash = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json")) {
            json = true;
            continue;
        }
        const char *a = argv[i], *v = lb_cli_value(argc, argv, &i);
        if (!v)
            return lb_cli_fail(2, "bench: option %s needs a value", a);
        if (!strcmp(a, "-m") || !strcmp(a, "--model"))
            path = v;
        else if (!strcmp(a, "-p") && lb_cli_int(v, 1, 65536, &n_pp))
            ;
        else if (!strcmp(a, "-n") && lb_cli_int(v, 1, 65536, &n_tg))
            ;
        else if (!strcmp(a, "-t") && lb_cli_int(v, 1, 1024, &threads))
            ;
        else if (!strcmp(a, "-r") && lb_cli_int(v, 1, 100, &reps))
            ;
        else if ((!strcmp(a, "-fa") || !strcmp(a, "--flash-attn")) && lb_cli_onoff(v, &flash))
            ;
        else
            return lb_cli_fail(2, "bench: bad option or value: %s %s", a, v);
    }
    if (!path)
        return lb_cli_fail(2, "bench: -m FILE is required");
    lb_model *m = NULL;
    lb_ctx *c = NULL;
    int32_t *toks = NULL, *pos = NULL;
    double *pp = NULL, *tg = NULL;
    lb_err err = { 0 };
    int st = lb_cli_load(path, false, &m);
    if (st)
        return st;
    lb_ctx_params cp = { .n_ctx = (int)(n_pp + n_tg), .n_seq = 1, .n_batch = (int)n_pp, .n_threads = (int)threads, .flash_attn = flash };
    if (lb_ctx_new(m, &cp, &c, &err)) {
        st = lb_cli_fail(1, "bench: %s", err.msg);
        goto out;
    }
    size_t n = (size_t)(n_pp + n_tg);
    toks = malloc(n * sizeof *toks);
    pos = malloc(n * sizeof *pos);
    pp = malloc((size_t)reps * sizeof *pp);
    tg = malloc((size_t)reps * sizeof *tg);
    if (!toks || !pos || !pp || !tg) {
        st = lb_cli_fail(1, "bench: no memory");
        goto out;
    }
    uint32_t r = 12345;
    int nv = lb_model_n_vocab(m);
    for (size_t i = 0; i < n; i++) {
        r = r * 1103515245u + 12345u;
        toks[i] = (int32_t)((r >> 8) % (uint32_t)nv);
        pos[i] = (int32_t)i;
    }
    /* Untimed warm-up, as the llama.cpp side of bench/ gets one: first-touch page faults of
     * the context's buffers and one-time kernel setup are not tokens/s. */
    {
        lb_batch wb = { .n = (int)n_pp, .tokens = toks, .pos = pos };
        if (lb_decode(c, &wb, &err)) {
            st = lb_cli_fail(1, "bench: %s", err.msg);
            goto out;
        }
    }
    for (long rep = 0; rep < reps; rep++) {
        lb_kv_truncate(c, 0, 0);
        double t0 = lb_cli_now_ms();
        lb_batch b = { .n = (int)n_pp, .tokens = toks, .pos = pos };
        if (lb_decode(c, &b, &err)) {
            st = lb_cli_fail(1, "bench: %s", err.msg);
            goto out;
        }
        double t1 = lb_cli_now_ms();
        for (long i = 0; i < n_tg; i++) {
            b = (lb_batch){ .n = 1, .tokens = &toks[n_pp + i], .pos = &pos[n_pp + i] };
            if (lb_decode(c, &b, &err)) {
                st = lb_cli_fail(1, "bench: %s", err.msg);
                goto out;
            }
        }
        double t2 = lb_cli_now_ms();
        pp[rep] = n_pp / ((t1 - t0) / 1e3);
        tg[rep] = n_tg / ((t2 - t1) / 1e3);
    }
    qsort(pp, (size_t)reps, sizeof *pp, cmp_double);
    qsort(tg, (size_t)reps, sizeof *tg, cmp_double);
    lb_model_info in;
    lb_model_get_info(m, &in);
    int nt = threads > 0 ? (int)threads : 0;
    if (nt == 0)
        nt = lb_cpu_physical_cores("");
    if (json) {
        lb_jw w;
        lb_jw_init(&w);
        lb_jw_obj_begin(&w);
        lb_jw_key(&w, "model"); lb_jw_str(&w, in.name);
        lb_jw_key(&w, "arch"); lb_jw_str(&w, in.arch);
        lb_jw_key(&w, "n_threads"); lb_jw_int(&w, nt);
        lb_jw_key(&w, "n_prompt"); lb_jw_int(&w, n_pp);
        lb_jw_key(&w, "n_gen"); lb_jw_int(&w, n_tg);
        lb_jw_key(&w, "reps"); lb_jw_int(&w, reps);
        lb_jw_key(&w, "pp_tps"); lb_jw_double(&w, pp[reps / 2]);
        lb_jw_key(&w, "tg_tps"); lb_jw_double(&w, tg[reps / 2]);
        lb_jw_key(&w, "weight_bytes"); lb_jw_int(&w, (long long)in.weight_bytes);
        lb_jw_key(&w, "weights_memory"); lb_jw_str(&w, in.weights_memory);
        lb_jw_key(&w, "hugepage_bytes"); lb_jw_int(&w, (long long)in.hugepage_bytes);
        lb_jw_key(&w, "load_ms"); lb_jw_double(&w, in.load_ms);
        lb_jw_key(&w, "isa"); lb_jw_str(&w, lb_kernels_init());
        lb_jw_obj_end(&w);
        if (!w.failed) {
            fwrite(w.buf, 1, w.len, stdout);
            putchar('\n');
        }
        lb_jw_free(&w);
    } else {
        printf("%s: pp%ld %.2f t/s, tg%ld %.2f t/s (%d threads, %s weights, %s kernels, load %.0f ms)\n", in.name, n_pp,
               pp[reps / 2], n_tg, tg[reps / 2], nt, in.weights_memory, lb_kernels_init(), in.load_ms);
    }
out:
    free(toks);
    free(pos);
    free(pp);
    free(tg);
    lb_ctx_free(c);
    lb_model_free(m);
    return st;
}
