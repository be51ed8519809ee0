#include "scheduler.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { REQ_QUEUED, REQ_RUNNING, REQ_DONE };

struct lb_sched_req {
    int32_t *prompt;
    int n_prompt, max_tokens;
    void *sampler;
    int32_t *out;  /* generated tokens, capacity max_tokens */
    int n_out, n_read;
    int state;
    lb_finish finish;
    bool cancel;
    int slot, n_cached;
    double t_submit, t_first;
    char error[256];
    pthread_cond_t cond;     /* signalled on new tokens and on DONE */
    lb_sched_req *next;      /* queue link */
};

typedef struct slot {
    lb_sched_req *req;       /* NULL when free */
    int32_t *cache;          /* tokens in the KV cache of this sequence */
    int n_cache;
    int n_prompt_done;       /* prompt tokens already in the cache */
    int32_t next;            /* sampled token to feed next step */
    bool has_next;
} slot;

struct lb_sched {
    lb_sched_config cfg;
    lb_sched_ops ops;
    pthread_mutex_t mu;
    pthread_cond_t work;     /* engine thread waits here when idle */
    pthread_t thread;
    bool thread_started, stopping;
    lb_sched_req *q_head, *q_tail;
    int q_len;
    slot *slots;
    int n_busy;
    unsigned long long steps, batch_tokens;
    double decode_ms, between_ms;
    /* batch buffers (engine thread only) */
    int32_t *b_tok, *b_pos, *b_seq;
    uint8_t *b_want;
    int *b_slot;             /* slot of each batch entry that wants logits, else -1 */
    lb_sched_req **wake;     /* running requests with new tokens, readers not woken yet */
    int n_wake;
};

static double mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double now_ms(const lb_sched *s) { return s->ops.now_ms ? s->ops.now_ms(s->ops.eng) : mono_ms(); }

/* Marks r finished (under the lock) and wakes its reader. */
static void finish_req(lb_sched_req *r, lb_finish f)
{
    if (r->finish == LB_FINISH_NONE)
        r->finish = f;
    r->state = REQ_DONE;
    pthread_cond_broadcast(&r->cond);
}

static int common_prefix(const int32_t *a, int na, const int32_t *b, int nb)
{
    int n = na < nb ? na : nb, i = 0;
    while (i < n && a[i] == b[i])
        i++;
    return i;
}

/* Moves queued requests into free slots, picking the free slot whose cache shares the longest
 * prefix with the prompt (prompt caching). Called with the lock held. */
static void admit(lb_sched *s)
{
    while (s->q_head && s->n_busy < s->cfg.n_slots) {
        lb_sched_req *r = s->q_head;
        s->q_head = r->next;
        if (!s->q_head)
            s->q_tail = NULL;
        s->q_len--;
        int best = -1, best_len = -1;
        for (int i = 0; i < s->cfg.n_slots; i++) {
            if (s->slots[i].req)
                continue;
            int l = common_prefix(s->slots[i].cache, s->slots[i].n_cache, r->prompt, r->n_prompt);
            if (l > best_len)
                best = i, best_len = l;
        }
        slot *sl = &s->slots[best];
        /* At least the last prompt token is decoded again: its logits give the first token. */
        int keep = best_len < r->n_prompt ? best_len : r->n_prompt - 1;
        if (keep < sl->n_cache) {
            s->ops.kv_truncate(s->ops.eng, best, keep);
            sl->n_cache = keep;
        }
        sl->req = r;
        sl->n_prompt_done = keep;
        sl->has_next = false;
        r->slot = best;
        r->n_cached = keep;
        r->state = REQ_RUNNING;
        s->n_busy++;
    }
}

/* Frees slots whose request was cancelled. Lock held. */
static void reap_cancelled(lb_sched *s)
{
    for (int i = 0; i < s->cfg.n_slots; i++) {
        slot *sl = &s->slots[i];
        if (sl->req && sl->req->cancel) {
            finish_req(sl->req, LB_FINISH_CANCEL);
            sl->req = NULL;
            s->n_busy--;
        }
    }
}

/* Fills the batch from the slots (engine thread; slot data is ours, prompts are immutable).
 * Generating slots first (one token each), then prompt chunks within the remaining budget. */
static int build_batch(lb_sched *s)
{
    int n = 0;
    for (int i = 0; i < s->cfg.n_slots; i++) {
        slot *sl = &s->slots[i];
        if (!sl->req || !sl->has_next)
            continue;
        s->b_tok[n] = sl->next;
        s->b_pos[n] = sl->n_cache;
        s->b_seq[n] = i;
        s->b_want[n] = 1;
        s->b_slot[n] = i;
        sl->cache[sl->n_cache++] = sl->next;
        sl->has_next = false;
        n++;
    }
    for (int i = 0; i < s->cfg.n_slots && n < s->cfg.n_batch; i++) {
        slot *sl = &s->slots[i];
        if (!sl->req || sl->n_prompt_done >= sl->req->n_prompt)
            continue;
        const lb_sched_req *r = sl->req;
        int take = r->n_prompt - sl->n_prompt_done;
        if (take > s->cfg.n_batch - n)
            take = s->cfg.n_batch - n;
        for (int k = 0; k < take; k++, n++) {
            int32_t t = r->prompt[sl->n_prompt_done + k];
            s->b_tok[n] = t;
            s->b_pos[n] = sl->n_cache;
            s->b_seq[n] = i;
            s->b_want[n] = 0;
            s->b_slot[n] = -1;
            sl->cache[sl->n_cache++] = t;
        }
        sl->n_prompt_done += take;
        if (sl->n_prompt_done == r->n_prompt) {
            s->b_want[n - 1] = 1;
            s->b_slot[n - 1] = i;
        }
    }
    return n;
}

static void fail_batch(lb_sched *s, int n, const char *msg)
{
    for (int k = 0; k < n; k++) {
        int i = s->b_seq[k];
        slot *sl = &s->slots[i];
        if (!sl->req)
            continue;
        snprintf(sl->req->error, sizeof sl->req->error, "%s", msg);
        finish_req(sl->req, LB_FINISH_ERROR);
        sl->req = NULL;
        s->n_busy--;
        s->ops.kv_truncate(s->ops.eng, i, 0);
        sl->n_cache = 0;
    }
}

static void *engine_main(void *arg)
{
    lb_sched *s = arg;
    double prev_end = -1;  /* end of the previous decode call, -1 after idling */
    pthread_mutex_lock(&s->mu);
    for (;;) {
        reap_cancelled(s);
        admit(s);
        /* Readers are woken after unlocking, so one scheduled at once does not find the lock
         * taken and sleep again while the compute threads wait for this thread. A request
         * finished meanwhile was woken by finish_req and may be freed once we unlock. */
        int n_wake = 0;
        for (int k = 0; k < s->n_wake; k++)
            if (s->wake[k]->state == REQ_RUNNING)
                s->wake[n_wake++] = s->wake[k];
        s->n_wake = 0;
        if (s->stopping)
            break;
        if (s->n_busy == 0) {
            prev_end = -1;
            pthread_cond_wait(&s->work, &s->mu);  /* idle: sleep until a submit or release */
            continue;
        }
        pthread_mutex_unlock(&s->mu);
        /* Only this thread finishes a running request, so these stay valid until it does. */
        for (int k = 0; k < n_wake; k++)
            pthread_cond_broadcast(&s->wake[k]->cond);

        int n = build_batch(s);
        lb_err err = { 0 };
        lb_batch b = { .n = n, .tokens = s->b_tok, .pos = s->b_pos, .seq = s->b_seq, .want_logits = s->b_want };
        double t0 = now_ms(s);
        int rc = n > 0 ? s->ops.decode(s->ops.eng, &b, &err) : LB_OK;
        double t1 = now_ms(s), between = prev_end >= 0 ? t0 - prev_end : 0;
        prev_end = t1;
        /* Sample outside the lock: samplers belong to the engine thread while requests run. */
        int32_t sampled[n > 0 ? n : 1];
        if (rc == LB_OK) {
            for (int k = 0; k < n; k++) {
                if (s->b_slot[k] < 0)
                    continue;
                slot *sl = &s->slots[s->b_slot[k]];
                const float *lg = s->ops.logits(s->ops.eng, k);
                sampled[k] = lg ? s->ops.sample(sl->req->sampler, lg) : -1;
                if (sampled[k] >= 0)
                    s->ops.accept(sl->req->sampler, sampled[k]);
            }
        }

        double t2 = now_ms(s);  /* tokens sampled */
        pthread_mutex_lock(&s->mu);
        s->steps++;
        s->batch_tokens += (unsigned long long)n;
        s->decode_ms += t1 - t0;
        s->between_ms += between;
        if (rc != LB_OK) {
            fail_batch(s, n, err.msg[0] ? err.msg : "decode failed");
            continue;
        }
        for (int k = 0; k < n; k++) {
            if (s->b_slot[k] < 0)
                continue;
            int i = s->b_slot[k];
            slot *sl = &s->slots[i];
            lb_sched_req *r = sl->req;
            if (!r)
                continue;
            int32_t tok = sampled[k];
            lb_finish f = LB_FINISH_NONE;
            if (tok < 0) {
                snprintf(r->error, sizeof r->error, "no logits for sequence %d", i);
                f = LB_FINISH_ERROR;
            } else {
                if (r->t_first < 0)
                    r->t_first = t2;
                if (s->ops.is_eog(s->ops.eng, tok)) {
                    f = LB_FINISH_STOP;
                } else {
                    r->out[r->n_out++] = tok;
                    if (r->n_out >= r->max_tokens || sl->n_cache >= s->cfg.n_ctx)
                        f = LB_FINISH_LENGTH;
                    else
                        sl->next = tok, sl->has_next = true;
                }
            }
            if (f != LB_FINISH_NONE) {
                finish_req(r, f);
                sl->req = NULL;
                sl->has_next = false;
                s->n_busy--;
            } else {
                s->wake[s->n_wake++] = r;
            }
        }
    }
    /* Stopping: fail whatever is left. */
    for (int i = 0; i < s->cfg.n_slots; i++) {
        if (s->slots[i].req) {
            snprintf(s->slots[i].req->error, sizeof s->slots[i].req->error, "server stopping");
            finish_req(s->slots[i].req, LB_FINISH_ERROR);
            s->slots[i].req = NULL;
        }
    }
    while (s->q_head) {
        lb_sched_req *r = s->q_head;
        s->q_head = r->next;
        snprintf(r->error, sizeof r->error, "server stopping");
        finish_req(r, LB_FINISH_ERROR);
    }
    s->q_tail = NULL;
    s->q_len = 0;
    s->n_busy = 0;
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

int lb_sched_new(const lb_sched_config *cfg, const lb_sched_ops *ops, lb_sched **out, lb_err *err)
{
    *out = NULL;
    if (cfg->n_slots < 1 || cfg->n_ctx < 2 || cfg->n_batch < cfg->n_slots || cfg->max_queue < 0)
        return lb_err_set(err, LB_EINVAL, "scheduler: bad config (slots %d, ctx %d, batch %d, queue %d)",
                          cfg->n_slots, cfg->n_ctx, cfg->n_batch, cfg->max_queue);
    lb_sched *s = calloc(1, sizeof *s);
    if (!s)
        return lb_err_set(err, LB_ENOMEM, "scheduler: out of memory");
    s->cfg = *cfg;
    s->ops = *ops;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->work, NULL);
    s->slots = calloc((size_t)cfg->n_slots, sizeof *s->slots);
    size_t nb = (size_t)cfg->n_batch;
    s->b_tok = calloc(nb, sizeof *s->b_tok);
    s->b_pos = calloc(nb, sizeof *s->b_pos);
    s->b_seq = calloc(nb, sizeof *s->b_seq);
    s->b_want = calloc(nb, 1);
    s->b_slot = calloc(nb, sizeof *s->b_slot);
    s->wake = calloc((size_t)cfg->n_slots, sizeof *s->wake);
    int rc = LB_OK;
    if (!s->slots || !s->b_tok || !s->b_pos || !s->b_seq || !s->b_want || !s->b_slot || !s->wake) {
        rc = lb_err_set(err, LB_ENOMEM, "scheduler: out of memory");
        goto out;
    }
    for (int i = 0; i < cfg->n_slots; i++) {
        s->slots[i].cache = calloc((size_t)cfg->n_ctx, sizeof(int32_t));
        if (!s->slots[i].cache) {
            rc = lb_err_set(err, LB_ENOMEM, "scheduler: out of memory");
            goto out;
        }
    }
    if (pthread_create(&s->thread, NULL, engine_main, s) != 0) {
        rc = lb_err_set(err, LB_EIO, "scheduler: cannot start engine thread");
        goto out;
    }
    s->thread_started = true;
out:
    if (rc != LB_OK)
        lb_sched_free(s);
    else
        *out = s;
    return rc;
}

void lb_sched_shutdown(lb_sched *s)
{
    if (!s || !s->thread_started)
        return;
    pthread_mutex_lock(&s->mu);
    s->stopping = true;
    pthread_cond_signal(&s->work);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->thread, NULL);
    s->thread_started = false;
}

void lb_sched_free(lb_sched *s)
{
    if (!s)
        return;
    lb_sched_shutdown(s);
    if (s->slots)
        for (int i = 0; i < s->cfg.n_slots; i++)
            free(s->slots[i].cache);
    free(s->slots);
    free(s->b_tok);
    free(s->b_pos);
    free(s->b_seq);
    free(s->b_want);
    free(s->b_slot);
    free(s->wake);
    pthread_cond_destroy(&s->work);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

static void req_free(lb_sched_req *r)
{
    if (!r)
        return;
    pthread_cond_destroy(&r->cond);
    free(r->prompt);
    free(r->out);
    free(r);
}

int lb_sched_submit(lb_sched *s, const int32_t *prompt, int n_prompt, int max_tokens, void *sampler,
                    lb_sched_req **out, lb_err *err)
{
    *out = NULL;
    if (n_prompt < 1)
        return lb_err_set(err, LB_EINVAL, "the prompt is empty");
    if (n_prompt >= s->cfg.n_ctx)
        return lb_err_set(err, LB_EINVAL, "the prompt has %d tokens but the context holds %d", n_prompt,
                          s->cfg.n_ctx);
    if (max_tokens < 1)
        return lb_err_set(err, LB_EINVAL, "max_tokens must be at least 1");
    if (max_tokens > s->cfg.n_ctx - n_prompt)
        max_tokens = s->cfg.n_ctx - n_prompt;  /* generation ends at the context's end anyway */
    lb_sched_req *r = calloc(1, sizeof *r);
    if (!r)
        return lb_err_set(err, LB_ENOMEM, "out of memory");
    r->prompt = malloc((size_t)n_prompt * sizeof(int32_t));
    r->out = malloc((size_t)max_tokens * sizeof(int32_t));
    pthread_cond_init(&r->cond, NULL);
    if (!r->prompt || !r->out) {
        req_free(r);
        return lb_err_set(err, LB_ENOMEM, "out of memory");
    }
    memcpy(r->prompt, prompt, (size_t)n_prompt * sizeof(int32_t));
    r->n_prompt = n_prompt;
    r->max_tokens = max_tokens;
    r->sampler = sampler;
    r->slot = -1;
    r->t_submit = now_ms(s);
    r->t_first = -1;
    r->state = REQ_QUEUED;

    int rc = LB_OK;
    pthread_mutex_lock(&s->mu);
    if (s->stopping) {
        rc = lb_err_set(err, LB_EIO, "the server is stopping");
    } else if (s->n_busy >= s->cfg.n_slots && s->q_len >= s->cfg.max_queue) {
        rc = lb_err_set(err, LB_ELIMIT, "all %d slots are busy and %d requests are waiting", s->cfg.n_slots,
                        s->q_len);
    } else {
        if (s->q_tail)
            s->q_tail->next = r;
        else
            s->q_head = r;
        s->q_tail = r;
        s->q_len++;
        pthread_cond_signal(&s->work);
    }
    pthread_mutex_unlock(&s->mu);
    if (rc != LB_OK)
        req_free(r);
    else
        *out = r;
    return rc;
}

bool lb_sched_read(lb_sched *s, lb_sched_req *r, int32_t *out, int cap, int *n, int timeout_ms)
{
    pthread_mutex_lock(&s->mu);
    if (timeout_ms > 0 && r->n_read == r->n_out && r->state != REQ_DONE) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += timeout_ms / 1000;
        ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L)
            ts.tv_sec++, ts.tv_nsec -= 1000000000L;
        while (r->n_read == r->n_out && r->state != REQ_DONE)
            if (pthread_cond_timedwait(&r->cond, &s->mu, &ts) == ETIMEDOUT)
                break;
    }
    int k = r->n_out - r->n_read;
    if (k > cap)
        k = cap;
    if (k > 0)
        memcpy(out, r->out + r->n_read, (size_t)k * sizeof(int32_t));
    r->n_read += k;
    *n = k;
    bool done = r->state == REQ_DONE && r->n_read == r->n_out;
    pthread_mutex_unlock(&s->mu);
    return done;
}

void lb_sched_req_get_info(lb_sched *s, lb_sched_req *r, lb_sched_req_info *info)
{
    pthread_mutex_lock(&s->mu);
    info->n_prompt = r->n_prompt;
    info->n_cached = r->n_cached;
    info->n_gen = r->n_out;
    info->slot = r->slot;
    info->ttft_ms = r->t_first >= 0 ? r->t_first - r->t_submit : -1;
    info->finish = r->state == REQ_DONE ? r->finish : LB_FINISH_NONE;
    snprintf(info->error, sizeof info->error, "%s", r->error);
    pthread_mutex_unlock(&s->mu);
}

void lb_sched_release(lb_sched *s, lb_sched_req *r)
{
    if (!r)
        return;
    pthread_mutex_lock(&s->mu);
    if (r->state == REQ_QUEUED) {
        lb_sched_req **pp = &s->q_head, *prev = NULL;
        while (*pp && *pp != r)
            prev = *pp, pp = &(*pp)->next;
        if (*pp) {
            *pp = r->next;
            if (s->q_tail == r)
                s->q_tail = prev;
            s->q_len--;
        }
        finish_req(r, LB_FINISH_CANCEL);
    } else if (r->state == REQ_RUNNING) {
        r->cancel = true;
        pthread_cond_signal(&s->work);
        while (r->state != REQ_DONE)
            pthread_cond_wait(&r->cond, &s->mu);
    }
    pthread_mutex_unlock(&s->mu);
    req_free(r);
}

void lb_sched_get_stats(lb_sched *s, lb_sched_stats *st)
{
    pthread_mutex_lock(&s->mu);
    st->slots_total = s->cfg.n_slots;
    st->slots_busy = s->n_busy;
    st->queue_depth = s->q_len;
    st->steps = s->steps;
    st->batch_tokens = s->batch_tokens;
    st->decode_s = s->decode_ms / 1e3;
    st->between_s = s->between_ms / 1e3;
    pthread_mutex_unlock(&s->mu);
}
