#include "metrics.h"

#include <pthread.h>
#include <stdlib.h>

static const double TTFT_LE[LB_TTFT_BUCKETS] = { 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30 };

struct lb_metrics {
    pthread_mutex_t mu;
    unsigned long long by_status[600];
    unsigned long long prompt_tokens, gen_tokens;
    unsigned long long ttft_bucket[LB_TTFT_BUCKETS + 1];  /* last: +Inf */
    unsigned long long ttft_count;
    double ttft_sum_s;
    /* tokens per whole second, ring of LB_RATE_WINDOW + 1 seconds */
    long long rate_sec[LB_RATE_WINDOW + 1];
    unsigned long long rate_n[LB_RATE_WINDOW + 1];
    lb_metrics_extra_fn extra;
    void *extra_ud;
};

lb_metrics *lb_metrics_new(void)
{
    lb_metrics *m = calloc(1, sizeof *m);
    if (m)
        pthread_mutex_init(&m->mu, NULL);
    return m;
}

void lb_metrics_free(lb_metrics *m)
{
    if (!m)
        return;
    pthread_mutex_destroy(&m->mu);
    free(m);
}

void lb_metrics_request(lb_metrics *m, int status)
{
    if (status < 100 || status > 599)
        status = 500;
    pthread_mutex_lock(&m->mu);
    m->by_status[status]++;
    pthread_mutex_unlock(&m->mu);
}

void lb_metrics_prompt_tokens(lb_metrics *m, int n)
{
    pthread_mutex_lock(&m->mu);
    m->prompt_tokens += (unsigned long long)(n > 0 ? n : 0);
    pthread_mutex_unlock(&m->mu);
}

void lb_metrics_gen_tokens(lb_metrics *m, int n, double now_s)
{
    if (n <= 0)
        return;
    long long sec = (long long)now_s;
    int i = (int)(sec % (LB_RATE_WINDOW + 1));
    pthread_mutex_lock(&m->mu);
    m->gen_tokens += (unsigned long long)n;
    if (m->rate_sec[i] != sec)
        m->rate_sec[i] = sec, m->rate_n[i] = 0;
    m->rate_n[i] += (unsigned long long)n;
    pthread_mutex_unlock(&m->mu);
}

void lb_metrics_ttft(lb_metrics *m, double ms)
{
    double s = ms / 1000.0;
    pthread_mutex_lock(&m->mu);
    int b = 0;
    while (b < LB_TTFT_BUCKETS && s > TTFT_LE[b])
        b++;
    m->ttft_bucket[b]++;
    m->ttft_count++;
    m->ttft_sum_s += s;
    pthread_mutex_unlock(&m->mu);
}

void lb_metrics_set_extra(lb_metrics *m, lb_metrics_extra_fn fn, void *ud)
{
    pthread_mutex_lock(&m->mu);
    m->extra = fn;
    m->extra_ud = ud;
    pthread_mutex_unlock(&m->mu);
}

void lb_metrics_format(lb_metrics *m, const lb_sched_stats *st, double now_s, lb_sbuf *out)
{
    pthread_mutex_lock(&m->mu);
    lb_sbuf_puts(out, "# HELP llmbox_requests_total HTTP requests answered, by status code.\n"
                      "# TYPE llmbox_requests_total counter\n");
    for (int s = 100; s < 600; s++)
        if (m->by_status[s])
            lb_sbuf_printf(out, "llmbox_requests_total{status=\"%d\"} %llu\n", s, m->by_status[s]);
    lb_sbuf_printf(out,
                   "# HELP llmbox_prompt_tokens_total Prompt tokens received.\n"
                   "# TYPE llmbox_prompt_tokens_total counter\n"
                   "llmbox_prompt_tokens_total %llu\n"
                   "# HELP llmbox_generated_tokens_total Tokens generated.\n"
                   "# TYPE llmbox_generated_tokens_total counter\n"
                   "llmbox_generated_tokens_total %llu\n",
                   m->prompt_tokens, m->gen_tokens);
    /* Average over the last LB_RATE_WINDOW complete seconds (the current one is partial). */
    long long now = (long long)now_s;
    unsigned long long recent = 0;
    for (int i = 0; i <= LB_RATE_WINDOW; i++)
        if (m->rate_sec[i] < now && m->rate_sec[i] >= now - LB_RATE_WINDOW)
            recent += m->rate_n[i];
    lb_sbuf_printf(out,
                   "# HELP llmbox_tokens_per_second Generated tokens per second, all streams, last %d s.\n"
                   "# TYPE llmbox_tokens_per_second gauge\n"
                   "llmbox_tokens_per_second %.3f\n",
                   LB_RATE_WINDOW, (double)recent / LB_RATE_WINDOW);
    lb_sbuf_puts(out, "# HELP llmbox_time_to_first_token_seconds Time from request to first generated token.\n"
                      "# TYPE llmbox_time_to_first_token_seconds histogram\n");
    unsigned long long cum = 0;
    for (int b = 0; b < LB_TTFT_BUCKETS; b++) {
        cum += m->ttft_bucket[b];
        lb_sbuf_printf(out, "llmbox_time_to_first_token_seconds_bucket{le=\"%g\"} %llu\n", TTFT_LE[b], cum);
    }
    lb_sbuf_printf(out,
                   "llmbox_time_to_first_token_seconds_bucket{le=\"+Inf\"} %llu\n"
                   "llmbox_time_to_first_token_seconds_sum %.6f\n"
                   "llmbox_time_to_first_token_seconds_count %llu\n",
                   m->ttft_count, m->ttft_sum_s, m->ttft_count);
    lb_sbuf_printf(out,
                   "# HELP llmbox_model_loaded 1 when the model is loaded and requests are served.\n"
                   "# TYPE llmbox_model_loaded gauge\n"
                   "llmbox_model_loaded %d\n",
                   st != NULL);
    if (st)
        lb_sbuf_printf(out,
                       "# HELP llmbox_queue_depth Requests waiting for a slot.\n"
                       "# TYPE llmbox_queue_depth gauge\n"
                       "llmbox_queue_depth %d\n"
                       "# HELP llmbox_slots_busy Slots generating.\n"
                       "# TYPE llmbox_slots_busy gauge\n"
                       "llmbox_slots_busy %d\n"
                       "# HELP llmbox_slots_total Slots (--parallel).\n"
                       "# TYPE llmbox_slots_total gauge\n"
                       "llmbox_slots_total %d\n"
                       "# HELP llmbox_decode_steps_total Batched decode steps.\n"
                       "# TYPE llmbox_decode_steps_total counter\n"
                       "llmbox_decode_steps_total %llu\n"
                       "# HELP llmbox_batch_tokens_total Tokens carried by the decode steps.\n"
                       "# TYPE llmbox_batch_tokens_total counter\n"
                       "llmbox_batch_tokens_total %llu\n"
                       "# HELP llmbox_decode_seconds_total Wall time inside the decode steps.\n"
                       "# TYPE llmbox_decode_seconds_total counter\n"
                       "llmbox_decode_seconds_total %.6f\n"
                       "# HELP llmbox_between_steps_seconds_total Wall time between decode steps while "
                       "generating (sampling, scheduling).\n"
                       "# TYPE llmbox_between_steps_seconds_total counter\n"
                       "llmbox_between_steps_seconds_total %.6f\n",
                       st->queue_depth, st->slots_busy, st->slots_total, st->steps, st->batch_tokens, st->decode_s,
                       st->between_s);
    lb_metrics_extra_fn extra = m->extra;
    void *ud = m->extra_ud;
    pthread_mutex_unlock(&m->mu);
    if (extra)
        extra(ud, out);
}
