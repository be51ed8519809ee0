/* POST /v1/chat/completions and /v1/completions, streamed (SSE) or not. The connection
 * thread builds the prompt, hands tokens to the scheduler, and turns generated tokens into
 * text (detokenizer, then stop strings) for the response: one pipeline for both modes, so the
 * streamed text equals the non-streamed one. */
#include "api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "api_params.h"
#include "api_power.h"
#include "log.h"
#include "sampler.h"
#include "sbuf.h"
#include "tokenizer.h"

typedef struct i32vec {
    int32_t *v;
    int n, cap;
} i32vec;

typedef struct gen {
    lb_api_call *call;
    lb_api *api;
    lb_gen_params p;
    char id[48];
    long long created;
    i32vec prompt;
    lb_sampler *smp;
    lb_stop *stop;
    lb_detok detok;
    lb_sched_req *req;
    lb_sbuf text;          /* whole completion (non-stream) */
    lb_jw w;
    bool stopped_by_string, client_gone;
    int n_completion;
    unsigned long sent;    /* SSE events written (each write checks the peer itself) */
    lb_api_power_span pw;  /* busy profile + energy over the generation */
} gen;

static void random_id(char *out, size_t cap, const char *prefix)
{
    unsigned char r[12] = { 0 };
    if (getrandom(r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r)
        for (size_t i = 0; i < sizeof r; i++)
            r[i] = (unsigned char)rand();
    int n = snprintf(out, cap, "%s", prefix);
    for (size_t i = 0; i < sizeof r && n + 2 < (int)cap; i++)
        n += snprintf(out + n, cap - (size_t)n, "%02x", r[i]);
}

/* Tokenizes text and appends to vec. */
static int tokenize_into(const lb_vocab *v, const char *text, size_t len, bool add_bos, bool special, i32vec *vec,
                         lb_err *err)
{
    int want = (int)(len < 1000000 ? len : 1000000) + 8;
    for (int attempt = 0; attempt < 2; attempt++) {
        if (vec->n + want > vec->cap) {
            int cap = vec->n + want;
            int32_t *p = realloc(vec->v, (size_t)cap * sizeof(int32_t));
            if (!p)
                return lb_err_set(err, LB_ENOMEM, "out of memory");
            vec->v = p;
            vec->cap = cap;
        }
        int n = lb_tokenize(v, text, len, add_bos, special, vec->v + vec->n, vec->cap - vec->n, err);
        if (n < 0)
            return n;
        if (n <= vec->cap - vec->n) {
            vec->n += n;
            return LB_OK;
        }
        want = n;
    }
    return lb_err_set(err, LB_EINVAL, "tokenizer returned inconsistent lengths");
}

static bool has_control_text(const lb_api *api, const char *s)
{
    for (int i = 0; i < api->n_control_texts; i++)
        if (strstr(s, api->control_texts[i]))
            return true;
    return false;
}

/* Longest control-token text starting at s; its length in *len, or -1. */
static int control_at(const lb_api *api, const char *s, size_t *len)
{
    int best = -1;
    size_t best_len = 0;
    for (int i = 0; i < api->n_control_texts; i++) {
        size_t l = strlen(api->control_texts[i]);
        if (l > best_len && strncmp(s, api->control_texts[i], l) == 0)
            best = i, best_len = l;
    }
    *len = best_len;
    return best;
}

static int flush_raw(gen *g, lb_sbuf *raw, lb_err *err)
{
    if (raw->failed)
        return lb_err_set(err, LB_ENOMEM, "out of memory");
    int rc = raw->len ? tokenize_into(g->api->vocab, raw->buf, raw->len, false, false, &g->prompt, err) : LB_OK;
    raw->len = 0;
    return rc;
}

/* Chat prompt. The template's own text is tokenized with parse_special (its <|im_start|> etc.
 * become control tokens); message content must never become control tokens. When no message
 * contains the text of a control token, tokenizing the whole rendering with parse_special is
 * exactly that, and matches llama.cpp token for token. Otherwise the conversation is rendered
 * with placeholders for the contents, and the tokenizer's own procedure is replayed: the text
 * is cut at the template's control tokens, and each stretch of plain text between them
 * (template text and content together) is tokenized with parse_special off. */
static int chat_prompt(gen *g, lb_err *err)
{
    lb_api *api = g->api;
    int n = g->p.n_msgs, rc = LB_OK;
    lb_chat_msg *msgs = calloc((size_t)n, sizeof *msgs);
    char (*marks)[24] = calloc((size_t)n, sizeof *marks);
    char *out = NULL;
    lb_sbuf raw = { 0 };
    if (!msgs || !marks) {
        rc = lb_err_set(err, LB_ENOMEM, "out of memory");
        goto out;
    }
    bool inject = false;
    for (int i = 0; i < n; i++)
        inject |= has_control_text(api, g->p.msgs[i].content);
    for (int i = 0; i < n; i++) {
        snprintf(marks[i], sizeof marks[i], "\x02LBMSG%d\x03", i);
        msgs[i].role = g->p.msgs[i].role;
        msgs[i].content = inject ? marks[i] : g->p.msgs[i].content;
    }
    rc = lb_chat_render(api->chat_family, msgs, n, true, api->bos_text, api->eos_text, &out, err);
    if (rc != LB_OK)
        goto out;
    bool starts_bos = api->bos_text[0] && strncmp(out, api->bos_text, strlen(api->bos_text)) == 0;
    bool add_bos = lb_vocab_add_bos(api->vocab) && !starts_bos;
    if (!inject) {
        rc = tokenize_into(api->vocab, out, strlen(out), add_bos, true, &g->prompt, err);
        goto out;
    }
    LOG_INFO("chat: message text looks like control tokens; tokenizing it as plain text");
    if (add_bos && lb_vocab_bos(api->vocab) >= 0) {
        rc = tokenize_into(api->vocab, "", 0, false, false, &g->prompt, err);  /* makes room */
        if (rc == LB_OK)
            g->prompt.v[g->prompt.n++] = lb_vocab_bos(api->vocab);
    }
    for (const char *p = out; *p && rc == LB_OK;) {
        int idx = -1, used = 0;
        size_t clen = 0;
        if (p[0] == '\x02' && sscanf(p, "\x02LBMSG%d\x03%n", &idx, &used) == 1 && used > 0 && idx >= 0 && idx < n) {
            lb_sbuf_puts(&raw, g->p.msgs[idx].content);
            p += used;
        } else if (control_at(api, p, &clen) >= 0) {
            rc = flush_raw(g, &raw, err);
            if (rc == LB_OK)
                rc = tokenize_into(api->vocab, p, clen, false, true, &g->prompt, err);
            p += clen;
        } else {
            lb_sbuf_add(&raw, p, 1);
            p++;
        }
    }
    if (rc == LB_OK)
        rc = flush_raw(g, &raw, err);
out:
    lb_sbuf_free(&raw);
    free(out);
    free(marks);
    free(msgs);
    return rc;
}

static void chunk_begin(gen *g)
{
    lb_jw *w = &g->w;
    lb_jw_reset(w);
    lb_jw_obj_begin(w);
    lb_jw_key(w, "id");
    lb_jw_str(w, g->id);
    lb_jw_key(w, "object");
    lb_jw_str(w, g->p.chat ? "chat.completion.chunk" : "text_completion");
    lb_jw_key(w, "created");
    lb_jw_int(w, g->created);
    lb_jw_key(w, "model");
    lb_jw_str(w, g->api->model_id);
    lb_jw_key(w, "choices");
    lb_jw_arr_begin(w);
}

static void usage_obj(gen *g, const lb_sched_req_info *info)
{
    lb_jw *w = &g->w;
    lb_jw_key(w, "usage");
    lb_jw_obj_begin(w);
    lb_jw_key(w, "prompt_tokens");
    lb_jw_int(w, g->prompt.n);
    lb_jw_key(w, "completion_tokens");
    lb_jw_int(w, g->n_completion);
    lb_jw_key(w, "total_tokens");
    lb_jw_int(w, g->prompt.n + g->n_completion);
    lb_jw_key(w, "prompt_tokens_details");
    lb_jw_obj_begin(w);
    lb_jw_key(w, "cached_tokens");
    lb_jw_int(w, info ? info->n_cached : 0);
    lb_jw_obj_end(w);
    lb_api_power_usage(&g->pw, w);
    lb_jw_obj_end(w);
}

static void chunk_end(gen *g, bool usage_null)
{
    lb_jw_arr_end(&g->w);
    if (usage_null) {
        lb_jw_key(&g->w, "usage");
        lb_jw_null(&g->w);
    }
    lb_jw_obj_end(&g->w);
}

static void sse_send(gen *g, const char *data, size_t len)
{
    if (g->client_gone)
        return;
    lb_sbuf f = { 0 };
    lb_sbuf_add(&f, "data: ", 6);
    lb_sbuf_add(&f, data, len);
    lb_sbuf_add(&f, "\n\n", 2);
    if (f.failed || lb_conn_stream_write(g->call->conn, f.buf, f.len) < 0)
        g->client_gone = true;
    g->sent++;
    lb_sbuf_free(&f);
}

/* One choice entry of a chunk: delta text (chat) or text (completions). */
static void send_delta(gen *g, const char *text, size_t len, bool role, const char *finish)
{
    lb_jw *w = &g->w;
    chunk_begin(g);
    lb_jw_obj_begin(w);
    lb_jw_key(w, "index");
    lb_jw_int(w, 0);
    if (g->p.chat) {
        lb_jw_key(w, "delta");
        lb_jw_obj_begin(w);
        if (role) {
            lb_jw_key(w, "role");
            lb_jw_str(w, "assistant");
        }
        if (text) {
            lb_jw_key(w, "content");
            lb_jw_strn(w, text, len);
        }
        lb_jw_obj_end(w);
    } else {
        lb_jw_key(w, "text");
        lb_jw_strn(w, text ? text : "", text ? len : 0);
    }
    lb_jw_key(w, "logprobs");
    lb_jw_null(w);
    lb_jw_key(w, "finish_reason");
    if (finish)
        lb_jw_str(w, finish);
    else
        lb_jw_null(w);
    lb_jw_obj_end(w);
    chunk_end(g, g->p.include_usage);
    if (!w->failed)
        sse_send(g, w->buf, w->len);
}

/* Text that is final (after stop-string hold-back). */
static void emit(gen *g, const char *text, size_t len)
{
    if (len == 0)
        return;
    if (g->p.stream)
        send_delta(g, text, len, false, NULL);
    else
        lb_sbuf_add(&g->text, text, len);
}

/* Text from the detokenizer: through the stop strings, then out. */
static void push_text(gen *g, const char *text, int len)
{
    if (g->stopped_by_string || len <= 0)
        return;
    if (!g->stop) {
        emit(g, text, (size_t)len);
        return;
    }
    char out[8192];
    int out_len = 0;
    int hit = lb_stop_push(g->stop, text, len, out, sizeof out, &out_len);
    if (out_len > (int)sizeof out - 1)
        out_len = (int)sizeof out - 1;
    emit(g, out, (size_t)(out_len > 0 ? out_len : 0));
    if (hit == 1)
        g->stopped_by_string = true;
}

static void respond_full(gen *g, const char *finish, const lb_sched_req_info *info)
{
    lb_jw *w = &g->w;
    lb_jw_reset(w);
    lb_jw_obj_begin(w);
    lb_jw_key(w, "id");
    lb_jw_str(w, g->id);
    lb_jw_key(w, "object");
    lb_jw_str(w, g->p.chat ? "chat.completion" : "text_completion");
    lb_jw_key(w, "created");
    lb_jw_int(w, g->created);
    lb_jw_key(w, "model");
    lb_jw_str(w, g->api->model_id);
    lb_jw_key(w, "choices");
    lb_jw_arr_begin(w);
    lb_jw_obj_begin(w);
    lb_jw_key(w, "index");
    lb_jw_int(w, 0);
    if (g->p.chat) {
        lb_jw_key(w, "message");
        lb_jw_obj_begin(w);
        lb_jw_key(w, "role");
        lb_jw_str(w, "assistant");
        lb_jw_key(w, "content");
        lb_jw_strn(w, g->text.buf ? g->text.buf : "", g->text.len);
        lb_jw_key(w, "refusal");
        lb_jw_null(w);
        lb_jw_obj_end(w);
    } else {
        lb_jw_key(w, "text");
        lb_jw_strn(w, g->text.buf ? g->text.buf : "", g->text.len);
    }
    lb_jw_key(w, "logprobs");
    lb_jw_null(w);
    lb_jw_key(w, "finish_reason");
    lb_jw_str(w, finish);
    lb_jw_obj_end(w);
    lb_jw_arr_end(w);
    usage_obj(g, info);
    lb_jw_obj_end(w);
    if (g->text.failed)
        w->failed = true;
    lb_api_json(g->call, 200, w);
}

static void run(lb_api_call *call, bool chat)
{
    lb_api *api = call->api;
    gen g = { .call = call, .api = api };
    lb_jw_init(&g.w);
    lb_err err = { 0 };
    lb_json_doc *doc = lb_api_parse_body(call);
    if (!doc)
        goto out;

    lb_param_error pe;
    lb_sampling_params defaults = lb_sampling_default();
    if (!lb_gen_params_parse(lb_json_root(doc), chat, api->n_vocab, api->max_stop_strings, &defaults, &g.p, &pe)) {
        lb_api_error(call, 400, "invalid_request_error", pe.param, NULL, "%s", pe.msg);
        goto out;
    }
    if (g.p.model && strcmp(g.p.model, api->model_id) != 0) {
        lb_api_error(call, 404, "invalid_request_error", "model", "model_not_found",
                     "The model '%.100s' does not exist; this server has '%s'.", g.p.model, api->model_id);
        goto out;
    }
    random_id(g.id, sizeof g.id, chat ? "chatcmpl-" : "cmpl-");
    g.created = (long long)time(NULL);

    int rc;
    if (chat)
        rc = chat_prompt(&g, &err);
    else if (g.p.prompt_tokens)
        rc = LB_OK;
    else
        rc = tokenize_into(api->vocab, g.p.prompt, g.p.prompt_len, lb_vocab_add_bos(api->vocab), true, &g.prompt, &err);
    if (rc == LB_OK && g.p.prompt_tokens) {
        g.prompt.v = g.p.prompt_tokens;  /* ownership moves */
        g.prompt.n = g.prompt.cap = g.p.n_prompt_tokens;
        g.p.prompt_tokens = NULL;
    }
    if (rc != LB_OK) {
        lb_api_error(call, rc == LB_ENOMEM ? 500 : 400, rc == LB_ENOMEM ? "server_error" : "invalid_request_error",
                     chat ? "messages" : "prompt", NULL, "cannot build the prompt: %s", err.msg);
        goto out;
    }
    call->tokens_in = g.prompt.n;
    if (g.prompt.n == 0) {
        lb_api_error(call, 400, "invalid_request_error", chat ? "messages" : "prompt", NULL, "the prompt is empty");
        goto out;
    }
    if (g.prompt.n >= api->n_ctx) {
        lb_api_error(call, 400, "invalid_request_error", chat ? "messages" : "prompt", "context_length_exceeded",
                     "This model's maximum context length is %d tokens, but the prompt has %d tokens.",
                     api->n_ctx, g.prompt.n);
        goto out;
    }

    if (!g.p.has_seed) {
        uint64_t seed = 0;
        if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) != (ssize_t)sizeof seed)
            seed = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)&g;
        g.p.sp.seed = seed;
    }
    if (lb_sampler_new(&g.p.sp, api->n_vocab, &g.smp, &err) != LB_OK) {
        lb_api_error(call, 400, "invalid_request_error", NULL, NULL, "bad sampling parameters: %s", err.msg);
        goto out;
    }
    if (g.p.n_stops > 0 && lb_stop_new(g.p.stops, g.p.n_stops, &g.stop, &err) != LB_OK) {
        lb_api_error(call, 400, "invalid_request_error", "stop", NULL, "bad stop strings: %s", err.msg);
        goto out;
    }
    lb_detok_init(&g.detok, api->vocab, false);

    int max_tokens = g.p.max_tokens > 0 ? g.p.max_tokens : api->n_ctx;
    rc = lb_sched_submit(api->sched, g.prompt.v, g.prompt.n, max_tokens, g.smp, &g.req, &err);
    if (rc == LB_ELIMIT) {
        lb_conn_add_header(call->conn, "Retry-After", "1");
        lb_api_error(call, 429, "rate_limit_exceeded", NULL, "rate_limit_exceeded",
                     "The server is busy (%s); retry later.", err.msg);
        goto out;
    } else if (rc == LB_EINVAL) {
        lb_api_error(call, 400, "invalid_request_error", NULL, NULL, "%s", err.msg);
        goto out;
    } else if (rc != LB_OK) {
        lb_api_error(call, 503, "server_error", NULL, NULL, "%s", err.msg);
        goto out;
    }
    lb_metrics_prompt_tokens(api->metrics, g.prompt.n);
    lb_api_power_begin(api, &g.pw);

    if (g.p.stream) {
        if (lb_conn_stream_begin(call->conn, 200, "text/event-stream") < 0)
            g.client_gone = true;
        call->status = 200;
        call->responded = true;
        if (chat)
            send_delta(&g, "", 0, true, NULL);  /* role first, as OpenAI does */
    }

    int32_t toks[64];
    bool done = false, ttft_seen = false;
    char piece[1024];
    while (!done && !g.stopped_by_string && !g.client_gone) {
        int n = 0;
        unsigned long sent_before = g.sent;
        done = lb_sched_read(api->sched, g.req, toks, 64, &n, 100);
        for (int i = 0; i < n && !g.stopped_by_string && !g.client_gone; i++) {
            g.n_completion++;
            int len = lb_detok_push(&g.detok, toks[i], piece, sizeof piece);
            push_text(&g, piece, len < (int)sizeof piece ? len : (int)sizeof piece - 1);
        }
        if (n > 0) {
            lb_metrics_gen_tokens(api->metrics, n, lb_api_now_s());
            if (!ttft_seen) {
                lb_sched_req_info info;
                lb_sched_req_get_info(api->sched, g.req, &info);
                if (info.ttft_ms >= 0)
                    lb_metrics_ttft(api->metrics, info.ttft_ms), ttft_seen = true;
            }
        }
        /* A write has just checked the peer; otherwise (no text yet, or not streaming) look. */
        if (!done && g.sent == sent_before && lb_conn_peer_gone(call->conn))
            g.client_gone = true;
    }
    lb_sched_req_info info;
    lb_sched_req_get_info(api->sched, g.req, &info);
    lb_sched_release(api->sched, g.req);  /* frees the slot now if still generating */
    g.req = NULL;
    lb_api_power_end(api, &g.pw, g.n_completion);
    call->tokens_out = g.n_completion;
    if (g.client_gone) {
        /* Logged (and counted) as 499 like nginx does, also when a stream had begun with 200. */
        call->status = 499;
        call->responded = true;
        goto out;
    }
    if (!g.stopped_by_string) {
        int len = lb_detok_flush(&g.detok, piece, sizeof piece);
        push_text(&g, piece, len < (int)sizeof piece ? len : (int)sizeof piece - 1);
        if (g.stop && !g.stopped_by_string) {
            char rest[8192];
            int rl = lb_stop_flush(g.stop, rest, sizeof rest);
            emit(&g, rest, (size_t)(rl < 0 ? 0 : rl < (int)sizeof rest ? rl : (int)sizeof rest - 1));
        }
    }
    if (info.finish == LB_FINISH_ERROR && !g.stopped_by_string) {
        LOG_ERR("generation failed: %s", info.error);
        if (g.p.stream) {
            lb_jw_reset(&g.w);
            lb_api_error_json(&g.w, "server_error", NULL, NULL, info.error);
            sse_send(&g, g.w.buf, g.w.len);
            lb_conn_stream_end(call->conn);
        } else {
            lb_api_error(call, 500, "server_error", NULL, NULL, "generation failed: %s", info.error);
        }
        goto out;
    }
    const char *finish = g.stopped_by_string || info.finish == LB_FINISH_STOP ? "stop" : "length";
    if (g.p.stream) {
        send_delta(&g, NULL, 0, false, finish);
        if (g.p.include_usage) {
            chunk_begin(&g);
            lb_jw_arr_end(&g.w);
            usage_obj(&g, &info);
            lb_jw_obj_end(&g.w);
            sse_send(&g, g.w.buf, g.w.len);
        }
        sse_send(&g, "[DONE]", 6);
        lb_conn_stream_end(call->conn);
    } else {
        respond_full(&g, finish, &info);
    }
out:
    if (g.req)
        lb_sched_release(api->sched, g.req);
    lb_api_power_end(api, &g.pw, g.n_completion);  /* no-op unless still open */
    if (g.stop)
        lb_stop_free(g.stop);
    if (g.smp)
        lb_sampler_free(g.smp);
    lb_sbuf_free(&g.text);
    lb_jw_free(&g.w);
    free(g.prompt.v);
    lb_gen_params_free(&g.p);
    if (doc)
        lb_json_free(doc);
}

void lb_api_chat_completions(lb_api_call *call) { run(call, true); }
void lb_api_completions(lb_api_call *call) { run(call, false); }
