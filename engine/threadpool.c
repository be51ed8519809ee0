#include "threadpool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define SPIN_ITERS 20000   /* pause loops (~0.1-1 ms) before a worker sleeps */
#define CLOSED 0xffffffffu /* chunk counter of a finished job: nothing left to claim */

/* One thread's contiguous share of a ranges job: (generation << 32) | (lo << 16) | hi, the
 * chunks [lo, hi) not yet claimed. The owner claims from lo, others steal from hi. */
struct range {
    _Atomic uint64_t w;
    char pad[56]; /* one cache line each: the owners' claims do not bounce a shared line */
};

struct worker {
    lb_pool *pool;
    int ith;
    int cpu;  /* CPU to pin to, -1 = leave to the scheduler */
    pthread_t tid;
    bool started;
};

struct lb_pool {
    int n;
    struct worker *w;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    /* (job generation << 32) | next unclaimed chunk: claiming checks both in one CAS. */
    _Atomic uint64_t state;
    atomic_int done;       /* chunks finished of the current job */
    atomic_int sleepers;
    atomic_bool stop;
    lb_pool_fn fn;
    void *arg;
    int n_chunks;
    atomic_bool ranges;  /* the job is claimed by ranges (lb_pool_run_ranges) */
    struct range *range; /* n of them */
    int caller_cpu;      /* CPU the thread running jobs is pinned to, -1 = none */
    uint64_t id;         /* unique per pool (an address could be reused by the next pool) */
};

static _Thread_local int t_tid;
static _Thread_local uint64_t t_pinned_for; /* id of the pool this (calling) thread was pinned for */
static _Atomic uint64_t g_pool_ids;

int lb_pool_tid(void) { return t_tid; }

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* Claims and runs chunks of job `gen` until none are left or the job changed. */
static void work(lb_pool *p, uint32_t gen)
{
    for (;;) {
        uint64_t s = atomic_load_explicit(&p->state, memory_order_acquire);
        if ((uint32_t)(s >> 32) != gen)
            return;
        uint32_t c = (uint32_t)s;
        if (c >= (uint32_t)p->n_chunks) /* also true for a closed job (CLOSED) */
            return;
        if (!atomic_compare_exchange_weak_explicit(&p->state, &s, s + 1, memory_order_acq_rel, memory_order_relaxed))
            continue;
        /* The job cannot end before this chunk is done, so fn/arg are still this job's. */
        p->fn(p->arg, (int)c, p->n_chunks);
        atomic_fetch_add_explicit(&p->done, 1, memory_order_release);
    }
}

/* Claims one chunk of range r for job gen, from the front (the owner) or the back; -1 when
 * the range is empty or belongs to another job. */
static int claim(struct range *r, uint32_t gen, bool front)
{
    uint64_t w = atomic_load_explicit(&r->w, memory_order_acquire);
    for (;;) {
        uint32_t lo = (uint32_t)(w >> 16) & 0xffff, hi = (uint32_t)w & 0xffff;
        if ((uint32_t)(w >> 32) != gen || lo >= hi)
            return -1;
        uint64_t nw = front ? w + (1u << 16) : w - 1;
        if (atomic_compare_exchange_weak_explicit(&r->w, &w, nw, memory_order_acq_rel, memory_order_acquire))
            return (int)(front ? lo : hi - 1);
    }
}

/* A ranges job: this thread's own range front to back, then the others' from their backs. */
static void work_ranges(lb_pool *p, uint32_t gen)
{
    int me = t_tid, done = 0;
    for (int k = 0; k < p->n; k++) {
        struct range *r = &p->range[(me + k) % p->n];
        int c;
        while ((c = claim(r, gen, k == 0)) >= 0) {
            p->fn(p->arg, c, p->n_chunks);
            done++;
        }
    }
    /* Once per thread, not per chunk: the counter's line would move between the cores at
     * every chunk (a locked add on it was 2-3 % of decode samples). The job ends when every
     * range is empty and every claimed chunk is counted. */
    if (done)
        atomic_fetch_add_explicit(&p->done, done, memory_order_release);
}

static void pin_self(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    (void)sched_setaffinity(0, sizeof set, &set); /* best effort: a container may forbid it */
}

static void *worker_main(void *vw)
{
    struct worker *w = vw;
    lb_pool *p = w->pool;
    t_tid = w->ith;
    if (w->cpu >= 0)
        pin_self(w->cpu);
    uint32_t seen = 0;
    for (;;) {
        int spins = 0;
        uint32_t g;
        while ((g = (uint32_t)(atomic_load(&p->state) >> 32)) == seen && !atomic_load(&p->stop)) {
            if (++spins < SPIN_ITERS) {
                cpu_relax();
                continue;
            }
            pthread_mutex_lock(&p->mu);
            atomic_fetch_add(&p->sleepers, 1);
            while ((uint32_t)(atomic_load(&p->state) >> 32) == seen && !atomic_load(&p->stop))
                pthread_cond_wait(&p->cv, &p->mu);
            atomic_fetch_sub(&p->sleepers, 1);
            pthread_mutex_unlock(&p->mu);
            spins = 0;
        }
        if (atomic_load(&p->stop))
            return NULL;
        seen = g;
        if (atomic_load_explicit(&p->ranges, memory_order_relaxed)) /* a later job's flag only makes claims fail */
            work_ranges(p, g);
        else
            work(p, g);
    }
}

int lb_pool_new(int n_threads, lb_pool **out, lb_err *err)
{
    *out = NULL;
    if (n_threads < 1 || n_threads > 1024)
        return lb_err_set(err, LB_EINVAL, "threads: %d not in 1..1024", n_threads);
    lb_pool *p = calloc(1, sizeof *p);
    if (!p)
        return lb_err_set(err, LB_ENOMEM, "threads: no memory");
    p->n = n_threads;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    p->w = calloc((size_t)n_threads, sizeof *p->w);
    p->range = aligned_alloc(64, (size_t)n_threads * sizeof *p->range);
    if (!p->w || !p->range) {
        lb_pool_free(p);
        return lb_err_set(err, LB_ENOMEM, "threads: no memory");
    }
    /* Pin worker i to the i-th CPU we may run on, and the thread that runs jobs (thread 0)
     * to the first, when there is one CPU per thread; oversubscribed or LLMBOX_PIN=0: no
     * pinning. An unpinned thread 0 moves onto a worker's CPU whenever its own is busy for a
     * moment, and then two spinning threads share one CPU: with a 30 % load on CPU 0, 1B Q4_0
     * tg64 at 2 threads ran 53-63 t/s unpinned against 74-84 pinned (4 alternating pairs;
     * a tie without the load). */
    int cpus[1024], n_cpus = 0;
    cpu_set_t allowed;
    const char *pin = getenv("LLMBOX_PIN");
    if ((!pin || strcmp(pin, "0") != 0) && sched_getaffinity(0, sizeof allowed, &allowed) == 0)
        for (int c = 0; c < CPU_SETSIZE && n_cpus < 1024; c++)
            if (CPU_ISSET(c, &allowed))
                cpus[n_cpus++] = c;
    bool cpu_each = n_cpus >= n_threads;
    p->caller_cpu = cpu_each && n_threads > 1 ? cpus[0] : -1;
    p->id = atomic_fetch_add(&g_pool_ids, 1) + 1;
    for (int i = 1; i < n_threads; i++) {
        p->w[i].pool = p;
        p->w[i].ith = i;
        p->w[i].cpu = cpu_each ? cpus[i] : -1;
        int rc = pthread_create(&p->w[i].tid, NULL, worker_main, &p->w[i]);
        if (rc) {
            lb_pool_free(p);
            return lb_err_set(err, LB_ENOMEM, "threads: pthread_create: %s", strerror(rc));
        }
        p->w[i].started = true;
    }
    *out = p;
    return LB_OK;
}

void lb_pool_free(lb_pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    atomic_store(&p->stop, true);
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (int i = 1; p->w && i < p->n; i++)
        if (p->w[i].started)
            pthread_join(p->w[i].tid, NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p->w);
    free(p->range);
    free(p);
}

int lb_pool_size(const lb_pool *p) { return p->n; }

/* Publishes a job (fn/arg/n_chunks and the claim words are set), runs its share on the
 * calling thread and waits for every chunk. */
static void run_job(lb_pool *p, uint32_t gen, int n_chunks)
{
    /* The pool may be created on another thread than the one running its jobs (llmboxd's
     * loader and engine threads): the runner pins itself on its first job. */
    if (p->caller_cpu >= 0 && t_pinned_for != p->id) {
        pin_self(p->caller_cpu);
        t_pinned_for = p->id;
    }
    atomic_store(&p->state, (uint64_t)gen << 32);
    if (atomic_load(&p->sleepers) > 0) {
        pthread_mutex_lock(&p->mu);
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
    }
    if (atomic_load_explicit(&p->ranges, memory_order_relaxed))
        work_ranges(p, gen);
    else
        work(p, gen);
    int spins = 0;
    while (atomic_load_explicit(&p->done, memory_order_acquire) < n_chunks) {
        if (++spins < SPIN_ITERS)
            cpu_relax();
        else
            sched_yield();
    }
    /* Close the job before the next one rewrites fn/arg/n_chunks: a worker still holding a
     * stale state word of this job must fail its claim (without this it could claim chunk
     * n_chunks of this job against the next job's larger n_chunks and run the next job's fn
     * on a half-written arg, or count a chunk twice). The ranges are empty by now. */
    atomic_store(&p->state, ((uint64_t)gen << 32) | CLOSED);
}

/* Sets up a job; false when it is better run on the calling thread alone. */
static bool start_job(lb_pool *p, lb_pool_fn fn, void *arg, int n_chunks, bool ranges)
{
    if (n_chunks <= 0)
        return false;
    if (p->n == 1 || n_chunks == 1) {
        for (int c = 0; c < n_chunks; c++)
            fn(arg, c, n_chunks);
        return false;
    }
    p->fn = fn;
    p->arg = arg;
    p->n_chunks = n_chunks;
    atomic_store_explicit(&p->ranges, ranges, memory_order_relaxed);
    atomic_store_explicit(&p->done, 0, memory_order_relaxed);
    return true;
}

void lb_pool_run_chunks(lb_pool *p, lb_pool_fn fn, void *arg, int n_chunks)
{
    if (start_job(p, fn, arg, n_chunks, false))
        run_job(p, (uint32_t)(atomic_load(&p->state) >> 32) + 1, n_chunks);
}

void lb_pool_run_ranges(lb_pool *p, lb_pool_fn fn, void *arg, int n_chunks)
{
    if (n_chunks > 0xffff) { /* more than a range word holds */
        lb_pool_run_chunks(p, fn, arg, n_chunks);
        return;
    }
    if (!start_job(p, fn, arg, n_chunks, true))
        return;
    uint32_t gen = (uint32_t)(atomic_load(&p->state) >> 32) + 1;
    for (int i = 0; i < p->n; i++) {
        int lo, hi;
        lb_split(n_chunks, i, p->n, &lo, &hi);
        atomic_store(&p->range[i].w, ((uint64_t)gen << 32) | ((uint64_t)lo << 16) | (uint64_t)hi);
    }
    run_job(p, gen, n_chunks);
}

void lb_pool_run(lb_pool *p, lb_pool_fn fn, void *arg) { lb_pool_run_chunks(p, fn, arg, p->n); }
