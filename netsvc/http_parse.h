/* Incremental HTTP/1.1 request parser: fed the bytes of one connection as they arrive, it
 * produces one request at a time (head copied into its own buffer, body de-chunked into
 * another), or the status to answer with (400, 413, 431, 501, 505). Strict framing: no
 * obs-fold, no bare CR/LF, no Content-Length together with Transfer-Encoding, no duplicate
 * framing headers, so a request can never be read two ways. */
#ifndef LB_HTTP_PARSE_H
#define LB_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#include "server.h"

typedef enum lb_hp_result {
    LB_HP_MORE,   /* everything consumed, request not complete yet */
    LB_HP_HEAD,   /* the head is complete and valid (req fields set); call feed again for the body */
    LB_HP_DONE,   /* the request is complete; bytes after *consumed belong to the next request */
    LB_HP_ERROR,  /* answer with status, then close */
} lb_hp_result;

typedef struct lb_http_parser {
    size_t max_header_bytes, max_body_bytes;
    int state;
    char *head;            /* request line + headers, NUL-terminated in place when parsed */
    size_t head_len, head_cap;
    size_t skipped;        /* empty lines before the request line */
    char *body;
    size_t body_len, body_cap;
    unsigned long long remaining;  /* body bytes still expected (length or current chunk) */
    char line[256];        /* current chunk-size line */
    size_t line_len;
    size_t trailer_bytes;
    bool chunked;
    int status;            /* on LB_HP_ERROR: HTTP status to answer with */
    const char *reason;    /* on LB_HP_ERROR: short explanation for the response body */
    /* From the head: */
    bool keep_alive;       /* HTTP/1.1 without "Connection: close", or 1.0 with keep-alive */
    bool expect_continue;  /* "Expect: 100-continue" with a body to come */
    bool is_head;          /* HEAD request: the response has no body */
    bool http10;           /* HTTP/1.0 client: no chunked responses */
    unsigned long long content_length;
    lb_http_req req;       /* valid until the next reset */
} lb_http_parser;

/* Zero limits mean the defaults of lb_server_limits. */
void lb_hp_init(lb_http_parser *p, size_t max_header_bytes, size_t max_body_bytes);
/* Ready for the next request on the same connection; keeps the buffers. */
void lb_hp_reset(lb_http_parser *p);
void lb_hp_free(lb_http_parser *p);
/* Consumes bytes from data; *consumed says how many. After LB_HP_DONE the rest of data (if
 * any) is a pipelined next request. After LB_HP_ERROR the parser stays in error. */
lb_hp_result lb_hp_feed(lb_http_parser *p, const char *data, size_t len, size_t *consumed);
/* True while no byte of the current request has been consumed (for idle timeouts). */
bool lb_hp_idle(const lb_http_parser *p);

#endif
