/* The static musl build of the server: certificate generation (getrandom, getifaddrs),
 * listening (getaddrinfo), and a request/stream round trip checked with curl. */
#include "../lib/harness.h"
#include "server.h"

#include <pthread.h>
#include <stdlib.h>

static void handler(void *ud, lb_conn *c, const lb_http_req *req)
{
    (void)ud;
    if (strcmp(req->path, "/stream") == 0) {
        lb_conn_stream_begin(c, 200, "text/event-stream");
        lb_conn_stream_write(c, "data: a\n\n", 9);
        lb_conn_stream_write(c, "data: b\n\n", 9);
        lb_conn_stream_end(c);
        return;
    }
    lb_conn_respond(c, 200, "text/plain", req->body_len ? req->body : "hello", req->body_len ? req->body_len : 5);
}

static void *run(void *arg)
{
    lb_err err = { 0 };
    lb_server_run(arg, &err);
    return NULL;
}

static void curl(const char *args, int port, const char *path, char *out, size_t cap)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "curl -sk --max-time 10 %s 'https://127.0.0.1:%d%s'", args, port, path);
    FILE *p = popen(cmd, "r");
    size_t n = p ? fread(out, 1, cap - 1, p) : 0;
    out[n] = 0;
    if (p)
        pclose(p);
}

TEST(musl_server_round_trip)
{
    char dir[512];
    snprintf(dir, sizeof dir, "%s/tls", lb_test_tmpdir());
    lb_server_config cfg = { .listen = "127.0.0.1:0", .tls_dir = dir, .handler = handler };
    lb_server *s = NULL;
    lb_err err = { 0 };
    CHECK_MSG(lb_server_new(&cfg, &s, &err) == LB_OK, "%s", err.msg);
    if (!s)
        return;
    pthread_t th;
    pthread_create(&th, NULL, run, s);
    char out[1024];
    curl("", lb_server_port(s), "/hello", out, sizeof out);
    CHECK_STR(out, "hello");
    curl("--data-binary posted", lb_server_port(s), "/echo", out, sizeof out);
    CHECK_STR(out, "posted");
    curl("-N", lb_server_port(s), "/stream", out, sizeof out);
    CHECK_STR(out, "data: a\n\ndata: b\n\n");
    lb_server_stop(s);
    pthread_join(th, NULL);
    lb_server_free(s);
}
