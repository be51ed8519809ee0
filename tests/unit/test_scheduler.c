/* Scheduler logic against a fake engine: token i+1 always follows token i (mod V), token 7 is
 * end-of-generation. The fake checks that positions follow each sequence's cache. */
#include "../lib/harness.h"
#include "scheduler.h"

#include <stdatomic.h>
#include <unistd.h>

#define V 8
#define NSEQ 4

static struct fake {
    int kv_len[NSEQ];
    int bad_pos;
    int max_seqs_in_batch;
    int fail_next;
    int delay_us;
    int no_eog;
    double clock_ms;          /* fake clock: decode adds 2 ms, each sample 0.5 ms */
    int fake_clock;
    float logits[512][V];
    atomic_int decodes;
} F;

static int f_decode(void *eng, const lb_batch *b, lb_err *err)
{
    (void)eng;
    atomic_fetch_add(&F.decodes, 1);
    if (F.fail_next) {
        F.fail_next = 0;
        return lb_err_set(err, LB_EIO, "fake failure");
    }
    int seen[NSEQ] = { 0 }, nseen = 0;
    for (int i = 0; i < b->n; i++) {
        int s = b->seq[i];
        if (b->pos[i] != F.kv_len[s])
            F.bad_pos++;
        F.kv_len[s]++;
        if (!seen[s])
            seen[s] = 1, nseen++;
        for (int v = 0; v < V; v++)
            F.logits[i][v] = 0;
        F.logits[i][(b->tokens[i] + 1) % V] = 1;
    }
    if (nseen > F.max_seqs_in_batch)
        F.max_seqs_in_batch = nseen;
    if (F.delay_us)
        usleep(F.delay_us);
    if (F.fake_clock)
        F.clock_ms += 2.0;
    return LB_OK;
}
static const float *f_logits(void *eng, int i) { (void)eng; return F.logits[i]; }
static void f_truncate(void *eng, int seq, int n_keep)
{
    (void)eng;
    if (n_keep <= F.kv_len[seq])
        F.kv_len[seq] = n_keep;
    else
        F.bad_pos++;
}
static bool f_is_eog(void *eng, int32_t t) { (void)eng; return t == 7 && !F.no_eog; }
static int32_t f_sample(void *smp, const float *lg)
{
    (void)smp;
    if (F.fake_clock)
        F.clock_ms += 0.5;
    int best = 0;
    for (int v = 1; v < V; v++)
        if (lg[v] > lg[best])
            best = v;
    return best;
}
static void f_accept(void *smp, int32_t t) { (void)smp; (void)t; }

/* Read by the engine thread only, except while no request runs (the test advances it then). */
static double f_now(void *eng)
{
    (void)eng;
    return F.clock_ms;
}

static const lb_sched_ops OPS = { NULL, f_decode, f_logits, f_truncate, f_is_eog, f_sample, f_accept, NULL };
static const lb_sched_ops OPS_CLOCK = { NULL, f_decode, f_logits, f_truncate, f_is_eog, f_sample, f_accept, f_now };

static lb_sched *mk(int slots, int ctx, int batch, int queue)
{
    memset(&F, 0, sizeof F);
    lb_sched_config cfg = { slots, ctx, batch, queue };
    lb_sched *s = NULL;
    lb_err err = { 0 };
    CHECK_EQ(lb_sched_new(&cfg, &OPS, &s, &err), LB_OK);
    return s;
}

/* Reads until done; returns the number of tokens. */
static int drain(lb_sched *s, lb_sched_req *r, int32_t *out, int cap)
{
    int total = 0, n = 0;
    for (int guard = 0; guard < 10000; guard++) {
        bool done = lb_sched_read(s, r, out + total, cap - total, &n, 100);
        total += n;
        if (done)
            break;
    }
    return total;
}

TEST(generates_until_max_tokens)
{
    lb_sched *s = mk(2, 64, 16, 4);
    int32_t p[] = { 0, 1, 2 }, out[16];
    lb_sched_req *r = NULL;
    lb_err err = { 0 };
    CHECK_EQ(lb_sched_submit(s, p, 3, 3, NULL, &r, &err), LB_OK);
    CHECK_EQ(drain(s, r, out, 16), 3);
    CHECK_EQ(out[0], 3);
    CHECK_EQ(out[1], 4);
    CHECK_EQ(out[2], 5);
    lb_sched_req_info info;
    lb_sched_req_get_info(s, r, &info);
    CHECK_EQ(info.finish, LB_FINISH_LENGTH);
    CHECK_EQ(info.n_prompt, 3);
    CHECK_EQ(info.n_gen, 3);
    CHECK(info.ttft_ms >= 0);
    lb_sched_release(s, r);
    CHECK_EQ(F.bad_pos, 0);
    lb_sched_free(s);
}

TEST(stops_at_end_of_generation_token)
{
    lb_sched *s = mk(1, 64, 16, 4);
    int32_t p[] = { 5 }, out[16];
    lb_sched_req *r = NULL;
    lb_err err = { 0 };
    CHECK_EQ(lb_sched_submit(s, p, 1, 10, NULL, &r, &err), LB_OK);
    CHECK_EQ(drain(s, r, out, 16), 1);  /* 6, then 7 = EOG is not delivered */
    CHECK_EQ(out[0], 6);
    lb_sched_req_info info;
    lb_sched_req_get_info(s, r, &info);
    CHECK_EQ(info.finish, LB_FINISH_STOP);
    lb_sched_release(s, r);
    lb_sched_free(s);
}

TEST(context_end_finishes_with_length)
{
    lb_sched *s = mk(1, 6, 16, 4);
    int32_t p[] = { 0, 0, 0, 0 }, out[16];  /* 0,0,0,0 -> 1 2 then the context (6) is full */
    lb_sched_req *r = NULL;
    lb_err err = { 0 };
    CHECK_EQ(lb_sched_submit(s, p, 4, 100, NULL, &r, &err), LB_OK);
    CHECK_EQ(drain(s, r, out, 16), 2);
    lb_sched_req_info info;
    lb_sched_req_get_info(s, r, &info);
    CHECK_EQ(info.finish, LB_FINISH_LENGTH);
    lb_sched_release(s, r);
    CHECK_EQ(F.bad_pos, 0);
    lb_sched_free(s);
}

TEST(rejects_bad_prompts_and_full_queue)
{
    lb_sched *s = mk(1, 8, 8, 1);
    int32_t p[16] = { 0 };
    lb_sched_req *r = NULL, *r2 = NULL, *r3 = NULL;
    lb_err err = { 0 };
    CHECK_EQ(lb_sched_submit(s, p, 0, 4, NULL, &r, &err), LB_EINVAL);
    CHECK_EQ(lb_sched_submit(s, p, 8, 4, NULL, &r, &err), LB_EINVAL);
    CHECK(strstr(err.msg, "context") != NULL);
    F.delay_us = 20000;  /* keep the first request busy */
    p[0] = 1;            /* 1 -> 2 .. 6, 7 ends: would run 6 steps */
    CHECK_EQ(lb_sched_submit(s, p, 1, 6, NULL, &r, &err), LB_OK);
    usleep(5000);        /* admitted into the only slot */
    CHECK_EQ(lb_sched_submit(s, p, 1, 6, NULL, &r2, &err), LB_OK);   /* queued */
    CHECK_EQ(lb_sched_submit(s, p, 1, 6, NULL, &r3, &err), LB_ELIMIT);
    lb_sched_stats st;
    lb_sched_get_stats(s, &st);
    CHECK_EQ(st.queue_depth, 1);
    CHECK_EQ(st.slots_busy, 1);
    lb_sched_release(s, r2);  /* cancel while queued */
    lb_sched_get_stats(s, &st);
    CHECK_EQ(st.queue_depth, 0);
    lb_sched_release(s, r);
    lb_sched_free(s);
}

TEST(concurrent_requests_share_decode_steps)
{
    lb_sched *s = mk(3, 64, 32, 8);
    F.delay_us = 2000;
    int32_t p[] = { 0 };
    lb_sched_req *r[5];
    lb_err err = { 0 };
    for (int i = 0; i < 5; i++)
        CHECK_EQ(lb_sched_submit(s, p, 1, 5, NULL, &r[i], &err), LB_OK);
    for (int i = 0; i < 5; i++) {
        int32_t out[16];
        CHECK_EQ(drain(s, r[i], out, 16), 5);
        CHECK_EQ(out[4], 5);
        lb_sched_release(s, r[i]);
    }
    CHECK_EQ(F.bad_pos, 0);
    CHECK(F.max_seqs_in_batch >= 2);
    CHECK(F.max_seqs_in_batch <= 3);
    lb_sched_stats st;
    lb_sched_get_stats(s, &st);
    CHECK(st.steps < 5 * 5);  /* batched: far fewer steps than tokens */
    lb_sched_free(s);
}

TEST(long_prompt_is_split_into_chunks)
{
    lb_sched *s = mk(1, 128, 8, 2);
    int32_t p[40] = { 0 }, out[4];
    lb_sched_req *r = NULL;
    lb_err err = { 0 };
    CHECK_EQ(lb_sched_submit(s, p, 40, 2, NULL, &r, &err), LB_OK);
    CHECK_EQ(drain(s, r, out, 4), 2);
    lb_sched_stats st;
    lb_sched_get_stats(s, &st);
    CHECK_EQ(st.steps, 6);  /* 5 chunks of 8, then 1 token */
    CHECK_EQ(F.bad_pos, 0);
    lb_sched_release(s, r);
    lb_sched_free(s);
}

TEST(release_mid_generation_frees_slot)
{
    lb_sched *s = mk(1, 4096, 16, 2);
    F.delay_us = 1000;
    int32_t p[] = { 0, 0 }, out[8];
    lb_sched_req *r = NULL;
    lb_err err = { 0 };
    F.no_eog = 1;  /* would run 4000 steps (> 4 s) unless released */
    CHECK_EQ(lb_sched_submit(s, p, 2, 4000, NULL, &r, &err), LB_OK);
    int n = 0;
    while (n == 0)
        lb_sched_read(s, r, out, 1, &n, 100);
    lb_sched_release(s, r);
    lb_sched_stats st;
    lb_sched_get_stats(s, &st);
    CHECK_EQ(st.slots_busy, 0);
    int steps = (int)st.steps;
    usleep(20000);
    lb_sched_get_stats(s, &st);
    CHECK_EQ((int)st.steps, steps);  /* nothing runs after the release */
    CHECK(steps < 100);
    lb_sched_free(s);
}

TEST(prefix_of_previous_prompt_is_reused)
{
    lb_sched *s = mk(2, 64, 16, 4);
    int32_t p1[] = { 1, 2, 3, 4, 0 }, p2[] = { 1, 2, 3, 4, 2 }, out[8];
    lb_sched_req *r = NULL;
    lb_err err = { 0 };
    CHECK_EQ(lb_sched_submit(s, p1, 5, 2, NULL, &r, &err), LB_OK);
    drain(s, r, out, 8);
    lb_sched_release(s, r);
    CHECK_EQ(lb_sched_submit(s, p2, 5, 2, NULL, &r, &err), LB_OK);
    CHECK_EQ(drain(s, r, out, 8), 2);
    CHECK_EQ(out[0], 3);
    lb_sched_req_info info;
    lb_sched_req_get_info(s, r, &info);
    CHECK_EQ(info.n_cached, 4);
    lb_sched_release(s, r);
    /* identical prompt: all but the last token reused */
    CHECK_EQ(lb_sched_submit(s, p2, 5, 2, NULL, &r, &err), LB_OK);
    drain(s, r, out, 8);
    lb_sched_req_get_info(s, r, &info);
    CHECK_EQ(info.n_cached, 4);
    CHECK_EQ(out[0], 3);
    lb_sched_release(s, r);
    CHECK_EQ(F.bad_pos, 0);
    lb_sched_free(s);
}

TEST(decode_error_fails_request_and_service_continues)
{
    lb_sched *s = mk(1, 64, 16, 4);
    int32_t p[] = { 0 }, out[8];
    lb_sched_req *r = NULL;
    lb_err err = { 0 };
    F.fail_next = 1;
    CHECK_EQ(lb_sched_submit(s, p, 1, 3, NULL, &r, &err), LB_OK);
    CHECK_EQ(drain(s, r, out, 8), 0);
    lb_sched_req_info info;
    lb_sched_req_get_info(s, r, &info);
    CHECK_EQ(info.finish, LB_FINISH_ERROR);
    CHECK(strstr(info.error, "fake failure") != NULL);
    lb_sched_release(s, r);
    CHECK_EQ(lb_sched_submit(s, p, 1, 3, NULL, &r, &err), LB_OK);
    CHECK_EQ(drain(s, r, out, 8), 3);
    lb_sched_release(s, r);
    CHECK_EQ(F.bad_pos, 0);
    lb_sched_free(s);
}

TEST(idle_engine_does_not_step)
{
    lb_sched *s = mk(2, 64, 16, 4);
    int before = atomic_load(&F.decodes);
    usleep(50000);
    CHECK_EQ(atomic_load(&F.decodes), before);
    lb_sched_stats st;
    lb_sched_get_stats(s, &st);
    CHECK_EQ(st.steps, 0);
    lb_sched_free(s);
}

TEST(shutdown_fails_pending_requests_and_refuses_new_ones)
{
    lb_sched *s = mk(1, 4096, 16, 4);
    F.no_eog = 1;
    F.delay_us = 1000;
    int32_t p[] = { 0 }, out[8];
    lb_sched_req *r1 = NULL, *r2 = NULL, *r3 = NULL;
    lb_err err = { 0 };
    CHECK_EQ(lb_sched_submit(s, p, 1, 4000, NULL, &r1, &err), LB_OK);
    CHECK_EQ(lb_sched_submit(s, p, 1, 4000, NULL, &r2, &err), LB_OK);
    lb_sched_shutdown(s);
    int n;
    while (!lb_sched_read(s, r1, out, 8, &n, 10))
        ;
    lb_sched_req_info info;
    lb_sched_req_get_info(s, r1, &info);
    CHECK_EQ(info.finish, LB_FINISH_ERROR);
    lb_sched_req_get_info(s, r2, &info);
    CHECK_EQ(info.finish, LB_FINISH_ERROR);
    CHECK_EQ(lb_sched_submit(s, p, 1, 4, NULL, &r3, &err), LB_EIO);
    lb_sched_release(s, r1);
    lb_sched_release(s, r2);
    lb_sched_free(s);
}

TEST(step_timing_splits_decode_from_between_steps_and_skips_idle)
{
    memset(&F, 0, sizeof F);
    F.fake_clock = 1;
    lb_sched_config cfg = { 2, 64, 16, 4 };
    lb_sched *s = NULL;
    lb_err err = { 0 };
    CHECK_EQ(lb_sched_new(&cfg, &OPS_CLOCK, &s, &err), LB_OK);
    if (!s)
        return;
    int32_t p[] = { 0, 1 }, out[16];
    lb_sched_req *r = NULL;
    CHECK_EQ(lb_sched_submit(s, p, 2, 4, NULL, &r, &err), LB_OK);
    CHECK_EQ(drain(s, r, out, 16), 4);
    lb_sched_req_info info;
    lb_sched_req_get_info(s, r, &info);
    CHECK_NEAR(info.ttft_ms, 2.5, 1e-9);  /* prompt step 2 ms + its sample 0.5 ms */
    lb_sched_release(s, r);
    lb_sched_stats st;
    lb_sched_get_stats(s, &st);
    /* 4 steps (prompt + 3 tokens): 2 ms each inside decode; between consecutive ones, the
     * 0.5 ms sample of the previous step */
    CHECK_EQ(st.steps, 4);
    CHECK_NEAR(st.decode_s, 0.008, 1e-12);
    CHECK_NEAR(st.between_s, 0.0015, 1e-12);
    F.clock_ms += 1000;  /* idle: no request, so neither figure may grow */
    CHECK_EQ(lb_sched_submit(s, p, 2, 2, NULL, &r, &err), LB_OK);
    CHECK_EQ(drain(s, r, out, 16), 2);
    lb_sched_release(s, r);
    lb_sched_get_stats(s, &st);
    CHECK_EQ(st.steps, 6);  /* the cached prompt prefix: 1 token re-decoded, then 1 more */
    CHECK_NEAR(st.decode_s, 0.012, 1e-12);
    CHECK_NEAR(st.between_s, 0.002, 1e-12);
    lb_sched_free(s);
}
