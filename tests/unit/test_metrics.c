#include "../lib/harness.h"
#include "metrics.h"

static void extra(void *ud, lb_sbuf *out) { lb_sbuf_printf(out, "llmbox_extra %d\n", *(int *)ud); }

TEST(prometheus_text_has_counters_histogram_and_gauges)
{
    lb_metrics *m = lb_metrics_new();
    CHECK(m != NULL);
    lb_metrics_request(m, 200);
    lb_metrics_request(m, 200);
    lb_metrics_request(m, 401);
    lb_metrics_request(m, 9999);  /* clamped to 500 */
    lb_metrics_prompt_tokens(m, 12);
    lb_metrics_gen_tokens(m, 30, 100.2);
    lb_metrics_gen_tokens(m, 10, 101.5);
    lb_metrics_ttft(m, 40);    /* 0.04 s -> le 0.05 */
    lb_metrics_ttft(m, 3000);  /* 3 s -> le 5 */
    int v = 7;
    lb_metrics_set_extra(m, extra, &v);
    lb_sched_stats st = { .slots_total = 4, .slots_busy = 1, .queue_depth = 2, .steps = 5, .batch_tokens = 9,
                          .decode_s = 1.25, .between_s = 0.0625 };
    lb_sbuf out = { 0 };
    lb_metrics_format(m, &st, 102.1, &out);
    const char *t = out.buf;
    CHECK(t != NULL);
    CHECK(strstr(t, "llmbox_requests_total{status=\"200\"} 2\n"));
    CHECK(strstr(t, "llmbox_requests_total{status=\"401\"} 1\n"));
    CHECK(strstr(t, "llmbox_requests_total{status=\"500\"} 1\n"));
    CHECK(strstr(t, "llmbox_prompt_tokens_total 12\n"));
    CHECK(strstr(t, "llmbox_generated_tokens_total 40\n"));
    CHECK(strstr(t, "llmbox_tokens_per_second 4.000\n"));  /* 40 tokens / 10 s window */
    CHECK(strstr(t, "llmbox_time_to_first_token_seconds_bucket{le=\"0.025\"} 0\n"));
    CHECK(strstr(t, "llmbox_time_to_first_token_seconds_bucket{le=\"0.05\"} 1\n"));
    CHECK(strstr(t, "llmbox_time_to_first_token_seconds_bucket{le=\"2.5\"} 1\n"));
    CHECK(strstr(t, "llmbox_time_to_first_token_seconds_bucket{le=\"5\"} 2\n"));
    CHECK(strstr(t, "llmbox_time_to_first_token_seconds_bucket{le=\"+Inf\"} 2\n"));
    CHECK(strstr(t, "llmbox_time_to_first_token_seconds_count 2\n"));
    CHECK(strstr(t, "llmbox_time_to_first_token_seconds_sum 3.040000\n"));
    CHECK(strstr(t, "llmbox_queue_depth 2\n"));
    CHECK(strstr(t, "llmbox_slots_busy 1\n"));
    CHECK(strstr(t, "llmbox_model_loaded 1\n"));
    CHECK(strstr(t, "llmbox_decode_steps_total 5\n"));
    CHECK(strstr(t, "llmbox_batch_tokens_total 9\n"));
    CHECK(strstr(t, "llmbox_decode_seconds_total 1.250000\n"));
    CHECK(strstr(t, "llmbox_between_steps_seconds_total 0.062500\n"));
    CHECK(strstr(t, "# TYPE llmbox_between_steps_seconds_total counter\n"));
    CHECK(strstr(t, "llmbox_extra 7\n"));
    /* every sample line's metric has a TYPE line */
    CHECK(strstr(t, "# TYPE llmbox_queue_depth gauge\n"));
    CHECK(strstr(t, "# TYPE llmbox_time_to_first_token_seconds histogram\n"));
    lb_sbuf_free(&out);
    /* old tokens leave the rate window; model not loaded without stats */
    lb_metrics_format(m, NULL, 200.0, &out);
    CHECK(strstr(out.buf, "llmbox_tokens_per_second 0.000\n"));
    CHECK(strstr(out.buf, "llmbox_model_loaded 0\n"));
    CHECK(!strstr(out.buf, "llmbox_queue_depth"));
    lb_sbuf_free(&out);
    lb_metrics_free(m);
}
