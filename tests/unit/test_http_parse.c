#include "../lib/harness.h"
#include "http_parse.h"

#include <stdlib.h>

/* Feeds s in pieces of step bytes until the request is done or fails; returns the final
 * result and how many bytes it used. */
static lb_hp_result run(lb_http_parser *p, const char *s, size_t len, size_t step, size_t *used, int *heads)
{
    size_t off = 0;
    *heads = 0;
    for (;;) {
        size_t n = len - off < step ? len - off : step, c = 0;
        lb_hp_result r = lb_hp_feed(p, s + off, n, &c);
        off += c;
        if (r == LB_HP_HEAD) {
            ++*heads;
            continue;
        }
        if (r == LB_HP_MORE && off < len)
            continue;
        *used = off;
        return r;
    }
}

static lb_hp_result parse(lb_http_parser *p, const char *s, size_t step)
{
    size_t used;
    int heads;
    lb_hp_init(p, 1024, 4096);
    return run(p, s, strlen(s), step, &used, &heads);
}

TEST(simple_get_any_split)
{
    const char *s = "GET /v1/models?x=1&y HTTP/1.1\r\nHost: a\r\nUser-Agent:  curl/8 \r\nX-E:\r\n\r\n";
    for (size_t step = 1; step <= strlen(s); step++) {
        lb_http_parser p;
        size_t used;
        int heads;
        lb_hp_init(&p, 0, 0);
        CHECK_EQ(run(&p, s, strlen(s), step, &used, &heads), LB_HP_DONE);
        CHECK_EQ(heads, 1);
        CHECK_EQ(used, strlen(s));
        CHECK_STR(p.req.method, "GET");
        CHECK_STR(p.req.path, "/v1/models");
        CHECK_STR(p.req.query, "x=1&y");
        CHECK_EQ(p.req.n_headers, 3);
        CHECK_STR(lb_http_req_header(&p.req, "user-agent"), "curl/8");
        CHECK_STR(lb_http_req_header(&p.req, "X-E"), "");
        CHECK(lb_http_req_header(&p.req, "Absent") == NULL);
        CHECK_EQ(p.req.body_len, 0);
        CHECK_STR(p.req.body, "");
        CHECK(p.keep_alive);
        lb_hp_free(&p);
    }
}

TEST(content_length_body_and_pipelining)
{
    const char *s = "POST /v1/chat/completions HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhelloGET / HTTP/1.1\r\n";
    lb_http_parser p;
    size_t used;
    int heads;
    lb_hp_init(&p, 0, 0);
    CHECK_EQ(run(&p, s, strlen(s), 7, &used, &heads), LB_HP_DONE);
    CHECK_EQ(p.req.body_len, 5);
    CHECK_STR(p.req.body, "hello");
    /* the caller sees the unused bytes: a pipelined second request */
    CHECK_STR(s + used, "GET / HTTP/1.1\r\n");
    /* the next request on the same connection after reset */
    lb_hp_reset(&p);
    CHECK(lb_hp_idle(&p));
    const char *s2 = "\r\nGET /health HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
    CHECK_EQ(run(&p, s2, strlen(s2), 100, &used, &heads), LB_HP_DONE);
    CHECK_STR(p.req.path, "/health");
    CHECK(!p.keep_alive);
    lb_hp_free(&p);
}

TEST(chunked_body_any_split)
{
    const char *s = "POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\nExpect: 100-continue\r\n\r\n"
                    "5\r\nhello\r\n1;ext=1\r\n \r\nA \r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n";
    for (size_t step = 1; step <= strlen(s); step += 3) {
        lb_http_parser p;
        size_t used;
        int heads;
        lb_hp_init(&p, 0, 0);
        CHECK_EQ(run(&p, s, strlen(s), step, &used, &heads), LB_HP_DONE);
        CHECK_EQ(used, strlen(s));
        CHECK(p.expect_continue);
        CHECK_EQ(p.req.body_len, 16);
        CHECK_STR(p.req.body, "hello 0123456789");
        lb_hp_free(&p);
    }
}

TEST(http10_defaults)
{
    lb_http_parser p;
    CHECK_EQ(parse(&p, "GET / HTTP/1.0\r\n\r\n", 100), LB_HP_DONE);
    CHECK(!p.keep_alive);
    lb_hp_free(&p);
    CHECK_EQ(parse(&p, "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", 100), LB_HP_DONE);
    CHECK(p.keep_alive);
    lb_hp_free(&p);
    CHECK_EQ(parse(&p, "HEAD http://host:1/p?q HTTP/1.1\r\nHost: h\r\n\r\n", 100), LB_HP_DONE);
    CHECK_STR(p.req.path, "/p");
    CHECK(p.is_head);
    lb_hp_free(&p);
}

/* Requests that must be refused, with the status to answer. */
static const struct { const char *req; int status; } bad[] = {
    { "GET / HTTP/1.1\r\n\r\n", 400 },                                          /* no Host */
    { "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400 },
    { "GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505 },
    { "GET / HTTP/0.9\r\nHost: a\r\n\r\n", 505 },
    { "GET / HTTQ/1.1\r\nHost: a\r\n\r\n", 400 },
    { "GET / HTTP/1.10\r\nHost: a\r\n\r\n", 400 },
    { "BREW / HTTP/1.1\r\nHost: a\r\n\r\n", 501 },
    { "CONNECT a:443 HTTP/1.1\r\nHost: a\r\n\r\n", 501 },
    { "G@T / HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
    { "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
    { "GET / x HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
    { "GET x HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
    { "GET /#f HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
    { "GET /\x7f HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
    { "GET / HTTP/1.1\nHost: a\r\n\r\n", 400 },                                  /* bare LF */
    { "GET / HTTP/1.1\rHost: a\r\n\r\n", 400 },                                  /* bare CR */
    { "GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n 2\r\n\r\n", 400 },                  /* obs-fold */
    { "GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400 },                               /* space before colon */
    { "GET / HTTP/1.1\r\nHo(st: a\r\n\r\n", 400 },
    { "GET / HTTP/1.1\r\n: a\r\nHost: a\r\n\r\n", 400 },
    { "GET / HTTP/1.1\r\nHost: a\r\nX: a\x01" "b\r\n\r\n", 400 },
    { "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", 400 },
    { "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n", 400 },
    { "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1,1\r\n\r\n", 400 },
    { "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 400 },
    { "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \r\n\r\n", 400 },
    { "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4097\r\n\r\n", 413 },
    { "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999999\r\n\r\n", 413 },
    { "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501 },
    { "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", 400 },
    { "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400 },
    { "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nx\r\n", 400 },
    { "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX", 400 },
    { "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n", 400 },
    { "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1001\r\n", 413 },
    { "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFFFFFFFF\r\n", 413 },
    { "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n", 0 },  /* fine so far */
    { "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: y\n\r\n", 400 },
    { "\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\n\r\n", 400 },                      /* too many empty lines */
    { "GET / HTTP/1.1\r\nHost: a\r\nX: \0\r\n\r\n", 400 },
};

TEST(bad_requests_get_the_right_status)
{
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        lb_http_parser p;
        size_t len = strlen(bad[i].req);
        if (strstr(bad[i].req, "X: ") && strstr(bad[i].req, "X: ")[3] == 0)
            len += 5;  /* the entry with an embedded NUL */
        size_t used;
        int heads;
        lb_hp_init(&p, 1024, 4096);
        lb_hp_result r = run(&p, bad[i].req, len, 3, &used, &heads);
        if (bad[i].status == 0)
            CHECK_MSG(r == LB_HP_MORE, "#%zu: expected to wait for more, got %d", i, r);
        else
            CHECK_MSG(r == LB_HP_ERROR && p.status == bad[i].status, "#%zu: result %d status %d, want %d",
                      i, r, p.status, bad[i].status);
        CHECK(r != LB_HP_ERROR || p.reason != NULL);
        lb_hp_free(&p);
    }
}

TEST(header_limits)
{
    lb_http_parser p;
    char big[2048];
    snprintf(big, sizeof big, "GET / HTTP/1.1\r\nHost: a\r\nX: %01000d\r\n\r\n", 0);
    CHECK_EQ(parse(&p, big, 50), LB_HP_ERROR);  /* limit 1024 */
    CHECK_EQ(p.status, 431);
    lb_hp_free(&p);
    /* a head that never ends is cut at the limit, not buffered forever */
    lb_hp_init(&p, 1024, 4096);
    size_t used = 0, total = 0;
    lb_hp_result r = LB_HP_MORE;
    for (int i = 0; i < 100 && r == LB_HP_MORE; i++) {
        r = lb_hp_feed(&p, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 60, &used);
        total += used;
    }
    CHECK_EQ(r, LB_HP_ERROR);
    CHECK_EQ(p.status, 431);
    CHECK(total <= 1025);  /* the limit, plus the byte that crossed it */
    lb_hp_free(&p);
    /* 64 headers fit, 65 do not */
    char many[4096];
    for (int n = 63; n <= 64; n++) {
        size_t off = (size_t)snprintf(many, sizeof many, "GET / HTTP/1.1\r\nHost: a\r\n");
        for (int i = 0; i < n; i++)
            off += (size_t)snprintf(many + off, sizeof many - off, "X%d: y\r\n", i);
        snprintf(many + off, sizeof many - off, "\r\n");
        lb_hp_init(&p, 4096, 4096);
        size_t u;
        int h;
        r = run(&p, many, strlen(many), 4096, &u, &h);
        if (n == 63)
            CHECK_EQ(r, LB_HP_DONE);
        else
            CHECK(r == LB_HP_ERROR && p.status == 431);
        lb_hp_free(&p);
    }
}

TEST(body_limit_exact)
{
    lb_http_parser p;
    char req[8192];
    int n = snprintf(req, sizeof req, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4096\r\n\r\n");
    memset(req + n, 'b', 4096);
    size_t used;
    int heads;
    lb_hp_init(&p, 1024, 4096);
    CHECK_EQ(run(&p, req, (size_t)n + 4096, 1000, &used, &heads), LB_HP_DONE);
    CHECK_EQ(p.req.body_len, 4096);
    lb_hp_free(&p);
    /* chunked: 4096 total is fine, one more byte is 413 */
    const char *c = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n";
    char cr[8192 + 200];
    n = snprintf(cr, sizeof cr, "%s", c);
    memset(cr + n, 'x', 2048);
    n += 2048;
    n += snprintf(cr + n, sizeof cr - (size_t)n, "\r\n800\r\n");
    memset(cr + n, 'y', 2048);
    n += 2048;
    n += snprintf(cr + n, sizeof cr - (size_t)n, "\r\n1\r\n");
    lb_hp_init(&p, 1024, 4096);
    CHECK_EQ(run(&p, cr, (size_t)n, 333, &used, &heads), LB_HP_ERROR);
    CHECK_EQ(p.status, 413);
    lb_hp_free(&p);
}

TEST(error_is_sticky)
{
    lb_http_parser p;
    CHECK_EQ(parse(&p, "GET / HTTP/3.0\r\nHost: a\r\n\r\n", 100), LB_HP_ERROR);
    size_t used;
    CHECK_EQ(lb_hp_feed(&p, "GET / HTTP/1.1\r\n", 16, &used), LB_HP_ERROR);
    CHECK_EQ(used, 0);
    lb_hp_free(&p);
}
