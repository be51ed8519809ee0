/* Fixed pool of worker threads for data-parallel jobs (matmul row blocks, attention heads).
 * A job is split into chunks that threads claim one at a time, so a worker the OS has not
 * scheduled yet never holds up the others: the caller (thread 0) takes whatever is left.
 * Workers spin briefly after a job (the next one usually follows within microseconds), then
 * sleep on a condition variable: an idle engine uses no CPU. No allocation per job. */
#ifndef LB_THREADPOOL_H
#define LB_THREADPOOL_H

#include "err.h"

typedef struct lb_pool lb_pool;
/* Runs once per chunk: chunk in [0, n_chunks). */
typedef void (*lb_pool_fn)(void *arg, int chunk, int n_chunks);

/* With at least n_threads CPUs allowed (and LLMBOX_PIN not "0"), worker i is pinned to the
 * i-th allowed CPU and the thread that runs jobs to the first, on its first job; it stays
 * pinned after lb_pool_free. */
int lb_pool_new(int n_threads, lb_pool **out, lb_err *err);
void lb_pool_free(lb_pool *p);
int lb_pool_size(const lb_pool *p);
/* Runs fn over n_chunks chunks on all threads and returns when every chunk is done. */
void lb_pool_run_chunks(lb_pool *p, lb_pool_fn fn, void *arg, int n_chunks);
/* The same, but thread i claims the chunks of the i-th contiguous range in order, then helps
 * the others from their ends: each thread streams one run of consecutive chunks, which the
 * hardware prefetchers follow (interleaved 64 KiB chunks of two threads streamed weights
 * at about half the speed of contiguous halves, measured). */
void lb_pool_run_ranges(lb_pool *p, lb_pool_fn fn, void *arg, int n_chunks);
/* One chunk per thread. */
void lb_pool_run(lb_pool *p, lb_pool_fn fn, void *arg);
/* Index of the calling thread in its pool (0 = the caller of lb_pool_run): per-thread scratch. */
int lb_pool_tid(void);

/* [start, end) of the items chunk i handles when n items are split over n_chunks. */
static inline void lb_split(int n, int i, int n_chunks, int *start, int *end)
{
    int per = (n + n_chunks - 1) / n_chunks;
    *start = i * per < n ? i * per : n;
    *end = *start + per < n ? *start + per : n;
}

#endif
