/* Slot scheduler with continuous batching (named scheduler.h: netsvc/ is on the include path and
 * must not shadow the system <sched.h>). One engine thread owns the context: each step it
 * decodes, in one batch, the next token of every generating slot plus prompt chunks of newly
 * admitted slots. Connection threads submit requests, read tokens as they are produced, and
 * release the request when done (which frees the slot at once if it is still generating).
 * Requests beyond the slots wait in a bounded FIFO queue.
 *
 * The engine is reached through an ops table so the scheduling logic is unit-tested with a
 * fake engine; sched_engine.c fills it with the real lb_decode & co. */
#ifndef LB_SCHED_H
#define LB_SCHED_H

#include <stdbool.h>
#include <stdint.h>

#include "engine.h"
#include "err.h"

typedef struct lb_sched_ops {
    void *eng;
    int (*decode)(void *eng, const lb_batch *b, lb_err *err);
    const float *(*logits)(void *eng, int i);
    void (*kv_truncate)(void *eng, int seq, int n_keep);
    bool (*is_eog)(void *eng, int32_t tok);
    /* Per-request sampler (the sampler pointer given to lb_sched_submit). */
    int32_t (*sample)(void *sampler, const float *logits);
    void (*accept)(void *sampler, int32_t tok);
    /* Monotonic clock in ms for the timing statistics; NULL: CLOCK_MONOTONIC (tests inject one). */
    double (*now_ms)(void *eng);
} lb_sched_ops;

typedef struct lb_sched_config {
    int n_slots;    /* sequences of the context */
    int n_ctx;      /* positions per sequence */
    int n_batch;    /* max tokens per decode step (>= n_slots) */
    int max_queue;  /* waiting requests beyond the slots; more gives LB_ELIMIT */
} lb_sched_config;

typedef enum lb_finish {
    LB_FINISH_NONE = 0,  /* still running */
    LB_FINISH_STOP,      /* end-of-generation token */
    LB_FINISH_LENGTH,    /* max_tokens or context full */
    LB_FINISH_CANCEL,    /* released by the consumer before the end */
    LB_FINISH_ERROR,     /* decode failed (message in lb_sched_req_info.error) */
} lb_finish;

typedef struct lb_sched lb_sched;
typedef struct lb_sched_req lb_sched_req;

typedef struct lb_sched_stats {
    int slots_total, slots_busy, queue_depth;
    unsigned long long steps, batch_tokens;  /* decode steps and tokens they carried */
    /* Wall time inside decode calls, and between one decode call and the next while requests
     * run (sampling, bookkeeping, lock waits: the compute threads idle then). Idle time with
     * no request is in neither. Their ratio shows the scheduler's own share of a step. */
    double decode_s, between_s;
} lb_sched_stats;

typedef struct lb_sched_req_info {
    int n_prompt, n_cached;  /* prompt tokens, of which reused from the slot's cache */
    int n_gen;               /* tokens sampled so far */
    int slot;                /* -1 while queued */
    double ttft_ms;          /* submit to first sampled token; < 0 before it */
    lb_finish finish;
    char error[256];
} lb_sched_req_info;

int lb_sched_new(const lb_sched_config *cfg, const lb_sched_ops *ops, lb_sched **out, lb_err *err);
/* Stops the engine thread: running and queued requests finish with LB_FINISH_ERROR, later
 * submits fail with LB_EIO; reading and releasing requests keeps working. */
void lb_sched_shutdown(lb_sched *s);
/* Shuts down if needed and frees. Every request must have been released first. */
void lb_sched_free(lb_sched *s);

/* Queues a request. The prompt is copied; sampler stays owned by the caller and is used by the
 * engine thread until the request finishes. Errors: LB_EINVAL (empty or too long prompt),
 * LB_ELIMIT (queue full), LB_EIO (scheduler stopping). */
int lb_sched_submit(lb_sched *s, const int32_t *prompt, int n_prompt, int max_tokens, void *sampler,
                    lb_sched_req **out, lb_err *err);
/* Waits up to timeout_ms (0: no wait) for tokens not read yet; copies up to cap of them to
 * out and sets *n. Returns true when the request has finished and every token was read. */
bool lb_sched_read(lb_sched *s, lb_sched_req *r, int32_t *out, int cap, int *n, int timeout_ms);
void lb_sched_req_get_info(lb_sched *s, lb_sched_req *r, lb_sched_req_info *info);
/* Cancels the request if still queued or running, waits until the engine thread has let go of
 * it (at most one step), and frees it. */
void lb_sched_release(lb_sched *s, lb_sched_req *r);

void lb_sched_get_stats(lb_sched *s, lb_sched_stats *st);

/* The real engine (sched_engine.c). */
lb_sched_ops lb_sched_engine_ops(lb_ctx *ctx, const lb_vocab *vocab);

#endif
