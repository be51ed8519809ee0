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
};

static _Thread_local int t_tid;

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

static void *worker_main(void *vw)
{
    struct worker *w = vw;
    lb_pool *p = w->pool;
    t_tid = w->ith;
    if (w->cpu >= 0) { /* best effort: a container may forbid it */
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(w->cpu, &set);
        (void)sched_setaffinity(0, sizeof set, &set);
    }
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
    if (!p->w) {
        lb_pool_free(p);
        return lb_err_set(err, LB_ENOMEM, "threads: no memory");
    }
    /* Pin worker i to the i-th CPU we may run on (the caller, thread 0, keeps its own
     * affinity) when there is one CPU per thread; oversubscribed or LLMBOX_PIN=0: no pinning. */
    int cpus[1024], n_cpus = 0;
    cpu_set_t allowed;
    const char *pin = getenv("LLMBOX_PIN");
    if ((!pin || strcmp(pin, "0") != 0) && sched_getaffinity(0, sizeof allowed, &allowed) == 0)
        for (int c = 0; c < CPU_SETSIZE && n_cpus < 1024; c++)
            if (CPU_ISSET(c, &allowed))
                cpus[n_cpus++] = c;
    for (int i = 1; i < n_threads; i++) {
        p->w[i].pool = p;
        p->w[i].ith = i;
        p->w[i].cpu = n_cpus >= n_threads ? cpus[i] : -1;
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
    free(p);
}

int lb_pool_size(const lb_pool *p) { return p->n; }

void lb_pool_run_chunks(lb_pool *p, lb_pool_fn fn, void *arg, int n_chunks)
{
    if (n_chunks <= 0)
        return;
    if (p->n == 1 || n_chunks == 1) {
        for (int c = 0; c < n_chunks; c++)
            fn(arg, c, n_chunks);
        return;
    }
    p->fn = fn;
    p->arg = arg;
    p->n_chunks = n_chunks;
    atomic_store_explicit(&p->done, 0, memory_order_relaxed);
    uint32_t gen = (uint32_t)(atomic_load(&p->state) >> 32) + 1;
    atomic_store(&p->state, (uint64_t)gen << 32);
    if (atomic_load(&p->sleepers) > 0) {
        pthread_mutex_lock(&p->mu);
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
    }
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
     * on a half-written arg, or count a chunk twice). */
    atomic_store(&p->state, ((uint64_t)gen << 32) | CLOSED);
}

void lb_pool_run(lb_pool *p, lb_pool_fn fn, void *arg) { lb_pool_run_chunks(p, fn, arg, p->n); }
