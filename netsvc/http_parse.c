/* HTTP/1.1 request parser (see http_parse.h). RFC 9112 framing, strict where leniency would
 * let two parties read one request differently (request smuggling). */
#include "http_parse.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum {
    S_HEAD,
    S_BODY_CL,
    S_CHUNK_SIZE,
    S_CHUNK_DATA,
    S_CHUNK_CRLF,
    S_TRAILERS,
    S_DONE,
    S_ERROR,
};

#define DEFAULT_MAX_HEADER (16u * 1024)
#define DEFAULT_MAX_BODY (1u * 1024 * 1024)
#define MAX_LEADING_EMPTY 8

const char *lb_http_req_header(const lb_http_req *req, const char *name)
{
    for (int i = 0; req && i < req->n_headers; i++)
        if (strcasecmp(req->headers[i].name, name) == 0)
            return req->headers[i].value;
    return NULL;
}

void lb_hp_init(lb_http_parser *p, size_t max_header_bytes, size_t max_body_bytes)
{
    memset(p, 0, sizeof *p);
    p->max_header_bytes = max_header_bytes ? max_header_bytes : DEFAULT_MAX_HEADER;
    p->max_body_bytes = max_body_bytes ? max_body_bytes : DEFAULT_MAX_BODY;
    lb_hp_reset(p);
}

void lb_hp_reset(lb_http_parser *p)
{
    p->state = S_HEAD;
    p->head_len = 0;
    p->skipped = 0;
    p->body_len = 0;
    p->remaining = 0;
    p->line_len = 0;
    p->trailer_bytes = 0;
    p->chunked = false;
    p->status = 0;
    p->reason = NULL;
    p->keep_alive = false;
    p->expect_continue = false;
    p->is_head = false;
    p->http10 = false;
    p->content_length = 0;
    memset(&p->req, 0, sizeof p->req);
}

void lb_hp_free(lb_http_parser *p)
{
    free(p->head);
    free(p->body);
    p->head = p->body = NULL;
    p->head_cap = p->body_cap = 0;
}

bool lb_hp_idle(const lb_http_parser *p)
{
    return p->state == S_HEAD && p->head_len == 0 && p->skipped == 0;
}

static lb_hp_result error(lb_http_parser *p, int status, const char *reason)
{
    p->state = S_ERROR;
    p->status = status;
    p->reason = reason;
    return LB_HP_ERROR;
}

static bool is_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool is_field_vchar(unsigned char c)
{
    return c == '\t' || c == ' ' || (c >= 0x21 && c != 0x7F);
}

/* Parses a Content-Length value; false if it is not a plain decimal number. */
static bool parse_length(const char *s, unsigned long long *out)
{
    if (!*s)
        return false;
    unsigned long long v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        if (v > (UINT64_MAX - 9) / 10)
            v = UINT64_MAX;  /* saturate: anything this big is over every limit */
        else
            v = v * 10 + (unsigned)(*s - '0');
    }
    *out = v;
    return true;
}

/* Does the comma-separated list contain token (case-insensitive)? */
static bool list_has(const char *list, const char *token)
{
    size_t tl = strlen(token);
    for (const char *s = list; *s;) {
        while (*s == ' ' || *s == '\t' || *s == ',')
            s++;
        const char *e = s;
        while (*e && *e != ',')
            e++;
        const char *t = e;
        while (t > s && (t[-1] == ' ' || t[-1] == '\t'))
            t--;
        if ((size_t)(t - s) == tl && strncasecmp(s, token, tl) == 0)
            return true;
        s = e;
    }
    return false;
}

static lb_hp_result parse_request_line(lb_http_parser *p, char *line, int *minor)
{
    static const char *known[] = { "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH" };
    char *sp1 = strchr(line, ' ');
    if (!sp1 || sp1 == line)
        return error(p, 400, "malformed request line");
    *sp1 = 0;
    for (char *c = line; *c; c++)
        if (!is_tchar((unsigned char)*c))
            return error(p, 400, "malformed method");
    char *target = sp1 + 1;
    char *sp2 = strchr(target, ' ');
    if (!sp2 || sp2 == target)
        return error(p, 400, "malformed request line");
    *sp2 = 0;
    char *version = sp2 + 1;
    for (char *c = target; *c; c++)
        if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7F || *c == '#')
            return error(p, 400, "invalid character in request target");
    if (strlen(version) != 8 || strncmp(version, "HTTP/", 5) != 0 || version[6] != '.' ||
        version[5] < '0' || version[5] > '9' || version[7] < '0' || version[7] > '9')
        return error(p, 400, "malformed HTTP version");
    if (version[5] != '1')
        return error(p, 505, "only HTTP/1.x is supported");
    *minor = version[7] - '0';
    bool ok = false;
    for (size_t i = 0; i < sizeof known / sizeof *known; i++)
        ok |= strcmp(line, known[i]) == 0;
    if (!ok)
        return error(p, 501, "method not implemented");
    /* absolute-form: keep only the path */
    if (strncasecmp(target, "http://", 7) == 0 || strncasecmp(target, "https://", 8) == 0) {
        char *slash = strchr(strstr(target, "//") + 2, '/');
        if (!slash)
            return error(p, 400, "absolute request target without a path");
        target = slash;
    }
    if (target[0] != '/')
        return error(p, 400, "request target must be a path");
    char *q = strchr(target, '?');
    p->req.query = "";
    if (q) {
        *q = 0;
        p->req.query = q + 1;
    }
    p->req.method = line;
    p->req.path = target;
    p->is_head = strcmp(line, "HEAD") == 0;
    return LB_HP_HEAD;
}

/* The head is complete in p->head (ending in CRLF CRLF): split it into the request. */
static lb_hp_result parse_head(lb_http_parser *p)
{
    char *s = p->head;
    p->head[p->head_len - 2] = 0;  /* cut the final empty line */
    char *eol = strstr(s, "\r\n");
    *eol = 0;
    int minor = 0;
    if (parse_request_line(p, s, &minor) != LB_HP_HEAD)
        return LB_HP_ERROR;
    int n_cl = 0, n_te = 0, n_host = 0;
    bool conn_close = false, conn_keep = false, expect = false;
    for (s = eol + 2; *s; s = eol + 2) {
        eol = strstr(s, "\r\n");
        *eol = 0;
        if (*s == ' ' || *s == '\t')
            return error(p, 400, "obsolete header line folding");
        char *colon = s;
        while (is_tchar((unsigned char)*colon))
            colon++;
        if (*colon != ':' || colon == s)
            return error(p, 400, "malformed header name");
        *colon = 0;
        char *v = colon + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        char *end = v + strlen(v);
        for (char *c = v; c < end; c++)
            if (!is_field_vchar((unsigned char)*c))
                return error(p, 400, "invalid character in header value");
        while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
            end--;
        *end = 0;
        if (p->req.n_headers == LB_HTTP_MAX_HEADERS)
            return error(p, 431, "too many header fields");
        p->req.headers[p->req.n_headers].name = s;
        p->req.headers[p->req.n_headers].value = v;
        p->req.n_headers++;
        if (strcasecmp(s, "content-length") == 0) {
            if (n_cl++ || !parse_length(v, &p->content_length))
                return error(p, 400, "invalid or repeated Content-Length");
        } else if (strcasecmp(s, "transfer-encoding") == 0) {
            if (n_te++)
                return error(p, 400, "repeated Transfer-Encoding");
            if (strcasecmp(v, "chunked") != 0)
                return error(p, 501, "only the chunked transfer coding is supported");
        } else if (strcasecmp(s, "host") == 0) {
            n_host++;
        } else if (strcasecmp(s, "connection") == 0) {
            conn_close |= list_has(v, "close");
            conn_keep |= list_has(v, "keep-alive");
        } else if (strcasecmp(s, "expect") == 0) {
            expect |= strcasecmp(v, "100-continue") == 0;
        }
    }
    if (n_cl && n_te)
        return error(p, 400, "both Content-Length and Transfer-Encoding");
    if (n_te && minor == 0)
        return error(p, 400, "Transfer-Encoding in an HTTP/1.0 request");
    if (minor >= 1 && n_host != 1)
        return error(p, 400, "HTTP/1.1 request needs exactly one Host header");
    if (p->content_length > p->max_body_bytes)
        return error(p, 413, "request body too large");
    p->chunked = n_te > 0;
    p->http10 = minor == 0;
    p->keep_alive = minor >= 1 ? !conn_close : (conn_keep && !conn_close);
    p->expect_continue = expect && (p->chunked || p->content_length > 0);
    if (p->chunked) {
        p->state = S_CHUNK_SIZE;
        p->line_len = 0;
    } else {
        p->state = S_BODY_CL;
        p->remaining = p->content_length;
    }
    return LB_HP_HEAD;
}

static bool body_reserve(lb_http_parser *p, size_t need)
{
    if (need <= p->body_cap)
        return true;
    size_t cap = p->body_cap ? p->body_cap : 4096;
    while (cap < need)
        cap *= 2;
    if (cap > p->max_body_bytes + 1)
        cap = p->max_body_bytes + 1;
    if (cap < need)
        return false;
    char *nb = realloc(p->body, cap);
    if (!nb)
        return false;
    p->body = nb;
    p->body_cap = cap;
    return true;
}

static lb_hp_result finish(lb_http_parser *p)
{
    if (!body_reserve(p, p->body_len + 1))
        return error(p, 500, "out of memory");
    p->body[p->body_len] = 0;
    p->req.body = p->body;
    p->req.body_len = p->body_len;
    p->state = S_DONE;
    return LB_HP_DONE;
}

static lb_hp_result feed_head(lb_http_parser *p, unsigned char c)
{
    if (p->head_len == 0 && (c == '\r' || c == '\n')) {
        /* RFC 9112 2.2: ignore empty lines before the request line, a few of them */
        if (++p->skipped > MAX_LEADING_EMPTY)
            return error(p, 400, "empty lines instead of a request");
        return LB_HP_MORE;
    }
    if (!p->head) {
        p->head = malloc(p->max_header_bytes + 1);
        if (!p->head)
            return error(p, 500, "out of memory");
        p->head_cap = p->max_header_bytes + 1;
    }
    if (p->head_len + 1 > p->max_header_bytes)
        return error(p, 431, "request header fields too large");
    char prev = p->head_len ? p->head[p->head_len - 1] : 0;
    if (prev == '\r' && c != '\n')
        return error(p, 400, "bare CR in request head");
    if (c == '\n' && prev != '\r')
        return error(p, 400, "bare LF in request head");
    if (c == 0)
        return error(p, 400, "NUL in request head");
    p->head[p->head_len++] = (char)c;
    if (c == '\n' && p->head_len >= 4 && memcmp(p->head + p->head_len - 4, "\r\n\r\n", 4) == 0) {
        p->head[p->head_len] = 0;
        return parse_head(p);
    }
    return LB_HP_MORE;
}

static int hexdigit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* A complete chunk-size line (without CRLF) is in p->line. */
static lb_hp_result chunk_size_line(lb_http_parser *p)
{
    unsigned long long size = 0;
    size_t i = 0;
    for (; i < p->line_len && hexdigit(p->line[i]) >= 0; i++) {
        if (size > p->max_body_bytes)
            return error(p, 413, "request body too large");
        size = size * 16 + (unsigned)hexdigit(p->line[i]);
    }
    if (i == 0)
        return error(p, 400, "malformed chunk size");
    size_t j = i;
    while (j < p->line_len && (p->line[j] == ' ' || p->line[j] == '\t'))
        j++;
    if (j < p->line_len && p->line[j] != ';')
        return error(p, 400, "malformed chunk size");
    for (; j < p->line_len; j++)
        if (!is_field_vchar((unsigned char)p->line[j]))
            return error(p, 400, "invalid character in chunk extension");
    if (size > p->max_body_bytes - p->body_len)
        return error(p, 413, "request body too large");
    p->line_len = 0;
    if (size == 0) {
        p->state = S_TRAILERS;
        p->trailer_bytes = 0;
        return LB_HP_MORE;
    }
    p->remaining = size;
    p->state = S_CHUNK_DATA;
    return LB_HP_MORE;
}

lb_hp_result lb_hp_feed(lb_http_parser *p, const char *data, size_t len, size_t *consumed)
{
    size_t i = 0;
    lb_hp_result r = LB_HP_MORE;
    *consumed = 0;
    if (p->state == S_ERROR)
        return LB_HP_ERROR;
    if (p->state == S_DONE)
        return LB_HP_DONE;
    while (r == LB_HP_MORE) {
        if (p->state == S_BODY_CL && p->remaining == 0) {
            r = finish(p);
            break;
        }
        if (i >= len)
            break;
        unsigned char c = (unsigned char)data[i];
        switch (p->state) {
        case S_HEAD:
            i++;
            r = feed_head(p, c);
            break;
        case S_BODY_CL: {
            size_t n = len - i;
            if (n > p->remaining)
                n = (size_t)p->remaining;
            if (!body_reserve(p, (size_t)p->content_length + 1))
                return error(p, 500, "out of memory");
            memcpy(p->body + p->body_len, data + i, n);
            p->body_len += n;
            p->remaining -= n;
            i += n;
            break;
        }
        case S_CHUNK_SIZE:
            i++;
            if (c == '\n') {
                if (p->line_len == 0 || p->line[p->line_len - 1] != '\r')
                    r = error(p, 400, "bare LF in chunk size line");
                else {
                    p->line_len--;
                    r = chunk_size_line(p);
                }
            } else if (p->line_len > 0 && p->line[p->line_len - 1] == '\r') {
                r = error(p, 400, "bare CR in chunk size line");
            } else if (p->line_len + 1 >= sizeof p->line) {
                r = error(p, 400, "chunk size line too long");
            } else {
                p->line[p->line_len++] = (char)c;
            }
            break;
        case S_CHUNK_DATA: {
            size_t n = len - i;
            if (n > p->remaining)
                n = (size_t)p->remaining;
            if (!body_reserve(p, p->body_len + n + 1))
                return error(p, 500, "out of memory");
            memcpy(p->body + p->body_len, data + i, n);
            p->body_len += n;
            p->remaining -= n;
            i += n;
            if (p->remaining == 0) {
                p->state = S_CHUNK_CRLF;
                p->line_len = 0;
            }
            break;
        }
        case S_CHUNK_CRLF:
            i++;
            if (c != (p->line_len == 0 ? '\r' : '\n'))
                r = error(p, 400, "chunk data not followed by CRLF");
            else if (++p->line_len == 2) {
                p->line_len = 0;
                p->state = S_CHUNK_SIZE;
            }
            break;
        case S_TRAILERS:
            /* trailer fields are read and dropped; the line ending rules still apply */
            i++;
            if (++p->trailer_bytes > p->max_header_bytes) {
                r = error(p, 431, "trailer fields too large");
                break;
            }
            if (c == '\n') {
                if (p->line_len == 0 || p->line[0] != '\r')
                    r = error(p, 400, "bare LF in trailer");
                else if (p->line_len == 1)
                    r = finish(p);  /* empty line: end of the message */
                else
                    p->line_len = 0;
            } else if (p->line_len > 0 && p->line[0] == '\r') {
                r = error(p, 400, "bare CR in trailer");
            } else {
                /* line[0] remembers the last byte; line_len counts the bytes of the line */
                p->line[0] = (char)c;
                p->line_len++;
            }
            break;
        default:
            return error(p, 500, "parser state");
        }
    }
    *consumed = i;
    return r;
}
