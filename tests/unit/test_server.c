/* The HTTPS server on 127.0.0.1:0 with a temporary TLS dir, checked with curl and with a
 * small mbedTLS client that can send exactly the bytes a test needs. Timeouts are short
 * here; the only timing checks are generous upper bounds. */
#include "../lib/harness.h"
#include "server.h"
#include "tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/ssl.h>

/* ---- test handler ---- */

static atomic_int g_stream_result;   /* 0 running, 1 saw the client leave, 2 never noticed */
static atomic_int g_stream_writes;
static atomic_int g_big_result;      /* 0 running, 1 sent, -1 failed */

static void handler(void *ud, lb_conn *c, const lb_http_req *req)
{
    (void)ud;
    if (strcmp(req->path, "/hello") == 0) {
        lb_conn_respond(c, 200, "text/plain", "hello", 5);
    } else if (strcmp(req->path, "/echo") == 0) {
        char n[32];
        snprintf(n, sizeof n, "%zu", req->body_len);
        lb_conn_add_header(c, "X-Body-Len", n);
        /* header injection is refused */
        if (lb_conn_add_header(c, "X-Evil", "a\r\nSet-Cookie: x") != LB_EINVAL ||
            lb_conn_add_header(c, "X:Evil", "a") != LB_EINVAL)
            lb_conn_add_header(c, "X-Injection", "accepted");
        lb_conn_respond(c, 200, "application/octet-stream", req->body, req->body_len);
    } else if (strcmp(req->path, "/peer") == 0) {
        /* the client's address and port: equal across requests on one connection */
        lb_conn_respond(c, 200, "text/plain", req->peer, strlen(req->peer));
    } else if (strcmp(req->path, "/query") == 0) {
        char b[300];
        snprintf(b, sizeof b, "%s %s|%s|%s", req->method, req->path, req->query,
                 lb_http_req_header(req, "x-test") ? lb_http_req_header(req, "x-test") : "-");
        lb_conn_respond(c, 200, "text/plain", b, strlen(b));
    } else if (strcmp(req->path, "/stream") == 0) {
        int n = atoi(req->query);
        lb_conn_stream_begin(c, 200, "text/event-stream");
        if (n > 0) {  /* a short stream that completes */
            for (int i = 0; i < n; i++) {
                char b[32];
                int len = snprintf(b, sizeof b, "data: %d\n\n", i);
                lb_conn_stream_write(c, b, (size_t)len);
            }
            lb_conn_stream_end(c);
            return;
        }
        /* an endless stream: stops only when the client is gone */
        for (int i = 0; i < 2000; i++) {  /* 20 s at most */
            char b[64];
            int len = snprintf(b, sizeof b, "data: token %d\n\n", i);
            if (lb_conn_stream_write(c, b, (size_t)len) < 0 || lb_conn_peer_gone(c)) {
                atomic_store(&g_stream_result, 1);
                return;
            }
            atomic_fetch_add(&g_stream_writes, 1);
            nanosleep(&(struct timespec){ 0, 10 * 1000 * 1000 }, NULL);
        }
        atomic_store(&g_stream_result, 2);
        lb_conn_stream_end(c);
    } else if (strcmp(req->path, "/big") == 0) {
        /* more than the socket buffers hold: a client that does not read stalls this */
        size_t n = 32u << 20;
        char *big = malloc(n);
        memset(big, 'x', n);
        atomic_store(&g_big_result, lb_conn_respond(c, 200, "application/octet-stream", big, n) < 0 ? -1 : 1);
        free(big);
    } else if (strcmp(req->path, "/forget") == 0) {
        /* no response at all: the server must answer 500 */
    } else {
        lb_conn_respond(c, 404, "text/plain", "not found", 9);
    }
}

/* ---- server fixture ---- */

typedef struct fixture {
    lb_server *srv;
    pthread_t th;
    int port;
    int run_rc;
} fixture;

static void *run_thread(void *arg)
{
    fixture *f = arg;
    lb_err err = { 0 };
    f->run_rc = lb_server_run(f->srv, &err);
    return NULL;
}

static bool start_with(fixture *f, int max_conns, int header_timeout_ms)
{
    char dir[512];
    snprintf(dir, sizeof dir, "%s/tls", lb_test_tmpdir());
    lb_server_config cfg = {
        .listen = "127.0.0.1:0",
        .tls_dir = dir,
        .hostname = "test.local",
        .limits = { .max_header_bytes = 4096, .max_body_bytes = 64 * 1024, .header_timeout_ms = header_timeout_ms,
                    .body_timeout_ms = 1000, .idle_timeout_ms = 3000, .write_timeout_ms = 2000,
                    .max_conns = max_conns },
        .handler = handler,
    };
    lb_err err = { 0 };
    memset(f, 0, sizeof *f);
    int rc = lb_server_new(&cfg, &f->srv, &err);
    CHECK_MSG(rc == LB_OK, "server: %s", err.msg);
    if (rc)
        return false;
    f->port = lb_server_port(f->srv);
    CHECK(f->port > 0);
    CHECK_EQ(strlen(lb_server_fingerprint(f->srv)), 95);
    pthread_create(&f->th, NULL, run_thread, f);
    return true;
}

static bool start(fixture *f, int max_conns)
{
    return start_with(f, max_conns, 1000);
}

static void stop(fixture *f)
{
    lb_server_stop(f->srv);
    pthread_join(f->th, NULL);
    CHECK_EQ(f->run_rc, LB_OK);
    lb_server_free(f->srv);
}

static long long ms_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- plain TCP and mbedTLS client ---- */

static int tcp_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    struct timeval tv = { .tv_sec = 5 };  /* no test read waits longer */
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

typedef struct client {
    int fd;
    mbedtls_ssl_config conf;
    mbedtls_ssl_context ssl;
} client;

static int cli_send(void *ctx, const unsigned char *b, size_t n)
{
    ssize_t r = send(*(int *)ctx, b, n, MSG_NOSIGNAL);
    return r < 0 ? MBEDTLS_ERR_SSL_INTERNAL_ERROR : (int)r;
}

static int cli_recv(void *ctx, const unsigned char *b, size_t n)
{
    ssize_t r = recv(*(int *)ctx, (void *)b, n, 0);
    if (r < 0)  /* a reset counts as the end of the connection */
        return errno == EAGAIN || errno == EWOULDBLOCK ? MBEDTLS_ERR_SSL_TIMEOUT : 0;
    return (int)r;
}

/* 0 = connected; handshake failures return the mbedTLS code. */
static int cli_open(client *c, int port)
{
    memset(c, 0, sizeof *c);
    mbedtls_ssl_config_init(&c->conf);
    mbedtls_ssl_init(&c->ssl);
    c->fd = tcp_connect(port);
    if (c->fd < 0)
        return -1;
    int rc = mbedtls_ssl_config_defaults(&c->conf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                         MBEDTLS_SSL_PRESET_DEFAULT);
    mbedtls_ssl_conf_authmode(&c->conf, MBEDTLS_SSL_VERIFY_NONE);
    mbedtls_ssl_conf_rng(&c->conf, lb_tls_random, NULL);
    if (rc || (rc = mbedtls_ssl_setup(&c->ssl, &c->conf)))
        return rc;
    mbedtls_ssl_set_bio(&c->ssl, &c->fd, cli_send, (mbedtls_ssl_recv_t *)cli_recv, NULL);
    return mbedtls_ssl_handshake(&c->ssl);
}

static void cli_close(client *c, bool notify)
{
    if (notify)
        mbedtls_ssl_close_notify(&c->ssl);
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    mbedtls_ssl_free(&c->ssl);
    mbedtls_ssl_config_free(&c->conf);
}

static bool cli_write(client *c, const char *s, size_t n)
{
    while (n) {
        int r = mbedtls_ssl_write(&c->ssl, (const unsigned char *)s, n);
        if (r <= 0)
            return false;
        s += r;
        n -= (size_t)r;
    }
    return true;
}

/* Reads until the end of one response (Content-Length or the final chunk) or until the
 * connection ends; returns bytes read, and *closed tells whether the server closed. */
static size_t cli_response(client *c, char *buf, size_t cap, bool *closed)
{
    size_t len = 0;
    *closed = false;
    while (len + 1 < cap) {
        buf[len] = 0;
        char *end = strstr(buf, "\r\n\r\n");
        if (end) {
            const char *cl = strstr(buf, "Content-Length: ");
            if (cl && cl < end && len >= (size_t)(end + 4 - buf) + strtoul(cl + 16, NULL, 10))
                break;
            if (strstr(buf, "Transfer-Encoding: chunked") && strstr(end, "\r\n0\r\n\r\n"))
                break;
        }
        int r = mbedtls_ssl_read(&c->ssl, (unsigned char *)buf + len, cap - 1 - len);
        if (r <= 0) {
            *closed = true;
            break;
        }
        len += (size_t)r;
    }
    buf[len] = 0;
    return len;
}

/* True when the server has closed the connection (within the socket's read timeout). */
static bool cli_sees_close(client *c)
{
    char b[256];
    for (;;) {
        int r = mbedtls_ssl_read(&c->ssl, (unsigned char *)b, sizeof b);
        if (r == 0 || r == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY)
            return true;
        if (r < 0)
            return r != MBEDTLS_ERR_SSL_TIMEOUT;
    }
}

static int status_of(const char *resp)
{
    return strncmp(resp, "HTTP/1.1 ", 9) == 0 ? atoi(resp + 9) : -1;
}

static const char *body_of(const char *resp)
{
    const char *e = strstr(resp, "\r\n\r\n");
    return e ? e + 4 : "";
}

/* ---- curl ---- */

static int run_cmd(const char *cmd, char *out, size_t cap)
{
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = 0;
    return pclose(p);
}

/* ---- tests ---- */

TEST(curl_get_post_keepalive_chunked)
{
    fixture f;
    if (!start(&f, 16))
        return;
    char cmd[4096], out[8192];
    snprintf(cmd, sizeof cmd, "curl -sSk --max-time 10 https://127.0.0.1:%d/hello", f.port);
    CHECK_EQ(run_cmd(cmd, out, sizeof out), 0);
    CHECK_STR(out, "hello");

    /* POST with a body of 20000 bytes, then the same body as a chunked upload */
    char file[512];
    snprintf(file, sizeof file, "%s/body", lb_test_tmpdir());
    FILE *fp = fopen(file, "w");
    for (int i = 0; i < 20000; i++)
        fputc('a' + i % 26, fp);
    fclose(fp);
    snprintf(cmd, sizeof cmd, "curl -sSk --max-time 10 --data-binary @%s https://127.0.0.1:%d/echo | cmp - %s && echo same",
             file, f.port, file);
    CHECK_EQ(run_cmd(cmd, out, sizeof out), 0);
    CHECK_STR(out, "same\n");
    snprintf(cmd, sizeof cmd, "curl -sSk --max-time 10 -H 'Transfer-Encoding: chunked' --data-binary @%s "
             "https://127.0.0.1:%d/echo | cmp - %s && echo same", file, f.port, file);
    CHECK_EQ(run_cmd(cmd, out, sizeof out), 0);
    CHECK_STR(out, "same\n");

    /* keep-alive: two URLs in one curl run come from the same client port */
    snprintf(cmd, sizeof cmd, "curl -sSk --max-time 10 https://127.0.0.1:%d/peer -w ' ' https://127.0.0.1:%d/peer",
             f.port, f.port);
    CHECK_EQ(run_cmd(cmd, out, sizeof out), 0);
    char a[64] = "", b[64] = "";
    CHECK_EQ(sscanf(out, "%63s %63s", a, b), 2);
    CHECK_MSG(strncmp(a, "127.0.0.1:", 10) == 0 && strcmp(a, b) == 0, "peers: %s", out);

    /* streaming response */
    snprintf(cmd, sizeof cmd, "curl -sSkN --max-time 10 'https://127.0.0.1:%d/stream?3'", f.port);
    CHECK_EQ(run_cmd(cmd, out, sizeof out), 0);
    CHECK_STR(out, "data: 0\n\ndata: 1\n\ndata: 2\n\n");

    /* huge body: 413, and curl (with Expect: 100-continue) is not stuck sending it */
    snprintf(cmd, sizeof cmd, "head -c 200000 /dev/zero > %s.big && curl -sk --max-time 10 -o /dev/null -w '%%{http_code}' "
             "--data-binary @%s.big https://127.0.0.1:%d/echo", file, file, f.port);
    run_cmd(cmd, out, sizeof out);
    CHECK_STR(out, "413");

    /* plain HTTP on the TLS port: a readable hint */
    snprintf(cmd, sizeof cmd, "curl -s --max-time 10 -w ' %%{http_code}' http://127.0.0.1:%d/hello", f.port);
    run_cmd(cmd, out, sizeof out);
    CHECK_MSG(strstr(out, "speaks HTTPS") && strstr(out, " 400"), "got %s", out);
    stop(&f);
}

TEST(keepalive_headers_query_and_missing_response)
{
    fixture f;
    if (!start(&f, 16))
        return;
    client c;
    CHECK_EQ(cli_open(&c, f.port), 0);
    char buf[8192];
    bool closed;
    const char *r1 = "GET /query?a=1&b HTTP/1.1\r\nHost: x\r\nX-Test:  v  \r\n\r\n";
    CHECK(cli_write(&c, r1, strlen(r1)));
    cli_response(&c, buf, sizeof buf, &closed);
    CHECK_EQ(status_of(buf), 200);
    CHECK_STR(body_of(buf), "GET /query|a=1&b|v");
    CHECK(strstr(buf, "Connection: keep-alive") != NULL);
    CHECK(!closed);
    /* same connection: a POST, then a request the handler leaves unanswered */
    const char *r2 = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc";
    CHECK(cli_write(&c, r2, strlen(r2)));
    cli_response(&c, buf, sizeof buf, &closed);
    CHECK_EQ(status_of(buf), 200);
    CHECK_STR(body_of(buf), "abc");
    CHECK(strstr(buf, "X-Body-Len: 3\r\n") != NULL);
    CHECK(strstr(buf, "Keep-Alive: timeout=3\r\n") != NULL);
    CHECK(strstr(buf, "X-Injection") == NULL && strstr(buf, "Set-Cookie") == NULL);
    const char *r3 = "GET /forget HTTP/1.1\r\nHost: x\r\n\r\n";
    CHECK(cli_write(&c, r3, strlen(r3)));
    cli_response(&c, buf, sizeof buf, &closed);
    CHECK_EQ(status_of(buf), 500);
    CHECK(strstr(buf, "\"error\"") != NULL);
    /* HEAD: headers only */
    const char *r4 = "HEAD /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    CHECK(cli_write(&c, r4, strlen(r4)));
    size_t n = cli_response(&c, buf, sizeof buf, &closed);
    CHECK_EQ(status_of(buf), 200);
    CHECK(strstr(buf, "Content-Length: 5\r\n") != NULL);
    CHECK_EQ(n, (size_t)(body_of(buf) - buf));
    CHECK(strstr(buf, "Connection: close") != NULL);
    CHECK(cli_sees_close(&c));
    cli_close(&c, false);
    stop(&f);
}

TEST(chunked_upload_and_pipelining)
{
    fixture f;
    if (!start(&f, 16))
        return;
    client c;
    CHECK_EQ(cli_open(&c, f.port), 0);
    char buf[8192];
    bool closed;
    /* chunked upload sent in pieces, with an extension and a trailer */
    const char *parts[] = { "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", "4;x=y\r\nwiki\r\n",
                            "5\r\npedia\r\n", "0\r\nX-T: 1\r\n\r\n" };
    for (int i = 0; i < 4; i++)
        CHECK(cli_write(&c, parts[i], strlen(parts[i])));
    cli_response(&c, buf, sizeof buf, &closed);
    CHECK_EQ(status_of(buf), 200);
    CHECK_STR(body_of(buf), "wikipedia");
    /* two requests in one write: the first is answered with Connection: close, then the
     * connection ends cleanly instead of answering out of turn */
    const char *two = "GET /hello HTTP/1.1\r\nHost: x\r\n\r\nGET /hello HTTP/1.1\r\nHost: x\r\n\r\n";
    CHECK(cli_write(&c, two, strlen(two)));
    cli_response(&c, buf, sizeof buf, &closed);
    CHECK_EQ(status_of(buf), 200);
    CHECK_STR(body_of(buf), "hello");
    CHECK(strstr(buf, "Connection: close") != NULL);
    CHECK(cli_sees_close(&c));
    cli_close(&c, false);
    stop(&f);
}

TEST(limits_give_431_413_and_bad_requests_400)
{
    fixture f;
    if (!start(&f, 16))
        return;
    char buf[8192], big[8000];
    bool closed;
    client c;
    /* header over 4096 bytes */
    CHECK_EQ(cli_open(&c, f.port), 0);
    int n = snprintf(big, sizeof big, "GET /hello HTTP/1.1\r\nHost: x\r\nX-Big: ");
    memset(big + n, 'a', 5000);
    memcpy(big + n + 5000, "\r\n\r\n", 5);
    CHECK(cli_write(&c, big, strlen(big)));
    cli_response(&c, buf, sizeof buf, &closed);
    CHECK_EQ(status_of(buf), 431);
    CHECK(strstr(buf, "\"error\":{\"message\":") != NULL);
    CHECK(cli_sees_close(&c));
    cli_close(&c, false);
    /* body over 64 KiB, announced */
    CHECK_EQ(cli_open(&c, f.port), 0);
    const char *r = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n";
    CHECK(cli_write(&c, r, strlen(r)));
    cli_response(&c, buf, sizeof buf, &closed);
    CHECK_EQ(status_of(buf), 413);
    cli_close(&c, false);
    /* chunked body growing past the limit */
    CHECK_EQ(cli_open(&c, f.port), 0);
    r = "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
    CHECK(cli_write(&c, r, strlen(r)));
    memset(big, 'z', 4096);
    int status = 0;
    for (int i = 0; i < 40 && !status; i++) {
        if (!cli_write(&c, "1000\r\n", strlen("1000\r\n")) || !cli_write(&c, big, 4096) || !cli_write(&c, "\r\n", strlen("\r\n")))
            break;
        struct pollfd p = { .fd = c.fd, .events = POLLIN };
        if (poll(&p, 1, 0) > 0) {
            cli_response(&c, buf, sizeof buf, &closed);
            status = status_of(buf);
        }
    }
    if (!status) {
        cli_response(&c, buf, sizeof buf, &closed);
        status = status_of(buf);
    }
    CHECK_EQ(status, 413);
    cli_close(&c, false);
    /* smuggling attempt and bad version */
    const char *bad[][2] = {
        { "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "400" },
        { "GET /hello HTTP/2.0\r\nHost: x\r\n\r\n", "505" },
        { "BREW /hello HTTP/1.1\r\nHost: x\r\n\r\n", "501" },
        { "GET /hello HTTP/1.1\r\nHost: x\r\nX: a\r\n  folded\r\n\r\n", "400" },
    };
    for (int i = 0; i < 4; i++) {
        CHECK_EQ(cli_open(&c, f.port), 0);
        CHECK(cli_write(&c, bad[i][0], strlen(bad[i][0])));
        cli_response(&c, buf, sizeof buf, &closed);
        CHECK_MSG(status_of(buf) == atoi(bad[i][1]), "#%d: got %.40s", i, buf);
        cli_close(&c, false);
    }
    /* and still serving */
    CHECK_EQ(cli_open(&c, f.port), 0);
    CHECK(cli_write(&c, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n", strlen("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")));
    cli_response(&c, buf, sizeof buf, &closed);
    CHECK_EQ(status_of(buf), 200);
    cli_close(&c, true);
    stop(&f);
}

TEST(slowloris_is_cut_off_at_header_timeout)
{
    fixture f;
    if (!start(&f, 16))
        return;
    client c;
    CHECK_EQ(cli_open(&c, f.port), 0);
    const char *req = "GET /hello HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
    long long t0 = ms_now();
    bool answered = false;
    char buf[4096];
    bool closed;
    /* one byte every 50 ms: 5 s for the whole head, far past the 1 s header timeout */
    for (size_t i = 0; i < strlen(req); i++) {
        struct pollfd p = { .fd = c.fd, .events = POLLIN };
        if (poll(&p, 1, 50) > 0) {
            answered = true;
            break;
        }
        if (!cli_write(&c, req + i, 1)) {
            answered = true;
            break;
        }
    }
    long long elapsed = ms_now() - t0;
    CHECK_MSG(answered, "server still waiting after %lld ms of a slow head", elapsed);
    CHECK_MSG(elapsed < 4000, "cut off only after %lld ms (header timeout 1000 ms)", elapsed);
    cli_response(&c, buf, sizeof buf, &closed);
    CHECK_EQ(status_of(buf), 408);
    cli_close(&c, false);

    /* the same on a kept-alive connection: the second request's head has its own deadline */
    CHECK_EQ(cli_open(&c, f.port), 0);
    CHECK(cli_write(&c, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n", strlen("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")));
    cli_response(&c, buf, sizeof buf, &closed);
    CHECK_EQ(status_of(buf), 200);
    answered = false;
    t0 = ms_now();
    for (size_t i = 0; i < strlen(req) && !answered; i++) {
        struct pollfd p = { .fd = c.fd, .events = POLLIN };
        answered = poll(&p, 1, 50) > 0 || !cli_write(&c, req + i, 1);
    }
    CHECK_MSG(answered, "second request: still waiting after %lld ms", ms_now() - t0);
    cli_response(&c, buf, sizeof buf, &closed);
    CHECK_MSG(status_of(buf) == 408, "after %lld ms: %s", ms_now() - t0, buf);
    cli_close(&c, false);

    /* a client that completes the handshake and says nothing is dropped too */
    CHECK_EQ(cli_open(&c, f.port), 0);
    t0 = ms_now();
    CHECK(cli_sees_close(&c));
    CHECK(ms_now() - t0 < 4000);
    cli_close(&c, false);
    /* and one that never starts the handshake */
    int fd = tcp_connect(f.port);
    t0 = ms_now();
    char b;
    CHECK(recv(fd, &b, 1, 0) <= 0 && ms_now() - t0 < 4000);
    close(fd);
    stop(&f);
}

TEST(plain_http_and_tls_garbage)
{
    fixture f;
    if (!start(&f, 16))
        return;
    char buf[2048];
    int fd = tcp_connect(f.port);
    const char *req = "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n";
    CHECK(send(fd, req, strlen(req), 0) == (ssize_t)strlen(req));
    ssize_t n = 0, r;
    while ((r = recv(fd, buf + n, sizeof buf - 1 - (size_t)n, 0)) > 0)
        n += r;
    buf[n > 0 ? n : 0] = 0;
    CHECK(strncmp(buf, "HTTP/1.1 400", 12) == 0);
    CHECK(strstr(buf, "speaks HTTPS") != NULL);
    close(fd);
    /* a TLS record header followed by junk, and junk that is not TLS at all */
    unsigned char junk[3000];
    unsigned long long x = 12345;
    for (size_t i = 0; i < sizeof junk; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        junk[i] = (unsigned char)(x >> 56);
    }
    for (int k = 0; k < 3; k++) {
        fd = tcp_connect(f.port);
        if (k == 0)
            memcpy(junk, "\x16\x03\x01\x02\x00", 5);
        if (k == 1)
            memcpy(junk, "\x16\x03\x03\xff\xff", 5);
        if (k == 2)
            junk[0] = 0x80;
        send(fd, junk, sizeof junk, MSG_NOSIGNAL);
        r = recv(fd, buf, sizeof buf, 0);
        CHECK_MSG(r <= 0 || (k < 2 && buf[0] == 0x15), "k=%d: got %zd bytes", k, r);  /* alert or close */
        close(fd);
    }
    /* still serving */
    client c;
    bool closed;
    CHECK_EQ(cli_open(&c, f.port), 0);
    CHECK(cli_write(&c, req, strlen(req)));
    cli_response(&c, buf, sizeof buf, &closed);
    CHECK_EQ(status_of(buf), 200);
    cli_close(&c, true);
    stop(&f);
}

TEST(client_leaving_mid_stream_is_noticed)
{
    fixture f;
    if (!start(&f, 16))
        return;
    for (int round = 0; round < 2; round++) {
        atomic_store(&g_stream_result, 0);
        atomic_store(&g_stream_writes, 0);
        client c;
        CHECK_EQ(cli_open(&c, f.port), 0);
        const char *req = "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n";
        CHECK(cli_write(&c, req, strlen(req)));
        char buf[4096];
        int r = mbedtls_ssl_read(&c.ssl, (unsigned char *)buf, sizeof buf - 1);
        CHECK(r > 0);
        buf[r > 0 ? r : 0] = 0;
        CHECK(strstr(buf, "Transfer-Encoding: chunked") != NULL);
        CHECK(strstr(buf, "text/event-stream") != NULL);
        while (atomic_load(&g_stream_writes) < 3)
            nanosleep(&(struct timespec){ 0, 5 * 1000 * 1000 }, NULL);
        /* round 0: vanish without a word; round 1: a polite close_notify */
        cli_close(&c, round == 1);
        long long t0 = ms_now();
        while (atomic_load(&g_stream_result) == 0 && ms_now() - t0 < 10000)
            nanosleep(&(struct timespec){ 0, 10 * 1000 * 1000 }, NULL);
        CHECK_MSG(atomic_load(&g_stream_result) == 1, "round %d: handler result %d after %lld ms", round,
                  atomic_load(&g_stream_result), ms_now() - t0);
        CHECK(ms_now() - t0 < 5000);
    }
    stop(&f);
}

TEST(connections_beyond_max_get_503_and_server_recovers)
{
    fixture f;
    /* a long header timeout: the held connections must outlive the test's handshakes */
    if (!start_with(&f, 4, 20000))
        return;
    client held[4], extra[10];
    for (int i = 0; i < 4; i++)
        CHECK_EQ(cli_open(&held[i], f.port), 0);
    /* the four hold their slots (a handshake done, no request yet) */
    int got503 = 0, got200 = 0, refused = 0;
    for (int i = 0; i < 10; i++) {
        int rc = cli_open(&extra[i], f.port);
        if (rc != 0) {
            refused++;
            continue;
        }
        char buf[2048];
        bool closed;
        cli_write(&extra[i], "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n", strlen("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"));
        cli_response(&extra[i], buf, sizeof buf, &closed);
        int st = status_of(buf);
        got503 += st == 503;
        got200 += st == 200;
        refused += st != 503 && st != 200;
    }
    CHECK_EQ(got200, 0);
    CHECK_MSG(got503 >= 1, "503: %d, refused: %d", got503, refused);
    CHECK_EQ(got503 + refused, 10);
    for (int i = 0; i < 10; i++)
        cli_close(&extra[i], false);
    /* the held connections still work */
    for (int i = 0; i < 4; i++) {
        char buf[2048];
        bool closed;
        CHECK(cli_write(&held[i], "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", strlen("GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")));
        cli_response(&held[i], buf, sizeof buf, &closed);
        CHECK_EQ(status_of(buf), 200);
        cli_close(&held[i], true);
    }
    /* slots free again once those threads end */
    int st = 0;
    for (long long t0 = ms_now(); st != 200 && ms_now() - t0 < 5000;) {
        client c;
        char buf[2048];
        bool closed;
        if (cli_open(&c, f.port) == 0 && cli_write(&c, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n", strlen("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"))) {
            cli_response(&c, buf, sizeof buf, &closed);
            st = status_of(buf);
        }
        cli_close(&c, true);
    }
    CHECK_EQ(st, 200);
    stop(&f);
}

TEST(stop_with_idle_connection_returns)
{
    fixture f;
    if (!start(&f, 16))
        return;
    client c;
    CHECK_EQ(cli_open(&c, f.port), 0);
    long long t0 = ms_now();
    stop(&f);  /* the idle keep-alive connection must not hold it for the 3 s idle timeout */
    CHECK(ms_now() - t0 < 2500);
    cli_close(&c, false);
}

TEST(stop_ends_running_streams)
{
    fixture f;
    if (!start(&f, 16))
        return;
    atomic_store(&g_stream_result, 0);
    atomic_store(&g_stream_writes, 0);
    client c;
    CHECK_EQ(cli_open(&c, f.port), 0);
    CHECK(cli_write(&c, "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n", strlen("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")));
    long long t0 = ms_now();
    while (atomic_load(&g_stream_writes) < 3 && ms_now() - t0 < 5000)
        nanosleep(&(struct timespec){ 0, 5 * 1000 * 1000 }, NULL);
    t0 = ms_now();
    stop(&f);  /* the endless stream (20 s) ends at once */
    CHECK(ms_now() - t0 < 2500);
    CHECK_EQ(atomic_load(&g_stream_result), 1);
    cli_close(&c, false);
}

TEST(bad_listen_addresses)
{
    lb_server_config cfg = { .listen = "nonsense", .tls_dir = lb_test_tmpdir(), .handler = handler };
    lb_server *s = NULL;
    lb_err err = { 0 };
    CHECK_EQ(lb_server_new(&cfg, &s, &err), LB_EINVAL);
    CHECK(s == NULL);
    cfg.listen = "[::1]:0";
    int rc = lb_server_new(&cfg, &s, &err);
    if (rc == LB_OK) {  /* IPv6 loopback may be absent in a container */
        CHECK(lb_server_port(s) > 0);
        lb_server_free(s);
    }
    cfg.listen = "999.1.1.1:80";
    CHECK(lb_server_new(&cfg, &s, &err) != LB_OK);
}

TEST(client_that_stops_reading_is_dropped_after_write_timeout)
{
    fixture f;
    if (!start(&f, 16))
        return;
    atomic_store(&g_big_result, 0);
    client c;
    CHECK_EQ(cli_open(&c, f.port), 0);
    CHECK(cli_write(&c, "GET /big HTTP/1.1\r\nHost: x\r\n\r\n", strlen("GET /big HTTP/1.1\r\nHost: x\r\n\r\n")));
    /* never read: the server's write must give up (write timeout 2 s) */
    long long t0 = ms_now();
    while (atomic_load(&g_big_result) == 0 && ms_now() - t0 < 15000)
        nanosleep(&(struct timespec){ 0, 20 * 1000 * 1000 }, NULL);
    CHECK_MSG(atomic_load(&g_big_result) == -1, "result %d after %lld ms", atomic_load(&g_big_result), ms_now() - t0);
    cli_close(&c, false);
    stop(&f);
}

TEST(only_modern_tls)
{
    fixture f;
    if (!start(&f, 16))
        return;
    char cmd[512], out[256];
    const struct { const char *args; bool ok; } cases[] = {
        { "--tls-max 1.1", false },
        { "--tlsv1.3", false },
        { "--tls-max 1.2 --ciphers AES128-SHA", false },
        { "--tls-max 1.2 --ciphers ECDHE-ECDSA-AES128-SHA", false },
        { "--tls-max 1.2 --ciphers ECDHE-ECDSA-CHACHA20-POLY1305", true },
        { "--tls-max 1.2 --ciphers ECDHE-ECDSA-AES256-GCM-SHA384", true },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        snprintf(cmd, sizeof cmd, "curl -sk --max-time 10 %s https://127.0.0.1:%d/hello 2>/dev/null", cases[i].args, f.port);
        int rc = run_cmd(cmd, out, sizeof out);
        CHECK_MSG((rc == 0 && strcmp(out, "hello") == 0) == cases[i].ok, "curl %s: rc %d out '%s'", cases[i].args, rc, out);
    }
    stop(&f);
}
