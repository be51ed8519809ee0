/* Fixed pool of worker threads for data-parallel jobs (matmul row blocks, attention heads).
 * Workers spin briefly after a job (the next one usually follows within microseconds), then
 * sleep on a condition variable: an idle engine uses no CPU. */
#ifndef LB_THREADPOOL_H
#define LB_THREADPOOL_H

#include "err.h"

typedef struct lb_pool lb_pool;
/* Runs on every thread: ith in [0, nth). */
typedef void (*lb_pool_fn)(void *arg, int ith, int nth);

int lb_pool_new(int n_threads, lb_pool **out, lb_err *err);
void lb_pool_free(lb_pool *p);
int lb_pool_size(const lb_pool *p);
/* Runs fn on all threads (the caller is thread 0) and returns when all are done. */
void lb_pool_run(lb_pool *p, lb_pool_fn fn, void *arg);

/* [start, end) of the items thread ith handles when n items are split over nth threads. */
static inline void lb_split(int n, int ith, int nth, int *start, int *end)
{
    int per = (n + nth - 1) / nth;
    *start = ith * per < n ? ith * per : n;
    *end = *start + per < n ? *start + per : n;
}

#endif
