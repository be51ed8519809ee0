/* The OpenAI-compatible API on top of the HTTPS server core: routing, authentication, the
 * per-request log line, error responses, and the shared state of the endpoints (api_*.c).
 *
 * Adding an endpoint = one function `void fn(lb_api_call *call)` plus one entry in the route
 * table (api_routes.c). */
#ifndef LB_API_H
#define LB_API_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "chat.h"
#include "engine.h"
#include "json.h"
#include "metrics.h"
#include "scheduler.h"
#include "server.h"

typedef struct lb_api {
    /* Set before the server starts. */
    const char *api_key;
    bool metrics_open;        /* /metrics without the key (off by default) */
    lb_metrics *metrics;
    int max_stop_strings;     /* 0 = 4 */
    /* Signals PID 1 for poweroff/reboot; NULL = kill(). Tests substitute it. */
    int (*signal_init)(pid_t pid, int sig);
    bool under_init;          /* started by our /init: poweroff/reboot allowed */
    struct lb_api_power *power;  /* power control + energy (api_power.h); NULL = none */

    /* Set by lb_api_set_model once the model is loaded; `ready` is published last. */
    lb_model *model;
    const lb_vocab *vocab;
    lb_sched *sched;
    int n_ctx, n_vocab;
    char model_id[128];
    time_t created;
    lb_chat_family chat_family;
    char bos_text[64], eos_text[64];
    char **control_texts;     /* text of every control token (prompt-injection check) */
    int n_control_texts;
    atomic_bool ready;
} lb_api;

/* One request in flight. */
typedef struct lb_api_call {
    lb_api *api;
    lb_conn *conn;
    const lb_http_req *req;
    int status;               /* answered status, for the log */
    int tokens_in, tokens_out;
    bool responded;
} lb_api_call;

typedef void (*lb_route_fn)(lb_api_call *call);

typedef struct lb_route {
    const char *method;
    const char *path;
    bool keyed;               /* needs Authorization: Bearer KEY */
    bool needs_model;         /* 503 while the model is loading */
    lb_route_fn fn;
} lb_route;

extern const lb_route lb_api_routes[];  /* terminated by an entry with path NULL */

/* The server core's handler (ud = lb_api *). */
void lb_api_handle(void *ud, lb_conn *c, const lb_http_req *req);

/* Publishes the loaded model and its scheduler (called once, from the loader thread).
 * model_path gives the model id (file name without .gguf). */
int lb_api_set_model(lb_api *api, lb_model *m, lb_sched *sched, int n_ctx, const char *model_path, lb_err *err);
void lb_api_free(lb_api *api);  /* frees what lb_api_set_model allocated */

/* Responses. */
void lb_api_json(lb_api_call *call, int status, const lb_jw *w);
/* OpenAI error shape {"error":{"message","type","param","code"}}; param/code may be NULL. */
void lb_api_error(lb_api_call *call, int status, const char *type, const char *param, const char *code,
                  const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* Writes the error object into w (also used inside SSE streams). */
void lb_api_error_json(lb_jw *w, const char *type, const char *param, const char *code, const char *msg);
/* Parses the request body as a JSON object; on failure answers 400 and returns NULL. */
lb_json_doc *lb_api_parse_body(lb_api_call *call);

/* Endpoints. */
void lb_api_models(lb_api_call *call);
void lb_api_chat_completions(lb_api_call *call);
void lb_api_completions(lb_api_call *call);
void lb_api_tokenize(lb_api_call *call);
void lb_api_detokenize(lb_api_call *call);
void lb_api_health(lb_api_call *call);
void lb_api_metrics(lb_api_call *call);
void lb_api_poweroff(lb_api_call *call);
void lb_api_reboot(lb_api_call *call);

double lb_api_now_s(void);  /* monotonic seconds */
/* True when started by our /init: parent is PID 1 and LLMBOX_INIT=1. */
bool lb_api_detect_init(void);

#endif
