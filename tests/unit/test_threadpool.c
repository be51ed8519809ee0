#include "../lib/harness.h"
#include "threadpool.h"

#include <stdatomic.h>
#include <unistd.h>

struct job {
    atomic_int hits[64];
    atomic_int calls;
    int tids_seen[8];
};

static void count_fn(void *arg, int chunk, int n_chunks)
{
    struct job *j = arg;
    (void)n_chunks;
    atomic_fetch_add(&j->hits[chunk], 1);
    atomic_fetch_add(&j->calls, 1);
    int tid = lb_pool_tid();
    if (tid >= 0 && tid < 8)
        j->tids_seen[tid] = 1;
}

TEST(pool_runs_every_chunk_exactly_once)
{
    lb_pool *p = NULL;
    lb_err err = { 0 };
    CHECK_EQ(lb_pool_new(3, &p, &err), LB_OK);
    if (!p)
        return;
    CHECK_EQ(lb_pool_size(p), 3);
    for (int rep = 0; rep < 200; rep++) {
        static struct job j;
        memset(&j, 0, sizeof j);
        int n = 1 + rep % 64;
        lb_pool_run_chunks(p, count_fn, &j, n);
        int bad = 0;
        for (int c = 0; c < 64; c++)
            bad += atomic_load(&j.hits[c]) != (c < n);
        CHECK_MSG(bad == 0, "rep %d: %d chunks not run exactly once", rep, bad);
        CHECK_EQ(atomic_load(&j.calls), n);
        for (int t = 3; t < 8; t++)
            CHECK(!j.tids_seen[t]);
    }
    /* After sleeping (workers parked), jobs still run. */
    usleep(20000);
    static struct job j2;
    memset(&j2, 0, sizeof j2);
    lb_pool_run(p, count_fn, &j2);
    CHECK_EQ(atomic_load(&j2.calls), 3);
    lb_pool_free(p);
}

TEST(pool_single_thread_and_bad_sizes)
{
    lb_pool *p = NULL;
    lb_err err = { 0 };
    CHECK_EQ(lb_pool_new(0, &p, &err), LB_EINVAL);
    CHECK(p == NULL);
    CHECK_EQ(lb_pool_new(1, &p, &err), LB_OK);
    static struct job j;
    memset(&j, 0, sizeof j);
    lb_pool_run_chunks(p, count_fn, &j, 5);
    CHECK_EQ(atomic_load(&j.calls), 5);
    CHECK(j.tids_seen[0] && !j.tids_seen[1]);
    lb_pool_run_chunks(p, count_fn, &j, 0);  /* nothing to do */
    CHECK_EQ(atomic_load(&j.calls), 5);
    lb_pool_free(p);
    int s, e;
    lb_split(10, 3, 4, &s, &e);
    CHECK(s == 9 && e == 10);
    lb_split(2, 3, 4, &s, &e);
    CHECK(s == 2 && e == 2);
}
