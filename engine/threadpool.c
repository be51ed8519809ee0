#include "threadpool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define SPIN_ITERS 20000  /* ~tens of microseconds of pause instructions before sleeping */

struct worker {
    lb_pool *pool;
    int ith;
    pthread_t tid;
};

struct lb_pool {
    int n;
    struct worker *w;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    atomic_uint gen;       /* incremented for each job */
    atomic_int pending;    /* workers still running the current job */
    atomic_bool stop;
    lb_pool_fn fn;
    void *arg;
};

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static void *worker_main(void *vw)
{
    struct worker *w = vw;
    lb_pool *p = w->pool;
    unsigned seen = 0;
    for (;;) {
        unsigned g;
        int spins = 0;
        while ((g = atomic_load_explicit(&p->gen, memory_order_acquire)) == seen && !atomic_load(&p->stop)) {
            if (++spins < SPIN_ITERS) {
                cpu_relax();
                continue;
            }
            pthread_mutex_lock(&p->mu);
            while (atomic_load(&p->gen) == seen && !atomic_load(&p->stop))
                pthread_cond_wait(&p->cv, &p->mu);
            pthread_mutex_unlock(&p->mu);
        }
        if (atomic_load(&p->stop))
            return NULL;
        seen = g;
        p->fn(p->arg, w->ith, p->n);
        atomic_fetch_sub_explicit(&p->pending, 1, memory_order_release);
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
    for (int i = 1; i < n_threads; i++) {
        p->w[i].pool = p;
        p->w[i].ith = i;
        int rc = pthread_create(&p->w[i].tid, NULL, worker_main, &p->w[i]);
        if (rc) {
            p->n = i;  /* join only the ones started */
            lb_pool_free(p);
            return lb_err_set(err, LB_ENOMEM, "threads: pthread_create: %s", strerror(rc));
        }
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
    for (int i = 1; i < p->n; i++)
        if (p->w && p->w[i].pool)
            pthread_join(p->w[i].tid, NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p->w);
    free(p);
}

int lb_pool_size(const lb_pool *p) { return p->n; }

void lb_pool_run(lb_pool *p, lb_pool_fn fn, void *arg)
{
    if (p->n == 1) {
        fn(arg, 0, 1);
        return;
    }
    p->fn = fn;
    p->arg = arg;
    atomic_store_explicit(&p->pending, p->n - 1, memory_order_relaxed);
    pthread_mutex_lock(&p->mu);
    atomic_fetch_add_explicit(&p->gen, 1, memory_order_release);
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    fn(arg, 0, p->n);
    int spins = 0;
    while (atomic_load_explicit(&p->pending, memory_order_acquire) > 0) {
        if (++spins < SPIN_ITERS)
            cpu_relax();
        else
            sched_yield();
    }
}
