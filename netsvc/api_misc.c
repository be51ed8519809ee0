/* The small endpoints: models, tokenize/detokenize (llama.cpp's shapes), health, metrics. */
#include "api.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer.h"

void lb_api_models(lb_api_call *call)
{
    lb_api *api = call->api;
    lb_jw w;
    lb_jw_init(&w);
    lb_jw_obj_begin(&w);
    lb_jw_key(&w, "object");
    lb_jw_str(&w, "list");
    lb_jw_key(&w, "data");
    lb_jw_arr_begin(&w);
    lb_jw_obj_begin(&w);
    lb_jw_key(&w, "id");
    lb_jw_str(&w, api->model_id);
    lb_jw_key(&w, "object");
    lb_jw_str(&w, "model");
    lb_jw_key(&w, "created");
    lb_jw_int(&w, (long long)api->created);
    lb_jw_key(&w, "owned_by");
    lb_jw_str(&w, "llmbox");
    lb_jw_key(&w, "context_length");
    lb_jw_int(&w, api->n_ctx);
    lb_jw_obj_end(&w);
    lb_jw_arr_end(&w);
    lb_jw_obj_end(&w);
    lb_api_json(call, 200, &w);
    lb_jw_free(&w);
}

void lb_api_tokenize(lb_api_call *call)
{
    lb_api *api = call->api;
    lb_json_doc *doc = lb_api_parse_body(call);
    int32_t *toks = NULL;
    lb_jw w;
    lb_jw_init(&w);
    if (!doc)
        goto out;
    const lb_json *root = lb_json_root(doc);
    size_t len = 0;
    const lb_json *cv = lb_json_get(root, "content");
    const char *content = cv ? lb_json_str(cv, &len) : NULL;
    if (!content) {
        lb_api_error(call, 400, "invalid_request_error", "content", NULL, "'content' must be a string");
        goto out;
    }
    bool add_special = false, parse_special = true, with_pieces = false;
    const lb_json *b;
    if (((b = lb_json_get(root, "add_special")) && !lb_json_bool(b, &add_special)) ||
        ((b = lb_json_get(root, "parse_special")) && !lb_json_bool(b, &parse_special)) ||
        ((b = lb_json_get(root, "with_pieces")) && !lb_json_bool(b, &with_pieces))) {
        lb_api_error(call, 400, "invalid_request_error", NULL, NULL,
                     "'add_special', 'parse_special' and 'with_pieces' must be booleans");
        goto out;
    }
    lb_err err = { 0 };
    int cap = (int)len + 8, n = 0;
    for (int attempt = 0; attempt < 2; attempt++) {
        free(toks);
        toks = malloc((size_t)cap * sizeof *toks);
        if (!toks) {
            lb_api_error(call, 500, "server_error", NULL, NULL, "out of memory");
            goto out;
        }
        n = lb_tokenize(api->vocab, content, len, add_special && lb_vocab_add_bos(api->vocab), parse_special, toks,
                        cap, &err);
        if (n <= cap)
            break;
        cap = n;
    }
    if (n < 0 || n > cap) {
        lb_api_error(call, 400, "invalid_request_error", "content", NULL, "cannot tokenize: %s", err.msg);
        goto out;
    }
    call->tokens_in = n;
    lb_jw_obj_begin(&w);
    lb_jw_key(&w, "tokens");
    lb_jw_arr_begin(&w);
    char piece[512];
    for (int i = 0; i < n; i++) {
        if (!with_pieces) {
            lb_jw_int(&w, toks[i]);
            continue;
        }
        int pl = lb_token_to_piece(api->vocab, toks[i], true, piece, sizeof piece);
        lb_jw_obj_begin(&w);
        lb_jw_key(&w, "id");
        lb_jw_int(&w, toks[i]);
        lb_jw_key(&w, "piece");
        lb_jw_strn(&w, piece, pl < 0 ? 0 : pl < (int)sizeof piece ? (size_t)pl : sizeof piece);
        lb_jw_obj_end(&w);
    }
    lb_jw_arr_end(&w);
    lb_jw_obj_end(&w);
    lb_api_json(call, 200, &w);
out:
    free(toks);
    lb_jw_free(&w);
    if (doc)
        lb_json_free(doc);
}

void lb_api_detokenize(lb_api_call *call)
{
    lb_api *api = call->api;
    lb_json_doc *doc = lb_api_parse_body(call);
    lb_sbuf text = { 0 };
    lb_jw w;
    lb_jw_init(&w);
    if (!doc)
        goto out;
    const lb_json *arr = lb_json_get(lb_json_root(doc), "tokens");
    if (!arr || lb_json_type_of(arr) != LB_JSON_ARRAY) {
        lb_api_error(call, 400, "invalid_request_error", "tokens", NULL, "'tokens' must be an array of token ids");
        goto out;
    }
    size_t n = lb_json_len(arr);
    for (size_t i = 0; i < n; i++) {
        double d;
        if (!lb_json_num(lb_json_at(arr, i), &d) || d != floor(d) || d < 0 || d >= api->n_vocab) {
            lb_api_error(call, 400, "invalid_request_error", "tokens", NULL, "tokens[%zu] is not a token id in [0, %d)",
                         i, api->n_vocab);
            goto out;
        }
    }
    lb_detok d;
    lb_detok_init(&d, api->vocab, true);
    /* SentencePiece prefixes the text with a space when tokenizing; drop it again so that
     * detokenize(tokenize(text)) == text (the detokenizer does this itself after a BOS). */
    const char *vname = lb_vocab_model_name(api->vocab);
    if (vname && strcmp(vname, "llama") == 0)
        d.first = true;
    char piece[1024];
    for (size_t i = 0; i < n; i++) {
        double v;
        lb_json_num(lb_json_at(arr, i), &v);
        int pl = lb_detok_push(&d, (int32_t)v, piece, sizeof piece);
        lb_sbuf_add(&text, piece, (size_t)(pl < 0 ? 0 : pl < (int)sizeof piece ? pl : (int)sizeof piece - 1));
    }
    int pl = lb_detok_flush(&d, piece, sizeof piece);
    lb_sbuf_add(&text, piece, (size_t)(pl < 0 ? 0 : pl < (int)sizeof piece ? pl : (int)sizeof piece - 1));
    call->tokens_in = (int)n;
    lb_jw_obj_begin(&w);
    lb_jw_key(&w, "content");
    lb_jw_strn(&w, text.buf ? text.buf : "", text.len);
    lb_jw_obj_end(&w);
    if (text.failed)
        w.failed = true;
    lb_api_json(call, 200, &w);
out:
    lb_sbuf_free(&text);
    lb_jw_free(&w);
    if (doc)
        lb_json_free(doc);
}

void lb_api_health(lb_api_call *call)
{
    lb_api *api = call->api;
    lb_jw w;
    lb_jw_init(&w);
    lb_jw_obj_begin(&w);
    if (!atomic_load(&api->ready)) {
        lb_jw_key(&w, "status");
        lb_jw_str(&w, "loading model");
        lb_jw_obj_end(&w);
        lb_api_json(call, 503, &w);
        lb_jw_free(&w);
        return;
    }
    lb_sched_stats st;
    lb_sched_get_stats(api->sched, &st);
    lb_jw_key(&w, "status");
    lb_jw_str(&w, "ok");
    lb_jw_key(&w, "model");
    lb_jw_str(&w, api->model_id);
    lb_jw_key(&w, "slots_idle");
    lb_jw_int(&w, st.slots_total - st.slots_busy);
    lb_jw_key(&w, "slots_processing");
    lb_jw_int(&w, st.slots_busy);
    lb_jw_key(&w, "queue_depth");
    lb_jw_int(&w, st.queue_depth);
    lb_jw_obj_end(&w);
    lb_api_json(call, 200, &w);
    lb_jw_free(&w);
}

void lb_api_metrics(lb_api_call *call)
{
    lb_api *api = call->api;
    lb_sbuf out = { 0 };
    lb_sched_stats st;
    bool ready = atomic_load(&api->ready);
    if (ready)
        lb_sched_get_stats(api->sched, &st);
    lb_metrics_format(api->metrics, ready ? &st : NULL, lb_api_now_s(), &out);
    if (out.failed) {
        lb_api_error(call, 500, "server_error", NULL, NULL, "out of memory");
    } else {
        lb_conn_respond(call->conn, 200, "text/plain; version=0.0.4", out.buf ? out.buf : "", out.len);
        call->status = 200;
        call->responded = true;
    }
    lb_sbuf_free(&out);
}
