/* HTTPS/1.1 server core (see server.h). One detached thread per connection; sockets are
 * non-blocking and every wait is a poll() against an absolute deadline, so a slow client
 * can never hold a thread longer than the configured timeouts. */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>

#include "http_parse.h"
#include "json.h"
#include "log.h"
#include "tls.h"

#define THREAD_STACK (1024 * 1024)
#define LINGER_MS 2000
#define LINGER_BYTES (256 * 1024)
#define OVERFLOW_HANDSHAKE_MS 5000

struct lb_server {
    lb_server_limits lim;
    lb_handler_fn handler;
    void *ud;
    lb_tls *tls;
    int lfd;
    int port;
    int wake[2];  /* self-pipe: lb_server_stop is async-signal-safe */
    atomic_int stopping;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int n_conns, n_overflow, max_overflow;
    lb_conn *conns;  /* live connections, so stop can wake them */
};

struct lb_conn {
    lb_server *srv;
    int fd;
    bool overflow;      /* beyond max_conns: answer 503 and close */
    bool ssl_ready;
    mbedtls_ssl_context ssl;
    char peer[64];
    lb_http_parser hp;
    char rbuf[16384];   /* decrypted bytes not yet fed to the parser */
    size_t rlen, roff;
    /* response state of the current request */
    bool responded, streaming, stream_ended, keep_alive, broken;
    char extra[1024];   /* extra response headers, CRLF-terminated lines */
    size_t extra_len;
    char *wbuf;
    size_t wcap;
    lb_conn *prev, *next;
};

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* 1 ready, 0 deadline passed, -1 error. */
static int wait_fd(int fd, short events, long long deadline)
{
    for (;;) {
        long long left = deadline - now_ms();
        if (left <= 0)
            return 0;
        struct pollfd p = { .fd = fd, .events = events };
        int r = poll(&p, 1, left > 1000000 ? 1000000 : (int)left);
        if (r > 0)
            return 1;
        if (r < 0 && errno != EINTR)
            return -1;
    }
}

/* ---- mbedTLS I/O over the non-blocking socket ---- */

static int bio_send(void *ctx, const unsigned char *buf, size_t len)
{
    lb_conn *c = ctx;
    ssize_t n = send(c->fd, buf, len, MSG_NOSIGNAL);
    if (n >= 0)
        return (int)n;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        return MBEDTLS_ERR_SSL_WANT_WRITE;
    return errno == EPIPE || errno == ECONNRESET ? MBEDTLS_ERR_NET_CONN_RESET : MBEDTLS_ERR_NET_SEND_FAILED;
}

static int bio_recv(void *ctx, unsigned char *buf, size_t len)
{
    lb_conn *c = ctx;
    ssize_t n = recv(c->fd, buf, len, 0);
    if (n >= 0)
        return (int)n;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        return MBEDTLS_ERR_SSL_WANT_READ;
    return errno == ECONNRESET ? MBEDTLS_ERR_NET_CONN_RESET : MBEDTLS_ERR_NET_RECV_FAILED;
}

/* Waits for what mbedTLS asked for; false when the deadline passed or the socket failed. */
static bool tls_wait(lb_conn *c, int r, long long deadline)
{
    if (r != MBEDTLS_ERR_SSL_WANT_READ && r != MBEDTLS_ERR_SSL_WANT_WRITE)
        return false;
    return wait_fd(c->fd, r == MBEDTLS_ERR_SSL_WANT_READ ? POLLIN : POLLOUT, deadline) > 0;
}

/* >0 bytes, 0 end of stream, -1 error or deadline. */
static int conn_recv(lb_conn *c, char *buf, size_t cap, long long deadline, bool *timed_out)
{
    *timed_out = false;
    for (;;) {
        int r = mbedtls_ssl_read(&c->ssl, (unsigned char *)buf, cap);
        if (r > 0)
            return r;
        if (r == 0 || r == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY)
            return 0;
        if (!tls_wait(c, r, deadline)) {
            *timed_out = (r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE) && now_ms() >= deadline;
            return -1;
        }
    }
}

static int conn_send(lb_conn *c, const char *data, size_t len)
{
    if (c->broken)
        return -1;
    long long deadline = now_ms() + c->srv->lim.write_timeout_ms;
    size_t off = 0;
    while (off < len) {
        int r = mbedtls_ssl_write(&c->ssl, (const unsigned char *)data + off, len - off);
        if (r > 0) {
            off += (size_t)r;
            continue;
        }
        if (!tls_wait(c, r, deadline)) {
            c->broken = true;
            return -1;
        }
    }
    return 0;
}

/* ---- responses ---- */

static const char *reason_phrase(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return status < 400 ? "OK" : "Error";
    }
}

static bool wbuf_reserve(lb_conn *c, size_t n)
{
    if (n <= c->wcap)
        return true;
    size_t cap = c->wcap ? c->wcap : 4096;
    while (cap < n)
        cap *= 2;
    char *nb = realloc(c->wbuf, cap);
    if (!nb)
        return false;
    c->wbuf = nb;
    c->wcap = cap;
    return true;
}

/* Formats the status line and headers into c->wbuf; returns their length or 0. */
static size_t format_head(lb_conn *c, int status, const char *content_type, bool chunked, size_t len)
{
    if (!wbuf_reserve(c, 512 + sizeof c->extra))
        return 0;
    char framing[64];
    if (chunked)
        snprintf(framing, sizeof framing, "Transfer-Encoding: chunked\r\n");
    else if (c->streaming)  /* HTTP/1.0 stream: the end of the connection ends the body */
        framing[0] = 0;
    else
        snprintf(framing, sizeof framing, "Content-Length: %zu\r\n", len);
    /* Keep-Alive tells clients (Node's agent among them) when an idle connection will be
     * closed, so they do not send a request into a closing socket. */
    char conn[64];
    if (c->keep_alive)
        snprintf(conn, sizeof conn, "keep-alive\r\nKeep-Alive: timeout=%d", c->srv->lim.idle_timeout_ms / 1000);
    else
        snprintf(conn, sizeof conn, "close");
    int n = snprintf(c->wbuf, c->wcap,
                     "HTTP/1.1 %d %s\r\nContent-Type: %.100s\r\n%sCache-Control: no-store\r\nConnection: %s\r\n%.*s\r\n",
                     status, reason_phrase(status), content_type ? content_type : "application/octet-stream",
                     framing, conn, (int)c->extra_len, c->extra);
    c->extra_len = 0;
    return n > 0 && (size_t)n < c->wcap ? (size_t)n : 0;
}

int lb_conn_add_header(lb_conn *c, const char *name, const char *value)
{
    if (!name || !value || strpbrk(name, "\r\n:") || strpbrk(value, "\r\n") || !*name)
        return LB_EINVAL;
    int n = snprintf(c->extra + c->extra_len, sizeof c->extra - c->extra_len, "%s: %s\r\n", name, value);
    if (n < 0 || (size_t)n >= sizeof c->extra - c->extra_len)
        return LB_EINVAL;
    c->extra_len += (size_t)n;
    return LB_OK;
}

int lb_conn_respond(lb_conn *c, int status, const char *content_type, const char *body, size_t len)
{
    if (c->responded)
        return LB_EINVAL;
    c->responded = true;
    if (c->hp.is_head)
        body = NULL;
    size_t h = format_head(c, status, content_type, false, len);
    size_t blen = body ? len : 0;
    if (!h) {
        c->broken = true;
        return LB_ENOMEM;
    }
    if (blen > 16384)  /* large bodies go out as they are, not copied */
        return conn_send(c, c->wbuf, h) || conn_send(c, body, blen) ? LB_EIO : LB_OK;
    if (!wbuf_reserve(c, h + blen)) {
        c->broken = true;
        return LB_ENOMEM;
    }
    if (blen)
        memcpy(c->wbuf + h, body, blen);
    return conn_send(c, c->wbuf, h + blen) ? LB_EIO : LB_OK;
}

int lb_conn_stream_begin(lb_conn *c, int status, const char *content_type)
{
    if (c->responded)
        return LB_EINVAL;
    c->responded = c->streaming = true;
    bool chunked = !c->hp.http10;
    if (!chunked)
        c->keep_alive = false;
    size_t h = format_head(c, status, content_type, chunked, 0);
    if (!h) {
        c->broken = true;
        return LB_ENOMEM;
    }
    return conn_send(c, c->wbuf, h) ? LB_EIO : LB_OK;
}

int lb_conn_stream_write(lb_conn *c, const char *data, size_t len)
{
    if (!c->streaming || c->stream_ended)
        return LB_EINVAL;
    if (c->broken || lb_conn_peer_gone(c)) {
        c->broken = true;
        return LB_EIO;
    }
    if (len == 0 || c->hp.is_head)
        return LB_OK;  /* an empty chunk would end the stream */
    if (c->hp.http10)
        return conn_send(c, data, len) ? LB_EIO : LB_OK;
    if (!wbuf_reserve(c, len + 32)) {
        c->broken = true;
        return LB_ENOMEM;
    }
    int h = snprintf(c->wbuf, 24, "%zx\r\n", len);
    memcpy(c->wbuf + h, data, len);
    memcpy(c->wbuf + h + len, "\r\n", 2);
    return conn_send(c, c->wbuf, (size_t)h + len + 2) ? LB_EIO : LB_OK;
}

int lb_conn_stream_end(lb_conn *c)
{
    if (!c->streaming || c->stream_ended)
        return LB_EINVAL;
    c->stream_ended = true;
    if (c->hp.http10 || c->hp.is_head)
        return c->broken ? LB_EIO : LB_OK;
    return conn_send(c, "0\r\n\r\n", 5) ? LB_EIO : LB_OK;
}

bool lb_conn_peer_gone(lb_conn *c)
{
    if (c->broken)
        return true;
    struct pollfd p = { .fd = c->fd, .events = POLLIN | POLLRDHUP };
    if (poll(&p, 1, 0) <= 0)
        return false;
    if (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL))
        return true;
    if (p.revents & POLLIN) {
        unsigned char b;
        ssize_t n = recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
            return true;
        if (n == 1 && b == 0x15)  /* a TLS alert record: close_notify or a fatal error */
            return true;
    }
    return false;
}

/* OpenAI-style error body for errors the core answers itself. */
static void respond_error(lb_conn *c, int status, const char *msg, bool close)
{
    lb_jw w;
    lb_jw_init(&w);
    lb_jw_obj_begin(&w);
    lb_jw_key(&w, "error");
    lb_jw_obj_begin(&w);
    lb_jw_key(&w, "message");
    lb_jw_str(&w, msg);
    lb_jw_key(&w, "type");
    lb_jw_str(&w, status >= 500 ? "server_error" : "invalid_request_error");
    lb_jw_key(&w, "param");
    lb_jw_null(&w);
    lb_jw_key(&w, "code");
    lb_jw_null(&w);
    lb_jw_obj_end(&w);
    lb_jw_obj_end(&w);
    if (close)
        c->keep_alive = false;
    if (!w.failed)
        lb_conn_respond(c, status, "application/json", w.buf, w.len);
    lb_jw_free(&w);
}

/* ---- connection lifecycle ---- */

/* Closes so the client reads everything sent: close_notify, half-close, then discard what
 * the client still sends for a moment (closing with unread data would send a reset). */
static void conn_close(lb_conn *c, bool linger)
{
    if (c->ssl_ready && !c->broken) {
        long long deadline = now_ms() + 1000;
        int r;
        while ((r = mbedtls_ssl_close_notify(&c->ssl)) != 0 && tls_wait(c, r, deadline)) {
        }
    }
    shutdown(c->fd, SHUT_WR);
    if (linger) {
        long long deadline = now_ms() + LINGER_MS;
        char buf[4096];
        size_t total = 0;
        while (total < LINGER_BYTES && wait_fd(c->fd, POLLIN, deadline) > 0) {
            ssize_t n = recv(c->fd, buf, sizeof buf, 0);
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
                break;
            if (n > 0)
                total += (size_t)n;
        }
    }
    /* under the lock: lb_server_run may be calling shutdown() on this descriptor */
    pthread_mutex_lock(&c->srv->mu);
    close(c->fd);
    c->fd = -1;
    pthread_mutex_unlock(&c->srv->mu);
}

static void send_plain(int fd, const char *msg)
{
    char buf[512];
    int n = snprintf(buf, sizeof buf,
                     "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n%s", strlen(msg), msg);
    /* small enough for an empty socket buffer: one non-blocking send */
    if (send(fd, buf, (size_t)n, MSG_NOSIGNAL) < 0)
        LOG_DEBUG("server: plain reply: %s", strerror(errno));
}

/* Peeks the first byte: a TLS handshake record starts with 0x16. */
static int check_first_byte(lb_conn *c, long long deadline)
{
    if (wait_fd(c->fd, POLLIN, deadline) <= 0)
        return -1;
    unsigned char b;
    ssize_t n = recv(c->fd, &b, 1, MSG_PEEK);
    if (n <= 0)
        return -1;
    if (b == 0x16)
        return 0;
    if (b >= 'A' && b <= 'Z') {
        LOG_DEBUG("server: %s: plain HTTP on the TLS port", c->peer);
        send_plain(c->fd, "this server speaks HTTPS: use https:// instead of http://\n");
        return 1;
    }
    LOG_DEBUG("server: %s: not a TLS handshake (first byte 0x%02x)", c->peer, b);
    return -1;
}

static bool handshake(lb_conn *c, long long deadline)
{
    int r;
    if ((r = mbedtls_ssl_setup(&c->ssl, lb_tls_conf(c->srv->tls))) != 0) {
        char e[128];
        LOG_ERR("server: TLS setup: %s", lb_tls_strerror(r, e, sizeof e));
        return false;
    }
    mbedtls_ssl_set_bio(&c->ssl, c, bio_send, bio_recv, NULL);
    c->ssl_ready = true;
    while ((r = mbedtls_ssl_handshake(&c->ssl)) != 0) {
        if (!tls_wait(c, r, deadline)) {
            char e[128];
            LOG_DEBUG("server: %s: TLS handshake failed: %s", c->peer,
                      r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE ? "timeout"
                                                                                      : lb_tls_strerror(r, e, sizeof e));
            c->broken = true;  /* no close_notify on a half-made session */
            return false;
        }
    }
    return true;
}

/* Reads one request into c->hp. The first byte must come by idle_deadline; the head must be
 * complete header_timeout after its first byte, and never later than head_cap (if set: the
 * first request of a connection shares one deadline with the handshake).
 * 1 = request ready, 0 = connection done (closed/idle), -1 = error already answered. */
static int read_request(lb_conn *c, long long idle_deadline, long long head_cap)
{
    const lb_server_limits *lim = &c->srv->lim;
    long long head_deadline = 0, body_deadline = 0;
    bool got_head = false, feed_again = false;
    lb_hp_reset(&c->hp);
    for (;;) {
        /* after the head, feed once more even with nothing buffered: a request without a
         * body is complete right there */
        if (c->roff < c->rlen || feed_again) {
            feed_again = false;
            size_t used = 0;
            bool was_idle = lb_hp_idle(&c->hp);
            lb_hp_result r = lb_hp_feed(&c->hp, c->rbuf + c->roff, c->rlen - c->roff, &used);
            c->roff += used;
            if (was_idle && !lb_hp_idle(&c->hp)) {
                long long d = now_ms() + lim->header_timeout_ms;
                head_deadline = head_cap && head_cap < d ? head_cap : d;
            }
            if (r == LB_HP_ERROR) {
                respond_error(c, c->hp.status, c->hp.reason, true);
                return -1;
            }
            if (r == LB_HP_HEAD) {
                got_head = true;
                body_deadline = now_ms() + lim->body_timeout_ms;
                if (c->hp.expect_continue && conn_send(c, "HTTP/1.1 100 Continue\r\n\r\n", 25))
                    return -1;
                feed_again = true;
                continue;
            }
            if (r == LB_HP_DONE)
                return 1;
            continue;
        }
        c->roff = c->rlen = 0;
        bool timed_out;
        long long deadline = lb_hp_idle(&c->hp) ? idle_deadline : got_head ? body_deadline : head_deadline;
        int n = conn_recv(c, c->rbuf, sizeof c->rbuf, deadline, &timed_out);
        if (n > 0) {
            c->rlen = (size_t)n;
            continue;
        }
        if (n == 0 || lb_hp_idle(&c->hp) || atomic_load(&c->srv->stopping))
            return 0;  /* closed, or idle timeout between requests */
        if (timed_out) {
            respond_error(c, 408, got_head ? "request body not received in time" : "request head not received in time", true);
            return -1;
        }
        c->broken = true;
        return 0;
    }
}

static void serve(lb_conn *c)
{
    lb_server *s = c->srv;
    long long deadline = now_ms() + (c->overflow && s->lim.header_timeout_ms > OVERFLOW_HANDSHAKE_MS
                                         ? OVERFLOW_HANDSHAKE_MS : s->lim.header_timeout_ms);
    int first = check_first_byte(c, deadline);
    if (first != 0) {
        conn_close(c, first > 0);
        return;
    }
    if (!handshake(c, deadline)) {
        conn_close(c, false);
        return;
    }
    if (c->overflow) {
        respond_error(c, 503, "too many connections; try again later", true);
        conn_close(c, true);
        return;
    }
    lb_hp_init(&c->hp, s->lim.max_header_bytes, s->lim.max_body_bytes);
    bool linger = false;
    for (int n = 0;; n++) {
        /* fresh response state: errors found while reading are answered too */
        c->responded = c->streaming = c->stream_ended = c->keep_alive = false;
        c->extra_len = 0;
        int r = n == 0 ? read_request(c, deadline, deadline) : read_request(c, now_ms() + s->lim.idle_timeout_ms, 0);
        if (r <= 0) {
            linger = r < 0;
            break;
        }
        bool pipelined = c->roff < c->rlen || mbedtls_ssl_get_bytes_avail(&c->ssl) > 0;
        c->keep_alive = c->hp.keep_alive && !pipelined && !atomic_load(&s->stopping);
        lb_http_req *req = &c->hp.req;
        snprintf(req->peer, sizeof req->peer, "%s", c->peer);
        s->handler(s->ud, c, req);
        if (!c->responded) {
            if (lb_conn_peer_gone(c)) {
                c->broken = true;  /* the handler gave up on a client that left: nobody to tell */
            } else {
                LOG_ERR("server: handler sent no response to %s %s", req->method, req->path);
                respond_error(c, 500, "internal error: no response", false);
            }
        }
        if (c->streaming && !c->stream_ended) {
            c->keep_alive = false;  /* the handler gave up mid-stream */
            lb_conn_stream_end(c);
        }
        if (c->broken || !c->keep_alive) {
            linger = pipelined;
            break;
        }
    }
    conn_close(c, linger);
}

static void *conn_thread(void *arg)
{
    lb_conn *c = arg;
    lb_server *s = c->srv;
    serve(c);
    mbedtls_ssl_free(&c->ssl);
    lb_hp_free(&c->hp);
    free(c->wbuf);
    pthread_mutex_lock(&s->mu);
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    if (c->overflow)
        s->n_overflow--;
    else
        s->n_conns--;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    free(c);
    return NULL;
}

static void format_peer(const struct sockaddr_storage *ss, char *out, size_t cap)
{
    char host[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *a = (const void *)ss;
        inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
        port = ntohs(a->sin_port);
        snprintf(out, cap, "%s:%d", host, port);
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const void *)ss;
        port = ntohs(a->sin6_port);
        if (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr)) {
            inet_ntop(AF_INET, &a->sin6_addr.s6_addr[12], host, sizeof host);
            snprintf(out, cap, "%s:%d", host, port);
        } else {
            inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
            snprintf(out, cap, "[%s]:%d", host, port);
        }
    } else {
        snprintf(out, cap, "?");
    }
}

static void accept_one(lb_server *s)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    int fd = accept4(s->lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
            LOG_WARN("server: accept: %s", strerror(errno));
            poll(NULL, 0, 100);  /* let connections finish instead of spinning */
        }
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    lb_conn *c = calloc(1, sizeof *c);
    if (!c) {
        close(fd);
        return;
    }
    c->srv = s;
    c->fd = fd;
    mbedtls_ssl_init(&c->ssl);
    format_peer(&ss, c->peer, sizeof c->peer);
    pthread_mutex_lock(&s->mu);
    bool ok = true;
    if (s->n_conns < s->lim.max_conns)
        s->n_conns++;
    else if (s->n_overflow < s->max_overflow)
        s->n_overflow++, c->overflow = true;
    else
        ok = false;
    if (ok) {
        c->next = s->conns;
        if (s->conns)
            s->conns->prev = c;
        s->conns = c;
    }
    pthread_mutex_unlock(&s->mu);
    if (!ok) {
        LOG_DEBUG("server: %s: connection limit reached, closed", c->peer);
        close(fd);
        mbedtls_ssl_free(&c->ssl);
        free(c);
        return;
    }
    if (c->overflow)
        LOG_WARN("server: %s: more than %d connections, answering 503", c->peer, s->lim.max_conns);
    pthread_attr_t attr;
    pthread_t th;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, THREAD_STACK);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int rc = pthread_create(&th, &attr, conn_thread, c);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        LOG_WARN("server: cannot start a connection thread: %s", strerror(rc));
        c->broken = true;
        close(c->fd);
        c->fd = -1;
        /* unregister exactly as the thread would */
        pthread_mutex_lock(&s->mu);
        if (c->prev)
            c->prev->next = c->next;
        else
            s->conns = c->next;
        if (c->next)
            c->next->prev = c->prev;
        if (c->overflow)
            s->n_overflow--;
        else
            s->n_conns--;
        pthread_mutex_unlock(&s->mu);
        mbedtls_ssl_free(&c->ssl);
        free(c);
    }
}

/* ---- setup ---- */

static int open_listener(lb_server *s, const char *listen_on, lb_err *err)
{
    char host[128], port[16];
    const char *colon = strrchr(listen_on, ':');
    if (!colon || colon[1] == 0 || strlen(colon + 1) >= sizeof port)
        return lb_err_set(err, LB_EINVAL, "server: listen address \"%s\" is not ADDR:PORT", listen_on);
    size_t hl = (size_t)(colon - listen_on);
    const char *h = listen_on;
    if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']')
        h++, hl -= 2;
    if (hl >= sizeof host)
        return lb_err_set(err, LB_EINVAL, "server: listen address \"%s\" too long", listen_on);
    memcpy(host, h, hl);
    host[hl] = 0;
    snprintf(port, sizeof port, "%s", colon + 1);
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_PASSIVE | AI_NUMERICSERV }, *ai = NULL;
    int rc = getaddrinfo(hl ? host : NULL, port, &hints, &ai);
    if (rc != 0)
        return lb_err_set(err, LB_EINVAL, "server: listen address \"%s\": %s", listen_on, gai_strerror(rc));
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1, zero = 0;
    if (fd >= 0) {
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (ai->ai_family == AF_INET6)  /* "[::]" also takes IPv4 */
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
    }
    if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 128) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        freeaddrinfo(ai);
        return lb_err_set(err, LB_EIO, "server: cannot listen on %s: %s", listen_on, strerror(e));
    }
    freeaddrinfo(ai);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    getsockname(fd, (struct sockaddr *)&ss, &sl);
    s->port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                            : ((struct sockaddr_in6 *)&ss)->sin6_port);
    s->lfd = fd;
    return LB_OK;
}

int lb_server_new(const lb_server_config *cfg, lb_server **out, lb_err *err)
{
    *out = NULL;
    if (!cfg || !cfg->handler)
        return lb_err_set(err, LB_EINVAL, "server: no handler");
    lb_server *s = calloc(1, sizeof *s);
    if (!s)
        return lb_err_set(err, LB_ENOMEM, "server: out of memory");
    s->lfd = s->wake[0] = s->wake[1] = -1;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    s->lim = cfg->limits;
    if (!s->lim.max_header_bytes)
        s->lim.max_header_bytes = 16 * 1024;
    if (!s->lim.max_body_bytes)
        s->lim.max_body_bytes = 1024 * 1024;
    if (s->lim.header_timeout_ms <= 0)
        s->lim.header_timeout_ms = 10000;
    if (s->lim.body_timeout_ms <= 0)
        s->lim.body_timeout_ms = 30000;
    if (s->lim.idle_timeout_ms <= 0)
        s->lim.idle_timeout_ms = 60000;
    if (s->lim.write_timeout_ms <= 0)
        s->lim.write_timeout_ms = 30000;
    if (s->lim.max_conns <= 0)
        s->lim.max_conns = 128;
    s->max_overflow = s->lim.max_conns / 4 + 4;
    s->handler = cfg->handler;
    s->ud = cfg->ud;
    int ret;
    if (pipe2(s->wake, O_NONBLOCK | O_CLOEXEC) != 0) {
        ret = lb_err_set(err, LB_EIO, "server: pipe: %s", strerror(errno));
        goto fail;
    }
    if ((ret = lb_tls_new(cfg->tls_dir, cfg->hostname, &s->tls, err)))
        goto fail;
    if ((ret = open_listener(s, cfg->listen && *cfg->listen ? cfg->listen : "0.0.0.0:443", err)))
        goto fail;
    *out = s;
    return LB_OK;
fail:
    lb_server_free(s);
    return ret;
}

int lb_server_run(lb_server *s, lb_err *err)
{
    (void)err;
    while (!atomic_load(&s->stopping)) {
        struct pollfd p[2] = { { .fd = s->lfd, .events = POLLIN }, { .fd = s->wake[0], .events = POLLIN } };
        int r = poll(p, 2, -1);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return lb_err_set(err, LB_EIO, "server: poll: %s", strerror(errno));
        }
        if (p[0].revents & POLLIN)
            accept_one(s);
    }
    /* Stop: no new requests; idle connections see end of input at once, requests being
     * answered may finish writing. */
    pthread_mutex_lock(&s->mu);
    for (lb_conn *c = s->conns; c; c = c->next)
        if (c->fd >= 0)
            shutdown(c->fd, SHUT_RD);
    while (s->n_conns + s->n_overflow > 0)
        pthread_cond_wait(&s->cv, &s->mu);
    pthread_mutex_unlock(&s->mu);
    return LB_OK;
}

void lb_server_stop(lb_server *s)
{
    /* async-signal-safe: an atomic store and a write */
    atomic_store(&s->stopping, 1);
    if (s->wake[1] >= 0) {
        ssize_t n = write(s->wake[1], "x", 1);
        (void)n;
    }
}

void lb_server_free(lb_server *s)
{
    if (!s)
        return;
    if (s->lfd >= 0)
        close(s->lfd);
    if (s->wake[0] >= 0)
        close(s->wake[0]);
    if (s->wake[1] >= 0)
        close(s->wake[1]);
    lb_tls_free(s->tls);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s);
}

const char *lb_server_fingerprint(const lb_server *s)
{
    return lb_tls_fingerprint(s->tls);
}

int lb_server_port(const lb_server *s)
{
    return s->port;
}
