/* HTTPS/1.1 server core: TLS (mbedTLS), connection limits, timeouts, keep-alive, request
 * parsing, and a handler callback per request. The OpenAI API layer (api_*.c) sits on top.
 * One thread per connection (bounded by max_conns), so a handler may block while it streams.
 *
 * Threading: the handler runs on its connection's thread, with the whole body already read;
 * call lb_conn_* only from that thread. Handlers of different connections run concurrently.
 * The core answers by itself, with an OpenAI-shaped JSON error and Connection: close: bad
 * requests (400), head/body timeouts (408), 413, 431, 501, 505, and 503 beyond max_conns.
 * A handler that returns without responding gets a 500 (nothing if the client already left).
 * Disconnects: lb_conn_stream_write checks lb_conn_peer_gone first, so it fails at the first
 * write after the client closed or reset; a handler waiting on something else (queue, a
 * non-streamed generation) should poll lb_conn_peer_gone every ~100 ms. Writes give up after
 * write_timeout_ms when the client stops reading.
 * Stop: lb_server_run stops accepting, ends idle connections, lets running handlers finish
 * (lb_conn_peer_gone turns true for them, so streams end early) and returns when all
 * connection threads are gone. */
#ifndef LB_SERVER_H
#define LB_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

#define LB_HTTP_MAX_HEADERS 64

typedef struct lb_http_header {
    const char *name;   /* as sent; compare case-insensitively */
    const char *value;  /* leading/trailing whitespace trimmed */
} lb_http_header;

typedef struct lb_http_req {
    const char *method;  /* "GET", "POST", ... */
    const char *path;    /* without the query string */
    const char *query;   /* after '?', or "" */
    lb_http_header headers[LB_HTTP_MAX_HEADERS];
    int n_headers;
    const char *body;    /* de-chunked, NUL-terminated */
    size_t body_len;
    char peer[64];       /* "ADDR:PORT" of the client, for the log */
} lb_http_req;

/* Case-insensitive header lookup; NULL if absent. */
const char *lb_http_req_header(const lb_http_req *req, const char *name);

typedef struct lb_server_limits {
    size_t max_header_bytes;  /* request line + headers; default 16 KiB (431 beyond) */
    size_t max_body_bytes;    /* default 1 MiB (413 beyond) */
    int header_timeout_ms;    /* whole request head must arrive within this; default 10 s */
    int body_timeout_ms;      /* default 30 s */
    int idle_timeout_ms;      /* keep-alive wait for the next request; default 60 s */
    int write_timeout_ms;     /* a client that stops reading is dropped; default 30 s */
    int max_conns;            /* concurrent connections; default 128 (503 + close beyond) */
} lb_server_limits;

typedef struct lb_conn lb_conn;
typedef void (*lb_handler_fn)(void *ud, lb_conn *c, const lb_http_req *req);

typedef struct lb_server_config {
    const char *listen;      /* "ADDR:PORT"; default "0.0.0.0:443" */
    const char *tls_dir;     /* holds cert.pem + key.pem; generated on first start if empty */
    const char *hostname;    /* for the generated certificate's SAN (IPs are added too) */
    lb_server_limits limits; /* zeros = defaults */
    lb_handler_fn handler;
    void *ud;
} lb_server_config;

typedef struct lb_server lb_server;

int lb_server_new(const lb_server_config *cfg, lb_server **out, lb_err *err);
/* Accept loop; returns after lb_server_stop (from another thread or a signal handler). */
int lb_server_run(lb_server *s, lb_err *err);
void lb_server_stop(lb_server *s);
void lb_server_free(lb_server *s);
/* "AA:BB:..." SHA-256 of the certificate in use. */
const char *lb_server_fingerprint(const lb_server *s);
int lb_server_port(const lb_server *s);  /* the bound port (useful with port 0 in tests) */

/* Responses, called from the handler. Every request gets exactly one response.
 * Extra response header for the response about to be sent (e.g. WWW-Authenticate,
 * Retry-After); LB_EINVAL if it contains CR/LF or the headers exceed 1 KiB. */
int lb_conn_add_header(lb_conn *c, const char *name, const char *value);
int lb_conn_respond(lb_conn *c, int status, const char *content_type, const char *body, size_t len);
/* Streaming (SSE): headers now, then any number of writes. A write returns a negative value
 * once the client is gone; the handler should then stop and release its resources. */
int lb_conn_stream_begin(lb_conn *c, int status, const char *content_type);
int lb_conn_stream_write(lb_conn *c, const char *data, size_t len);
int lb_conn_stream_end(lb_conn *c);
/* True once the peer has closed or reset the connection (checked without blocking). */
bool lb_conn_peer_gone(lb_conn *c);

#endif
