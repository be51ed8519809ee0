/* Routing, authentication, error responses and the request log line. */
#include "api.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apikey.h"
#include "log.h"
#include "tokenizer.h"

double lb_api_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

void lb_api_json(lb_api_call *call, int status, const lb_jw *w)
{
    if (w->failed) {
        static const char oom[] = "{\"error\":{\"message\":\"out of memory\",\"type\":\"server_error\",\"param\":null,\"code\":null}}";
        lb_conn_respond(call->conn, 500, "application/json", oom, sizeof oom - 1);
        call->status = 500;
    } else {
        lb_conn_respond(call->conn, status, "application/json", w->buf, w->len);
        call->status = status;
    }
    call->responded = true;
}

void lb_api_error_json(lb_jw *w, const char *type, const char *param, const char *code, const char *msg)
{
    lb_jw_obj_begin(w);
    lb_jw_key(w, "error");
    lb_jw_obj_begin(w);
    lb_jw_key(w, "message");
    lb_jw_str(w, msg);
    lb_jw_key(w, "type");
    lb_jw_str(w, type);
    lb_jw_key(w, "param");
    if (param)
        lb_jw_str(w, param);
    else
        lb_jw_null(w);
    lb_jw_key(w, "code");
    if (code)
        lb_jw_str(w, code);
    else
        lb_jw_null(w);
    lb_jw_obj_end(w);
    lb_jw_obj_end(w);
}

void lb_api_error(lb_api_call *call, int status, const char *type, const char *param, const char *code,
                  const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    lb_jw w;
    lb_jw_init(&w);
    lb_api_error_json(&w, type, param, code, msg);
    lb_api_json(call, status, &w);
    lb_jw_free(&w);
}

lb_json_doc *lb_api_parse_body(lb_api_call *call)
{
    const lb_http_req *req = call->req;
    lb_json_doc *doc = NULL;
    lb_err err = { 0 };
    if (!req->body || req->body_len == 0) {
        lb_api_error(call, 400, "invalid_request_error", NULL, NULL, "the request body is empty; expected a JSON object");
        return NULL;
    }
    lb_json_limits lim = { .max_bytes = 8u << 20, .max_depth = 32, .max_nodes = 200000 };
    if (lb_json_parse(req->body, req->body_len, &lim, &doc, &err) != LB_OK) {
        lb_api_error(call, 400, "invalid_request_error", NULL, NULL, "invalid JSON in the request body: %s", err.msg);
        return NULL;
    }
    if (lb_json_type_of(lb_json_root(doc)) != LB_JSON_OBJECT) {
        lb_json_free(doc);
        lb_api_error(call, 400, "invalid_request_error", NULL, NULL, "the request body must be a JSON object");
        return NULL;
    }
    return doc;
}

static bool needs_key(const lb_api *api, const lb_route *r, const char *path)
{
    if (strncmp(path, "/v1/", 4) == 0)
        return true;  /* also unknown /v1 paths: no probing without the key */
    if (!r)
        return false;
    if (r->fn == lb_api_metrics)
        return !api->metrics_open;
    return r->keyed;
}

void lb_api_handle(void *ud, lb_conn *c, const lb_http_req *req)
{
    lb_api *api = ud;
    lb_api_call call = { .api = api, .conn = c, .req = req };
    double t0 = lb_api_now_s();

    const lb_route *route = NULL;
    bool path_known = false;
    for (const lb_route *r = lb_api_routes; r->path; r++) {
        if (strcmp(r->path, req->path) != 0)
            continue;
        path_known = true;
        if (strcmp(r->method, req->method) == 0) {
            route = r;
            break;
        }
    }
    if (needs_key(api, route, req->path) &&
        !lb_apikey_check(api->api_key, lb_http_req_header(req, "Authorization"))) {
        bool given = lb_http_req_header(req, "Authorization") != NULL;
        lb_conn_add_header(c, "WWW-Authenticate", "Bearer");
        lb_api_error(&call, 401, "invalid_request_error", NULL, "invalid_api_key",
                     given ? "Incorrect API key provided." :
                             "You didn't provide an API key. Send it as 'Authorization: Bearer YOUR_KEY'.");
    } else if (!route && path_known) {
        char allow[64] = "";
        for (const lb_route *r = lb_api_routes; r->path; r++)
            if (strcmp(r->path, req->path) == 0 && strlen(allow) + strlen(r->method) + 3 < sizeof allow)
                snprintf(allow + strlen(allow), sizeof allow - strlen(allow), "%s%s", allow[0] ? ", " : "", r->method);
        lb_conn_add_header(c, "Allow", allow);
        lb_api_error(&call, 405, "invalid_request_error", NULL, "method_not_allowed",
                     "method %s is not allowed for %s", req->method, req->path);
    } else if (!route) {
        lb_api_error(&call, 404, "invalid_request_error", NULL, "not_found", "unknown path %s", req->path);
    } else if (route->needs_model && !atomic_load(&api->ready)) {
        lb_api_error(&call, 503, "server_error", NULL, "model_loading", "the model is still loading; retry shortly");
    } else {
        route->fn(&call);
    }
    if (!call.responded)  /* every request gets exactly one response */
        lb_api_error(&call, 500, "server_error", NULL, NULL, "internal error: no response");
    if (api->metrics)
        lb_metrics_request(api->metrics, call.status);
    LOG_INFO("%s %s %d tokens=%d/%d %.0fms", req->method, req->path, call.status, call.tokens_in, call.tokens_out,
             (lb_api_now_s() - t0) * 1e3);
}

/* Text of the control tokens (e.g. "<|im_end|>"): pieces shown only with special=true. */
static int collect_control_texts(lb_api *api, lb_err *err)
{
    int n = lb_vocab_n_tokens(api->vocab), cap = 0;
    char piece[256];
    for (int32_t t = 0; t < n; t++) {
        int plain = lb_token_to_piece(api->vocab, t, false, piece, sizeof piece);
        if (plain != 0)
            continue;
        int sp = lb_token_to_piece(api->vocab, t, true, piece, sizeof piece - 1);
        if (sp <= 1 || sp >= (int)sizeof piece)
            continue;
        piece[sp] = 0;
        if (api->n_control_texts == cap) {
            cap = cap ? cap * 2 : 64;
            char **p = realloc(api->control_texts, (size_t)cap * sizeof *p);
            if (!p)
                return lb_err_set(err, LB_ENOMEM, "out of memory");
            api->control_texts = p;
        }
        if (!(api->control_texts[api->n_control_texts] = strdup(piece)))
            return lb_err_set(err, LB_ENOMEM, "out of memory");
        api->n_control_texts++;
    }
    return LB_OK;
}

static void token_text(const lb_vocab *v, int32_t t, char *buf, size_t cap)
{
    buf[0] = 0;
    if (t < 0)
        return;
    int n = lb_token_to_piece(v, t, true, buf, (int)cap - 1);
    buf[n > 0 && n < (int)cap ? n : 0] = 0;
}

int lb_api_set_model(lb_api *api, lb_model *m, lb_sched *sched, int n_ctx, const char *model_path, lb_err *err)
{
    if (!lb_model_vocab(m))
        return lb_err_set(err, LB_ENOTSUP, "the model has no vocabulary (tokenizer) to serve text with");
    api->model = m;
    api->vocab = lb_model_vocab(m);
    api->sched = sched;
    api->n_ctx = n_ctx;
    api->n_vocab = lb_model_n_vocab(m);
    api->created = time(NULL);
    const char *base = strrchr(model_path, '/');
    base = base ? base + 1 : model_path;
    snprintf(api->model_id, sizeof api->model_id, "%s", base);
    size_t l = strlen(api->model_id);
    if (l > 5 && strcmp(api->model_id + l - 5, ".gguf") == 0)
        api->model_id[l - 5] = 0;
    const char *tmpl = lb_model_meta_str(m, "tokenizer.chat_template");
    bool known = false;
    api->chat_family = lb_chat_detect(tmpl ? tmpl : "", &known);
    if (!known)
        LOG_INFO("chat template %s; using %s", tmpl ? "not recognised" : "absent", lb_chat_family_name(api->chat_family));
    token_text(api->vocab, lb_vocab_bos(api->vocab), api->bos_text, sizeof api->bos_text);
    token_text(api->vocab, lb_vocab_eos(api->vocab), api->eos_text, sizeof api->eos_text);
    int rc = collect_control_texts(api, err);
    if (rc == LB_OK)
        atomic_store(&api->ready, true);
    return rc;
}

void lb_api_free(lb_api *api)
{
    for (int i = 0; i < api->n_control_texts; i++)
        free(api->control_texts[i]);
    free(api->control_texts);
    api->control_texts = NULL;
    api->n_control_texts = 0;
}
