/* The matmul layer with its fast path (AMX tiles for prompt batches) against the vec_dot
 * path on the same weights (and the one-token GEMV likewise), through a 2-thread pool: same results up to float summation
 * order (tolerance 2e-5 of the sum of |w_i x_i|), including row counts that are not
 * multiples of 16 and batches below the tile threshold. */
#include "../lib/harness.h"
#include "cpu_features.h"
#include "ggml_type.h"
#include "kernels.h"
#include "matmul.h"
#include "matmul_fast.h"
#include "threadpool.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng = 0x243f6a8885a308d3ull;
static uint32_t rnd(void) { return lb_test_rnd(&rng); }

static void run_case(lb_pool *pool, uint32_t type, int rows, int k, int n_tok)
{
    size_t rb = lb_type_row_bytes(type, k), bb = lb_type_block_bytes(type);
    uint8_t *w = malloc(rb * rows);
    float *x = malloc(sizeof(float) * k * n_tok), *wf = malloc(sizeof(float) * k);
    float *y_fast = malloc(sizeof(float) * rows * n_tok), *y_ref = malloc(sizeof(float) * rows * n_tok);
    void *qbuf = malloc(lb_matmul_qbuf_size(k, n_tok));
    for (size_t i = 0; i < rb * rows; i++)
        w[i] = (uint8_t)rnd();
    for (size_t off = 0; off < rb * rows; off += bb) { /* sane fp16 scales (and mins) */
        uint16_t h = (uint16_t)(((6 + rnd() % 6) << 10) | (rnd() & 1023));
        memcpy(w + off, &h, 2);
        if (type == LB_TYPE_Q4_K)
            memcpy(w + off + 2, &h, 2);
        if (type == LB_TYPE_Q8_0)
            for (size_t j = 2; j < bb; j++)
                if (w[off + j] == 0x80)
                    w[off + j] = 0x81;
    }
    for (int i = 0; i < k * n_tok; i++)
        x[i] = (float)((int)(rnd() % 2001) - 1000) / 400.0f;
    lb_wt wt = { .type = type, .ne0 = k, .ne1 = rows, .row_bytes = rb, .data = w };

    lb_matmul(pool, &wt, x, n_tok, y_fast, qbuf);
    lb_isa before = lb_cpu_isa();
    lb_cpu_isa_set(LB_ISA_SCALAR); /* no AMX, no GEMV: the vec_dot loop (table kernels) */
    CHECK(!lb_matmul_amx(pool, &wt, x, n_tok, y_ref, qbuf, lb_matmul_qbuf_size(k, n_tok)));
    CHECK(!lb_matmul_gemv(pool, &wt, x, n_tok, y_ref, qbuf, lb_matmul_qbuf_size(k, n_tok)));
    lb_matmul(pool, &wt, x, n_tok, y_ref, qbuf);
    lb_cpu_isa_set(before);

    int bad = 0;
    for (int r = 0; r < rows; r++) {
        lb_kernels(type)->to_float(w + r * rb, wf, k);
        for (int t = 0; t < n_tok; t++) {
            double mag = 0;
            for (int i = 0; i < k; i++)
                mag += fabs((double)wf[i] * x[t * k + i]);
            float a = y_fast[t * rows + r], b = y_ref[t * rows + r];
            if (!(fabs(a - b) <= 2e-5 * mag + 1e-6) && bad++ < 3)
                CHECK_MSG(0, "%s rows %d tokens %d: row %d tok %d: %g vs %g (mag %g)", lb_type_name(type), rows, n_tok, r,
                          t, a, b, mag);
        }
    }
    free(w);
    free(x);
    free(wf);
    free(y_fast);
    free(y_ref);
    free(qbuf);
}

TEST(matmul_fast_path_matches_vec_dot)
{
    lb_pool *pool = NULL;
    lb_err err;
    CHECK_EQ(lb_pool_new(2, &pool, &err), LB_OK);
    if (!pool)
        return;
    const uint32_t types[] = { LB_TYPE_Q4_0, LB_TYPE_Q8_0, LB_TYPE_Q4_K };
    for (size_t i = 0; i < 3; i++) {
        run_case(pool, types[i], 40, 512, 21); /* AMX where present */
        run_case(pool, types[i], 33, 256, 5);  /* below the tile threshold: vec_dot both times */
        run_case(pool, types[i], 16, 256, 8);
        run_case(pool, types[i], 203, 512, 1); /* generation: 4-row GEMV, odd row count */
        run_case(pool, types[i], 2, 256, 1);
    }
    lb_pool_free(pool);
}

/* A 2-thread pool for the AMX-only tests; NULL (the test skipped or failed) otherwise. */
static lb_pool *amx_pool(void)
{
    if (lb_cpu_isa() < LB_ISA_AMX) {
        lb_test_skip("no AMX at this ISA level: the fast path is never taken");
        return NULL;
    }
    lb_pool *pool = NULL;
    lb_err err;
    CHECK_EQ(lb_pool_new(2, &pool, &err), LB_OK);
    return pool;
}

TEST(matmul_fast_path_taken_when_amx)
{
    lb_pool *pool = amx_pool();
    if (!pool)
        return;
    int k = 256, rows = 16, n_tok = 8;
    size_t rb = lb_type_row_bytes(LB_TYPE_Q8_0, k); /* the larger of Q8_0 and Q4_0 rows */
    uint8_t *w = calloc(rows, rb);
    float *x = calloc((size_t)k * n_tok, sizeof(float)), *y = malloc(sizeof(float) * rows * n_tok);
    void *qbuf = malloc(lb_matmul_qbuf_size(k, n_tok));
    lb_wt wt = { .type = LB_TYPE_Q4_0, .ne0 = k, .ne1 = rows, .row_bytes = lb_type_row_bytes(LB_TYPE_Q4_0, k), .data = w };
    CHECK(lb_matmul_amx(pool, &wt, x, n_tok, y, qbuf, lb_matmul_qbuf_size(k, n_tok)));
    lb_wt q8 = { .type = LB_TYPE_Q8_0, .ne0 = k, .ne1 = rows, .row_bytes = rb, .data = w };
    CHECK(!lb_matmul_amx(pool, &q8, x, n_tok, y, qbuf, lb_matmul_qbuf_size(k, n_tok))); /* see gemm.c */
    CHECK(!lb_matmul_amx(pool, &wt, x, 7, y, qbuf, lb_matmul_qbuf_size(k, 7)));
    CHECK(!lb_matmul_amx(pool, &wt, x, n_tok, y, qbuf, 100)); /* buffer too small: not taken */
    lb_wt q6 = wt;
    q6.type = LB_TYPE_Q6_K;
    CHECK(!lb_matmul_amx(pool, &q6, x, n_tok, y, qbuf, lb_matmul_qbuf_size(k, n_tok)));
    free(w);
    free(x);
    free(y);
    free(qbuf);
    lb_pool_free(pool);
}

/* Q/K/V in one call: x quantized once, the three weights' row groups in one pass, with the
 * results of one call per weight bit for bit (row counts not multiples of 16, so pool chunks
 * cross from one weight into the next); a weight of another type makes it decline. */
TEST(matmul_amx_multi_equals_one_call_per_weight)
{
    lb_pool *pool = amx_pool();
    if (!pool)
        return;
    const uint32_t types[] = { LB_TYPE_Q4_0, LB_TYPE_Q4_K };
    const int rows[3] = { 40, 24, 88 }, k = 512, n_tok = 21;
    for (size_t ti = 0; ti < 2; ti++) {
        uint32_t type = types[ti];
        size_t rb = lb_type_row_bytes(type, k), bb = lb_type_block_bytes(type);
        lb_wt wt[3];
        const lb_wt *ws[3];
        float *each[3], *multi[3];
        for (int i = 0; i < 3; i++) {
            uint8_t *w = malloc(rb * rows[i]);
            for (size_t b = 0; b < rb * rows[i]; b++)
                w[b] = (uint8_t)rnd();
            for (size_t off = 0; off < rb * rows[i]; off += bb) {
                uint16_t h = (uint16_t)(((6 + rnd() % 6) << 10) | (rnd() & 1023));
                memcpy(w + off, &h, 2);
                if (type == LB_TYPE_Q4_K)
                    memcpy(w + off + 2, &h, 2);
            }
            wt[i] = (lb_wt){ .type = type, .ne0 = k, .ne1 = rows[i], .row_bytes = rb, .data = w };
            ws[i] = &wt[i];
            each[i] = malloc(sizeof(float) * rows[i] * n_tok);
            multi[i] = malloc(sizeof(float) * rows[i] * n_tok);
        }
        float *x = malloc(sizeof(float) * k * n_tok);
        for (int i = 0; i < k * n_tok; i++)
            x[i] = (float)((int)(rnd() % 2001) - 1000) / 400.0f;
        size_t qb = lb_matmul_qbuf_size(k, n_tok);
        void *qbuf = malloc(qb);
        for (int i = 0; i < 3; i++)
            CHECK(lb_matmul_amx(pool, ws[i], x, n_tok, each[i], qbuf, qb));
        CHECK(lb_matmul_amx_multi(pool, ws, 3, x, n_tok, multi, qbuf, qb));
        for (int i = 0; i < 3; i++)
            CHECK_MSG(memcmp(each[i], multi[i], sizeof(float) * rows[i] * n_tok) == 0, "%s weight %d",
                      lb_type_name(type), i);
        lb_wt other = wt[1];
        other.type = type == LB_TYPE_Q4_0 ? LB_TYPE_Q4_K : LB_TYPE_Q4_0;
        other.row_bytes = lb_type_row_bytes(other.type, k);
        const lb_wt *mixed[3] = { ws[0], &other, ws[2] };
        CHECK(!lb_matmul_amx_multi(pool, mixed, 3, x, n_tok, multi, qbuf, qb));
        for (int i = 0; i < 3; i++) {
            free((void *)wt[i].data);
            free(each[i]);
            free(multi[i]);
        }
        free(x);
        free(qbuf);
    }
    lb_pool_free(pool);
}
