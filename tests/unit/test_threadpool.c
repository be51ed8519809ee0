#include "../lib/harness.h"
#include "threadpool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
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

/* A ranges job: every chunk exactly once; each thread takes its own range front to back and
 * other ranges only from their ends (back to front), so its weights stream in one run. */
#define ORD_MAX 64
struct order_job {
    atomic_int hits[ORD_MAX];
    int ran[8][ORD_MAX]; /* per thread: the chunks in the order it ran them */
    int n_ran[8];
};

static void order_fn(void *arg, int chunk, int n_chunks)
{
    struct order_job *j = arg;
    (void)n_chunks;
    atomic_fetch_add(&j->hits[chunk], 1);
    int t = lb_pool_tid();
    j->ran[t][j->n_ran[t]++] = chunk; /* only thread t writes its row */
}

#define BIG_N 70000
static void big_fn(void *arg, int chunk, int n_chunks)
{
    atomic_uchar *seen = arg;
    if (n_chunks == BIG_N && chunk >= 0 && chunk < BIG_N)
        atomic_fetch_add(&seen[chunk], 1);
}

TEST(pool_ranges_run_each_chunk_once_in_streams)
{
    lb_pool *p = NULL;
    lb_err err = { 0 };
    CHECK_EQ(lb_pool_new(3, &p, &err), LB_OK);
    if (!p)
        return;
    int bad_hits = 0, bad_order = 0;
    for (int rep = 0; rep < 3000; rep++) {
        static struct order_job j;
        memset(&j, 0, sizeof j);
        int n = 1 + rep % ORD_MAX;
        lb_pool_run_ranges(p, order_fn, &j, n);
        for (int c = 0; c < ORD_MAX; c++)
            bad_hits += atomic_load(&j.hits[c]) != (c < n);
        for (int t = 0; t < 3; t++) {
            int last[3] = { -1, -1, -1 }; /* last chunk thread t ran from each range */
            for (int i = 0; i < j.n_ran[t]; i++) {
                int c = j.ran[t][i], r = 0, lo, hi;
                for (; r < 3; r++) {
                    lb_split(n, r, 3, &lo, &hi);
                    if (c >= lo && c < hi)
                        break;
                }
                bool own = r == t;
                if (last[r] >= 0 && (own ? c < last[r] : c > last[r]))
                    bad_order++;
                last[r] = c;
            }
        }
    }
    CHECK_EQ(bad_hits, 0);
    CHECK_EQ(bad_order, 0);
    /* More chunks than a range word holds: still each once (through the shared counter). */
    static atomic_uchar seen[BIG_N];
    memset(seen, 0, sizeof seen);
    lb_pool_run_ranges(p, big_fn, seen, BIG_N);
    int bad_big = 0;
    for (int c = 0; c < BIG_N; c++)
        bad_big += seen[c] != 1;
    CHECK_EQ(bad_big, 0);
    lb_pool_run_ranges(p, big_fn, seen, 0); /* nothing to do */
    lb_pool_free(p);
}

/* Back-to-back jobs of different sizes (each job's arg on the caller's stack, as the matmul
 * does): every chunk of every job runs exactly once, with its own job's fn and arg, and a job
 * returns only after all its chunks ran. A worker holding a stale claim word of a finished
 * job once ran the next job's chunk with mixed-up fn/arg and miscounted completion. */
struct seq_job {
    int id;
    int n_chunks;
    atomic_int runs[64];
};

static atomic_int g_bad;

static void seq_fn_a(void *arg, int chunk, int n_chunks)
{
    struct seq_job *j = arg;
    if (j->id % 2 != 0 || n_chunks != j->n_chunks || chunk < 0 || chunk >= j->n_chunks)
        atomic_fetch_add(&g_bad, 1);
    else
        atomic_fetch_add(&j->runs[chunk], 1);
}

static void seq_fn_b(void *arg, int chunk, int n_chunks)
{
    struct seq_job *j = arg;
    if (j->id % 2 != 1 || n_chunks != j->n_chunks || chunk < 0 || chunk >= j->n_chunks)
        atomic_fetch_add(&g_bad, 1);
    else
        atomic_fetch_add(&j->runs[chunk], 1);
}

TEST(pool_back_to_back_jobs_of_different_sizes)
{
    lb_pool *p = NULL;
    lb_err err;
    CHECK_EQ(lb_pool_new(3, &p, &err), LB_OK);
    if (!p)
        return;
    int wrong_counts = 0;
    for (int i = 0; i < 200000; i++) {
        struct seq_job j;
        memset(&j, 0, sizeof j);
        j.id = i;
        j.n_chunks = i % 2 ? 2 + i % 7 : 40 + i % 24;
        if (i % 4 < 2) /* both kinds of job, each after each */
            lb_pool_run_chunks(p, i % 2 ? seq_fn_b : seq_fn_a, &j, j.n_chunks);
        else
            lb_pool_run_ranges(p, i % 2 ? seq_fn_b : seq_fn_a, &j, j.n_chunks);
        for (int c = 0; c < j.n_chunks; c++)
            wrong_counts += atomic_load(&j.runs[c]) != 1;
        memset(&j, 0xa5, sizeof j); /* what a later frame would leave there */
    }
    CHECK_EQ(atomic_load(&g_bad), 0);
    CHECK_EQ(wrong_counts, 0);
    lb_pool_free(p);
}

/* Pinning: worker i on the i-th allowed CPU, the thread that runs jobs on the first (also when
 * it did not create the pool), none with LLMBOX_PIN=0. */
struct pin_job {
    int cpus[4];
    atomic_int wrong, seen;
};

static int only_cpu(void)
{
    cpu_set_t s;
    if (sched_getaffinity(0, sizeof s, &s) != 0 || CPU_COUNT(&s) != 1)
        return -1;
    for (int c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, &s))
            return c;
    return -1;
}

static void pin_fn(void *arg, int chunk, int n_chunks)
{
    struct pin_job *j = arg;
    (void)chunk;
    (void)n_chunks;
    int tid = lb_pool_tid();
    if (tid < 0 || tid >= 4 || only_cpu() != j->cpus[tid])
        atomic_fetch_add(&j->wrong, 1);
    atomic_fetch_or(&j->seen, 1 << tid);
}

struct runner {
    lb_pool *p;
    struct pin_job *j;
    int cpu_after; /* only_cpu() after the job */
};

static void *run_from_thread(void *arg)
{
    struct runner *r = arg;
    lb_pool_run_chunks(r->p, pin_fn, r->j, 64);
    r->cpu_after = only_cpu();
    return NULL;
}

/* One job from a new thread (one with every CPU allowed that did not create the pool), then
 * jobs from this one until every pool thread has run a chunk (at most 200): returns what
 * only_cpu() said in the new thread after its job. */
static int run_from_new_thread_then_until_all_seen(lb_pool *p, struct pin_job *j)
{
    struct runner r = { p, j, -2 };
    pthread_t th;
    CHECK_EQ(pthread_create(&th, NULL, run_from_thread, &r), 0);
    pthread_join(th, NULL);
    for (int i = 0; i < 200 && atomic_load(&j->seen) != (1 << lb_pool_size(p)) - 1; i++)
        lb_pool_run_chunks(p, pin_fn, j, 64);
    return r.cpu_after;
}

TEST(pool_pins_workers_and_the_thread_running_jobs)
{
    unsetenv("LLMBOX_PIN"); /* the default, whatever the shell running the tests says */
    cpu_set_t all;
    CHECK_EQ(sched_getaffinity(0, sizeof all, &all), 0);
    struct pin_job j = { .cpus = { -1, -1, -1, -1 } };
    int n = 0;
    for (int c = 0; c < CPU_SETSIZE && n < 4; c++)
        if (CPU_ISSET(c, &all))
            j.cpus[n++] = c;
    lb_pool *p = NULL;
    lb_err err;
    CHECK_EQ(lb_pool_new(n, &p, &err), LB_OK);
    if (!p)
        return;
    const int unpinned = n == 1 ? j.cpus[0] : -1; /* what only_cpu() says of an unpinned thread */
    CHECK_EQ(run_from_new_thread_then_until_all_seen(p, &j), (n > 1 ? j.cpus[0] : unpinned));
    CHECK_EQ(atomic_load(&j.seen), (1 << n) - 1);
    CHECK_EQ(atomic_load(&j.wrong), 0);
    lb_pool_free(p);
    CHECK_EQ(sched_setaffinity(0, sizeof all, &all), 0);

    /* LLMBOX_PIN=0: nobody is pinned. */
    setenv("LLMBOX_PIN", "0", 1);
    CHECK_EQ(lb_pool_new(n, &p, &err), LB_OK);
    unsetenv("LLMBOX_PIN");
    if (!p)
        return;
    struct pin_job j0 = { .cpus = { unpinned, unpinned, unpinned, unpinned } };
    CHECK_EQ(run_from_new_thread_then_until_all_seen(p, &j0), unpinned);
    CHECK_EQ(atomic_load(&j0.wrong), 0);
    lb_pool_free(p);
}
