/* Service counters and the Prometheus text exposition of GET /metrics. Thread-safe. */
#ifndef LB_METRICS_H
#define LB_METRICS_H

#include "sbuf.h"
#include "scheduler.h"

#define LB_TTFT_BUCKETS 10
#define LB_RATE_WINDOW 10  /* seconds over which llmbox_tokens_per_second is averaged */

typedef struct lb_metrics lb_metrics;

/* Other modules (power, memory) append their own metric lines through this hook. */
typedef void (*lb_metrics_extra_fn)(void *ud, lb_sbuf *out);

lb_metrics *lb_metrics_new(void);
void lb_metrics_free(lb_metrics *m);
void lb_metrics_request(lb_metrics *m, int status);
void lb_metrics_prompt_tokens(lb_metrics *m, int n);
/* Generated tokens as they are produced; now_s is a monotonic time in seconds. */
void lb_metrics_gen_tokens(lb_metrics *m, int n, double now_s);
void lb_metrics_ttft(lb_metrics *m, double ms);
void lb_metrics_set_extra(lb_metrics *m, lb_metrics_extra_fn fn, void *ud);
/* Appends the exposition; st may be NULL (no scheduler yet: model loading). */
void lb_metrics_format(lb_metrics *m, const lb_sched_stats *st, double now_s, lb_sbuf *out);

#endif
