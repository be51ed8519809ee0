#include "api_params.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool fail(lb_param_error *e, const char *param, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static bool fail(lb_param_error *e, const char *param, const char *fmt, ...)
{
    snprintf(e->param, sizeof e->param, "%s", param);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    return false;
}

/* Optional number in [lo, hi]; absent or null leaves *out unchanged. */
static bool get_num(const lb_json *root, const char *key, double lo, double hi, double *out, bool *present,
                    lb_param_error *e)
{
    const lb_json *v = lb_json_get(root, key);
    if (present)
        *present = false;
    if (!v || lb_json_type_of(v) == LB_JSON_NULL)
        return true;
    double d;
    if (!lb_json_num(v, &d))
        return fail(e, key, "'%s' must be a number", key);
    if (!(d >= lo && d <= hi))
        return fail(e, key, "'%s' must be between %g and %g, got %g", key, lo, hi, d);
    *out = d;
    if (present)
        *present = true;
    return true;
}

static bool get_int(const lb_json *root, const char *key, double lo, double hi, long long *out, bool *present,
                    lb_param_error *e)
{
    const lb_json *v = lb_json_get(root, key);
    if (present)
        *present = false;
    if (!v || lb_json_type_of(v) == LB_JSON_NULL)
        return true;
    double d;
    if (!lb_json_num(v, &d) || d != floor(d))
        return fail(e, key, "'%s' must be an integer", key);
    if (!(d >= lo && d <= hi))
        return fail(e, key, "'%s' must be between %.0f and %.0f, got %.0f", key, lo, hi, d);
    *out = (long long)d;
    if (present)
        *present = true;
    return true;
}

static bool get_bool(const lb_json *root, const char *key, bool *out, lb_param_error *e)
{
    const lb_json *v = lb_json_get(root, key);
    if (!v || lb_json_type_of(v) == LB_JSON_NULL)
        return true;
    if (!lb_json_bool(v, out))
        return fail(e, key, "'%s' must be a boolean", key);
    return true;
}

static bool add_stop(lb_gen_params *p, const lb_json *v, int max_stops, lb_param_error *e)
{
    size_t len = 0;
    const char *s = lb_json_str(v, &len);
    if (!s)
        return fail(e, "stop", "'stop' must be a string or an array of strings");
    if (len == 0)
        return true;  /* an empty stop string would end every completion at once: ignore it */
    if (len > LB_MAX_STOP_LEN || strlen(s) != len)
        return fail(e, "stop", "each stop string must be 1 to %d bytes without NUL", LB_MAX_STOP_LEN);
    if (p->n_stops >= max_stops)
        return fail(e, "stop", "at most %d stop strings are allowed", max_stops);
    p->stops[p->n_stops++] = s;
    return true;
}

/* Message content: a string, null, or an array of {"type":"text","text":...} parts. */
static bool msg_content(const lb_json *c, size_t i, char **out, lb_param_error *e)
{
    char param[48];
    snprintf(param, sizeof param, "messages[%zu].content", i);
    *out = NULL;
    if (!c || lb_json_type_of(c) == LB_JSON_NULL) {
        *out = strdup("");
    } else if (lb_json_type_of(c) == LB_JSON_STRING) {
        size_t len;
        const char *s = lb_json_str(c, &len);
        if (strlen(s) != len)
            return fail(e, param, "%s contains a NUL character", param);
        *out = strdup(s);
    } else if (lb_json_type_of(c) == LB_JSON_ARRAY) {
        size_t total = 0, n = lb_json_len(c);
        for (size_t k = 0; k < n; k++) {
            const lb_json *part = lb_json_at(c, k);
            const lb_json *type = lb_json_get(part, "type");
            const char *ts = type ? lb_json_str(type, NULL) : NULL;
            size_t len;
            const char *txt = lb_json_str(lb_json_get(part, "text"), &len);
            if (!ts || strcmp(ts, "text") != 0 || !txt)
                return fail(e, param, "%s: only parts of type \"text\" with a \"text\" string are supported", param);
            if (strlen(txt) != len)
                return fail(e, param, "%s contains a NUL character", param);
            total += len;
        }
        *out = malloc(total + 1);
        if (*out) {
            size_t off = 0;
            for (size_t k = 0; k < n; k++) {
                size_t len;
                const char *txt = lb_json_str(lb_json_get(lb_json_at(c, k), "text"), &len);
                memcpy(*out + off, txt, len);
                off += len;
            }
            (*out)[off] = 0;
        }
    } else {
        return fail(e, param, "%s must be a string or an array of text parts", param);
    }
    if (!*out)
        return fail(e, param, "out of memory");
    return true;
}

static bool parse_messages(const lb_json *root, lb_gen_params *p, lb_param_error *e)
{
    const lb_json *msgs = lb_json_get(root, "messages");
    if (!msgs)
        return fail(e, "messages", "'messages' is required");
    if (lb_json_type_of(msgs) != LB_JSON_ARRAY || lb_json_len(msgs) == 0)
        return fail(e, "messages", "'messages' must be a non-empty array");
    size_t n = lb_json_len(msgs);
    if (n > 4096)
        return fail(e, "messages", "too many messages (%zu, at most 4096)", n);
    p->msgs = calloc(n, sizeof *p->msgs);
    if (!p->msgs)
        return fail(e, "messages", "out of memory");
    for (size_t i = 0; i < n; i++) {
        const lb_json *m = lb_json_at(msgs, i);
        char param[48];
        snprintf(param, sizeof param, "messages[%zu].role", i);
        if (lb_json_type_of(m) != LB_JSON_OBJECT)
            return fail(e, "messages", "messages[%zu] must be an object", i);
        const char *role = lb_json_str(lb_json_get(m, "role"), NULL);
        if (!role)
            return fail(e, param, "%s must be a string", param);
        if (strcmp(role, "developer") == 0)
            role = "system";  /* OpenAI's newer name for the system role */
        if (strcmp(role, "system") != 0 && strcmp(role, "user") != 0 && strcmp(role, "assistant") != 0)
            return fail(e, param, "%s must be one of system, developer, user, assistant (got '%.40s')", param, role);
        p->msgs[i].role = role;
        p->n_msgs = (int)i + 1;
        if (!msg_content(lb_json_get(m, "content"), i, &p->msgs[i].content, e))
            return false;
    }
    return true;
}

static bool parse_prompt(const lb_json *root, int n_vocab, lb_gen_params *p, lb_param_error *e)
{
    const lb_json *v = lb_json_get(root, "prompt");
    if (!v)
        return fail(e, "prompt", "'prompt' is required");
    if (lb_json_type_of(v) == LB_JSON_ARRAY && lb_json_len(v) == 1 &&
        lb_json_type_of(lb_json_at(v, 0)) == LB_JSON_STRING)
        v = lb_json_at(v, 0);  /* ["text"]: one prompt */
    if (lb_json_type_of(v) == LB_JSON_STRING) {
        p->prompt = lb_json_str(v, &p->prompt_len);
        if (strlen(p->prompt) != p->prompt_len)
            return fail(e, "prompt", "'prompt' contains a NUL character");
        return true;
    }
    if (lb_json_type_of(v) == LB_JSON_ARRAY && lb_json_len(v) > 0 &&
        lb_json_type_of(lb_json_at(v, 0)) == LB_JSON_NUMBER) {
        size_t n = lb_json_len(v);
        p->prompt_tokens = malloc(n * sizeof(int32_t));
        if (!p->prompt_tokens)
            return fail(e, "prompt", "out of memory");
        for (size_t i = 0; i < n; i++) {
            double d;
            if (!lb_json_num(lb_json_at(v, i), &d) || d != floor(d) || d < 0 || d >= n_vocab)
                return fail(e, "prompt", "prompt[%zu] is not a token id in [0, %d)", i, n_vocab);
            p->prompt_tokens[i] = (int32_t)d;
        }
        p->n_prompt_tokens = (int)n;
        return true;
    }
    if (lb_json_type_of(v) == LB_JSON_ARRAY && lb_json_len(v) > 1)
        return fail(e, "prompt", "only one prompt per request is supported (n=1)");
    return fail(e, "prompt", "'prompt' must be a string, an array of one string, or an array of token ids");
}

bool lb_gen_params_parse(const lb_json *root, bool chat, int n_vocab, int max_stops,
                         const lb_sampling_params *defaults, lb_gen_params *p, lb_param_error *e)
{
    memset(p, 0, sizeof *p);
    memset(e, 0, sizeof *e);
    p->chat = chat;
    p->max_tokens = -1;
    p->sp = *defaults;
    if (max_stops <= 0 || max_stops > LB_MAX_STOPS)
        max_stops = 4;

    const lb_json *model = lb_json_get(root, "model");
    if (model && !(p->model = lb_json_str(model, NULL)))
        return fail(e, "model", "'model' must be a string");

    if (chat ? !parse_messages(root, p, e) : !parse_prompt(root, n_vocab, p, e))
        return false;

    if (!get_bool(root, "stream", &p->stream, e))
        return false;
    const lb_json *so = lb_json_get(root, "stream_options");
    if (so && lb_json_type_of(so) != LB_JSON_NULL) {
        if (lb_json_type_of(so) != LB_JSON_OBJECT)
            return fail(e, "stream_options", "'stream_options' must be an object");
        if (!get_bool(so, "include_usage", &p->include_usage, e))
            return false;
    }

    long long ll;
    bool present;
    /* max_completion_tokens is the newer name; either is accepted, the smaller wins. */
    const char *mt_keys[] = { "max_tokens", "max_completion_tokens", "n_predict" };
    for (int k = 0; k < 3; k++) {
        if (!get_int(root, mt_keys[k], 1, 1e9, &ll, &present, e))
            return false;
        if (present && (p->max_tokens < 0 || ll < p->max_tokens))
            p->max_tokens = (int)ll;
    }
    if (!get_int(root, "n", 1, 1e9, &ll, &present, e))
        return false;
    if (present && ll != 1)
        return fail(e, "n", "only n=1 is supported");

    double d;
    if (!get_num(root, "temperature", 0, 2, &d, &present, e))
        return false;
    if (present)
        p->sp.temperature = (float)d;
    if (!get_num(root, "top_p", 0, 1, &d, &present, e))
        return false;
    if (present)
        p->sp.top_p = (float)d;
    if (!get_int(root, "top_k", 0, 1e9, &ll, &present, e))
        return false;
    if (present)
        p->sp.top_k = (int)ll;
    if (!get_num(root, "min_p", 0, 1, &d, &present, e))
        return false;
    if (present)
        p->sp.min_p = (float)d;
    if (!get_num(root, "presence_penalty", -2, 2, &d, &present, e))
        return false;
    if (present)
        p->sp.presence_penalty = (float)d;
    if (!get_num(root, "frequency_penalty", -2, 2, &d, &present, e))
        return false;
    if (present)
        p->sp.frequency_penalty = (float)d;
    if (!get_int(root, "seed", -9.2e18, 9.2e18, &ll, &p->has_seed, e))
        return false;
    if (p->has_seed)
        p->sp.seed = (uint64_t)ll;

    const lb_json *lb = lb_json_get(root, "logit_bias");
    if (lb && lb_json_type_of(lb) != LB_JSON_NULL) {
        if (lb_json_type_of(lb) != LB_JSON_OBJECT)
            return fail(e, "logit_bias", "'logit_bias' must be an object mapping token ids to numbers");
        size_t n = lb_json_len(lb);
        if (n > LB_MAX_BIAS)
            return fail(e, "logit_bias", "at most %d logit_bias entries are allowed", LB_MAX_BIAS);
        for (size_t i = 0; i < n; i++) {
            const char *k = lb_json_key_at(lb, i);
            char *end = NULL;
            errno = 0;
            long id = strtol(k, &end, 10);
            if (!*k || *end || errno || id < 0 || id >= n_vocab)
                return fail(e, "logit_bias", "logit_bias key '%.32s' is not a token id in [0, %d)", k, n_vocab);
            double b;
            if (!lb_json_num(lb_json_at(lb, i), &b) || !(b >= -100 && b <= 100))
                return fail(e, "logit_bias", "logit_bias values must be numbers between -100 and 100");
            p->bias[i].token = (int32_t)id;
            /* -100 bans the token, as OpenAI documents. */
            p->bias[i].bias = b <= -100 ? -INFINITY : (float)b;
        }
        p->sp.bias = p->bias;
        p->sp.n_bias = (int)n;
    }

    const lb_json *stop = lb_json_get(root, "stop");
    if (stop && lb_json_type_of(stop) == LB_JSON_ARRAY) {
        for (size_t i = 0; i < lb_json_len(stop); i++)
            if (!add_stop(p, lb_json_at(stop, i), max_stops, e))
                return false;
    } else if (stop && lb_json_type_of(stop) != LB_JSON_NULL) {
        if (!add_stop(p, stop, max_stops, e))
            return false;
    }
    return true;
}

void lb_gen_params_free(lb_gen_params *p)
{
    for (int i = 0; i < p->n_msgs; i++)
        free(p->msgs[i].content);
    free(p->msgs);
    free(p->prompt_tokens);
    p->msgs = NULL;
    p->prompt_tokens = NULL;
    p->n_msgs = 0;
}
