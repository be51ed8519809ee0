/* llmboxd: the appliance's service. Loads the model, serves the OpenAI-compatible API over
 * HTTPS with an API key, and stops gracefully on SIGTERM/SIGINT. */
#include <errno.h>
#include <ifaddrs.h>
#include <limits.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api.h"
#include "api_power.h"
#include "apikey.h"
#include "engine.h"
#include "log.h"
#include "scheduler.h"
#include "server.h"
#include "version.h"

typedef struct opts {
    const char *model, *listen, *tls_dir, *key_file, *hugetlb_dir, *power, *sysfs_root;
    int parallel, ctx, threads, queue, batch, power_idle_ms;
    int header_timeout_ms, max_conns, max_body_kib;
    bool metrics_open, debug;
} opts;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: llmboxd --model FILE [options]\n"
            "  --listen ADDR:PORT     address to serve HTTPS on (default 0.0.0.0:443)\n"
            "  --tls-dir DIR          cert.pem + key.pem; generated when empty (default /var/lib/llmbox/tls)\n"
            "  --api-key-file FILE    API key; generated when missing (default /var/lib/llmbox/api.key)\n"
            "  --parallel N           concurrent generation slots (default 4)\n"
            "  --queue N              requests waiting beyond the slots before 429 (default 64)\n"
            "  --ctx N                context positions per slot (default: model's, at most 4096)\n"
            "  --batch N              max tokens per decode step (default 512)\n"
            "  -t, --threads N        compute threads (default: physical cores)\n"
            "  --hugetlb-dir DIR      hugetlbfs mount for the weights (reused across restarts)\n"
            "  --power POLICY         performance|balanced|powersave (default balanced)\n"
            "  --power-idle-ms N      balanced: back to the idle profile after N ms without requests\n"
            "  --sysfs-root DIR       sysfs to control instead of /sys (tests)\n"
            "  --metrics-open         serve /metrics without the API key\n"
            "  --max-body-kib N       largest request body (default 1024)\n"
            "  --max-conns N          concurrent connections (default 128)\n"
            "  --header-timeout-ms N  time for a request's headers to arrive (default 10000)\n"
            "  --debug                debug logging\n"
            "  --version              print the version\n");
}

static int parse_int(const char *s, int lo, int hi, const char *name, int *out)
{
    char *end = NULL;
    errno = 0;
    long v = s ? strtol(s, &end, 10) : 0;
    if (!s || !*s || *end || errno || v < lo || v > hi) {
        fprintf(stderr, "llmboxd: %s needs an integer in [%d, %d], got '%s'\n", name, lo, hi, s ? s : "");
        return -1;
    }
    *out = (int)v;
    return 0;
}

static int parse_args(int argc, char **argv, opts *o)
{
    *o = (opts){ .listen = "0.0.0.0:443", .tls_dir = "/var/lib/llmbox/tls", .key_file = "/var/lib/llmbox/api.key",
                 .parallel = 4, .queue = 64, .batch = 512 };
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int rc = 0;
        if (!strcmp(a, "--version")) {
            printf("llmboxd %s\n", LLMBOX_VERSION);
            exit(0);
        } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            exit(0);
        } else if (!strcmp(a, "--metrics-open")) {
            o->metrics_open = true;
            continue;
        } else if (!strcmp(a, "--debug")) {
            o->debug = true;
            continue;
        }
        if (!v) {
            fprintf(stderr, "llmboxd: %s needs a value (or is unknown)\n", a);
            return -1;
        }
        if (!strcmp(a, "--model"))
            o->model = v;
        else if (!strcmp(a, "--listen"))
            o->listen = v;
        else if (!strcmp(a, "--tls-dir"))
            o->tls_dir = v;
        else if (!strcmp(a, "--api-key-file"))
            o->key_file = v;
        else if (!strcmp(a, "--hugetlb-dir"))
            o->hugetlb_dir = v;
        else if (!strcmp(a, "--power"))
            o->power = v;
        else if (!strcmp(a, "--power-idle-ms"))
            rc = parse_int(v, 0, 3600000, a, &o->power_idle_ms);
        else if (!strcmp(a, "--sysfs-root"))
            o->sysfs_root = v;
        else if (!strcmp(a, "--parallel"))
            rc = parse_int(v, 1, 64, a, &o->parallel);
        else if (!strcmp(a, "--queue"))
            rc = parse_int(v, 0, 4096, a, &o->queue);
        else if (!strcmp(a, "--ctx"))
            rc = parse_int(v, 0, 1 << 20, a, &o->ctx);
        else if (!strcmp(a, "--batch"))
            rc = parse_int(v, 1, 8192, a, &o->batch);
        else if (!strcmp(a, "--max-body-kib"))
            rc = parse_int(v, 1, 1 << 20, a, &o->max_body_kib);
        else if (!strcmp(a, "--max-conns"))
            rc = parse_int(v, 1, 65536, a, &o->max_conns);
        else if (!strcmp(a, "--header-timeout-ms"))
            rc = parse_int(v, 100, 600000, a, &o->header_timeout_ms);
        else if (!strcmp(a, "-t") || !strcmp(a, "--threads"))
            rc = parse_int(v, 0, 1024, a, &o->threads);
        else {
            fprintf(stderr, "llmboxd: unknown option %s\n", a);
            return -1;
        }
        if (rc)
            return -1;
        i++;
    }
    if (!o->model) {
        fprintf(stderr, "llmboxd: --model FILE is required\n");
        return -1;
    }
    if (o->power && strcmp(o->power, "performance") && strcmp(o->power, "balanced") && strcmp(o->power, "powersave")) {
        fprintf(stderr, "llmboxd: --power must be performance, balanced or powersave\n");
        return -1;
    }
    if (o->batch < o->parallel)
        o->batch = o->parallel;
    return 0;
}

/* mkdir -p for the directory part of path (or path itself when is_dir). */
static void make_dirs(const char *path, bool is_dir)
{
    char buf[PATH_MAX];
    snprintf(buf, sizeof buf, "%s", path);
    if (!is_dir) {
        char *slash = strrchr(buf, '/');
        if (!slash || slash == buf)
            return;
        *slash = 0;
    }
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        mkdir(buf, 0700);
        *p = '/';
    }
    mkdir(buf, 0700);
}

typedef struct service {
    opts o;
    lb_api api;
    lb_server *server;
    lb_model *model;
    lb_ctx *ctx;
    lb_sched *sched;
    pthread_t loader;
    bool load_failed;
} service;

static void *load_main(void *arg)
{
    service *sv = arg;
    lb_err err = { 0 };
    lb_load_opts lo = LB_LOAD_OPTS_DEFAULT;
    lo.hugetlb_dir = sv->o.hugetlb_dir;
    int rc = lb_model_load(sv->o.model, &lo, &sv->model, &err);
    if (rc == LB_OK) {
        lb_ctx_params cp = { .n_ctx = sv->o.ctx, .n_seq = sv->o.parallel, .n_batch = sv->o.batch,
                             .n_threads = sv->o.threads };
        rc = lb_ctx_new(sv->model, &cp, &sv->ctx, &err);
    }
    if (rc == LB_OK) {
        lb_sched_ops ops = lb_sched_engine_ops(sv->ctx, lb_model_vocab(sv->model));
        lb_sched_config sc = { .n_slots = sv->o.parallel, .n_ctx = lb_ctx_n_ctx(sv->ctx), .n_batch = sv->o.batch,
                               .max_queue = sv->o.queue };
        rc = lb_sched_new(&sc, &ops, &sv->sched, &err);
    }
    if (rc == LB_OK)
        rc = lb_api_set_model(&sv->api, sv->model, sv->sched, lb_ctx_n_ctx(sv->ctx), sv->o.model, &err);
    if (rc != LB_OK) {
        LOG_ERR("cannot serve model %s: %s", sv->o.model, err.msg);
        sv->load_failed = true;
        lb_server_stop(sv->server);
        return NULL;
    }
    lb_model_info info;
    lb_model_get_info(sv->model, &info);
    LOG_INFO("ready: model %s (%s, %d layers, %.1f MiB weights in %s), %d slots x %d positions, loaded in %.0f ms",
             sv->api.model_id, info.arch, info.n_layer, info.weight_bytes / 1048576.0, info.weights_memory,
             sv->o.parallel, lb_ctx_n_ctx(sv->ctx), info.load_ms);
    return NULL;
}

/* Signals are taken by one thread with sigwait, so the stop runs outside a signal handler. */
static void *signal_main(void *arg)
{
    service *sv = arg;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    int sig = 0;
    if (sigwait(&set, &sig) == 0) {
        LOG_INFO("%s: stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
        lb_server_stop(sv->server);
    }
    return NULL;
}

static void print_urls(const char *listen, int port)
{
    if (strncmp(listen, "0.0.0.0:", 8) != 0) {
        char host[128];
        snprintf(host, sizeof host, "%s", listen);
        char *colon = strrchr(host, ':');
        if (colon)
            *colon = 0;
        LOG_INFO("API: https://%s:%d/v1", host, port);
        return;
    }
    struct ifaddrs *ifs = NULL, *i;
    int shown = 0;
    if (getifaddrs(&ifs) == 0) {
        for (i = ifs; i; i = i->ifa_next) {
            if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET)
                continue;
            char a[INET_ADDRSTRLEN];
            inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, a, sizeof a);
            LOG_INFO("API: https://%s:%d/v1", a, port);
            shown++;
        }
        freeifaddrs(ifs);
    }
    if (!shown)
        LOG_INFO("API: https://<this machine>:%d/v1", port);
}

int main(int argc, char **argv)
{
    service sv = { 0 };
    if (parse_args(argc, argv, &sv.o) != 0) {
        usage(stderr);
        return 2;
    }
    lb_log_init("llmboxd", sv.o.debug ? LB_LOG_DEBUG : LB_LOG_INFO);
    LOG_INFO("llmboxd %s starting", LLMBOX_VERSION);
    signal(SIGPIPE, SIG_IGN);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);  /* every thread inherits this; signal_main takes them */

    int status = 1;
    lb_err err = { 0 };
    char key[LB_APIKEY_MAX];
    bool generated = false;
    make_dirs(sv.o.key_file, false);
    if (lb_apikey_load(sv.o.key_file, key, &generated, &err) != LB_OK) {
        LOG_ERR("%s", err.msg);
        return 1;
    }
    sv.api.api_key = key;
    sv.api.metrics_open = sv.o.metrics_open;
    sv.api.metrics = lb_metrics_new();
    sv.api.under_init = lb_api_detect_init();
    if (!sv.api.metrics) {
        LOG_ERR("out of memory");
        return 1;
    }
    lb_api_power power;
    lb_power_cli_config pcfg = { .policy = sv.o.power, .idle_delay_ms = (unsigned)sv.o.power_idle_ms,
                                 .sys_root = sv.o.sysfs_root };
    if (lb_api_power_open(&power, &pcfg, &err) != LB_OK) {
        LOG_ERR("%s", err.msg);
        return 1;
    }
    sv.api.power = &power;
    lb_metrics_set_extra(sv.api.metrics, lb_api_power_metrics, &sv.api);

    char hostname[64] = "llmbox";
    gethostname(hostname, sizeof hostname - 1);
    make_dirs(sv.o.tls_dir, true);
    lb_server_config cfg = { .listen = sv.o.listen, .tls_dir = sv.o.tls_dir, .hostname = hostname,
                             .handler = lb_api_handle, .ud = &sv.api };
    cfg.limits.max_body_bytes = (size_t)sv.o.max_body_kib * 1024;  /* zeros keep the defaults */
    cfg.limits.max_conns = sv.o.max_conns;
    cfg.limits.header_timeout_ms = sv.o.header_timeout_ms;
    if (lb_server_new(&cfg, &sv.server, &err) != LB_OK) {
        LOG_ERR("cannot start the HTTPS server: %s", err.msg);
        goto out;
    }
    print_urls(sv.o.listen, lb_server_port(sv.server));
    LOG_INFO("listening on %s (port %d)", sv.o.listen, lb_server_port(sv.server));
    LOG_INFO("TLS certificate SHA-256 fingerprint: %s", lb_server_fingerprint(sv.server));
    if (generated)
        LOG_INFO("new API key (stored in %s, shown only now): %s", sv.o.key_file, key);
    else
        LOG_INFO("API key: from %s", sv.o.key_file);

    pthread_t sig_thread;
    pthread_create(&sig_thread, NULL, signal_main, &sv);
    pthread_detach(sig_thread);
    if (pthread_create(&sv.loader, NULL, load_main, &sv) != 0) {
        LOG_ERR("cannot start the loader thread");
        goto out;
    }
    if (lb_server_run(sv.server, &err) != LB_OK)
        LOG_ERR("server: %s", err.msg);
    pthread_join(sv.loader, NULL);
    status = sv.load_failed ? 1 : 0;
    /* Let running generations finish for a moment, then fail what remains. */
    for (int i = 0; sv.sched && i < 30; i++) {  /* init waits 5 s before SIGKILL */
        lb_sched_stats st;
        lb_sched_get_stats(sv.sched, &st);
        if (st.slots_busy == 0 && st.queue_depth == 0)
            break;
        usleep(100000);
    }
    lb_sched_shutdown(sv.sched);
out:
    if (sv.server)
        lb_server_free(sv.server);  /* joins the connection threads */
    lb_sched_free(sv.sched);
    lb_api_free(&sv.api);
    if (sv.ctx)
        lb_ctx_free(sv.ctx);
    if (sv.model)
        lb_model_free(sv.model);
    lb_metrics_free(sv.api.metrics);
    lb_api_power_close(&power);  /* CPU settings back as found */
    LOG_INFO("stopped");
    return status;
}
