#include "log.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static char g_prefix[32] = "llmbox";
static enum lb_log_level g_level = LB_LOG_INFO;
static int g_kmsg_fd = -1;
static FILE *g_stream;
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *level_tag(enum lb_log_level l)
{
    switch (l) {
    case LB_LOG_ERR: return "error";
    case LB_LOG_WARN: return "warn";
    case LB_LOG_INFO: return "info";
    default: return "debug";
    }
}

void lb_log_init(const char *prefix, enum lb_log_level max_level)
{
    snprintf(g_prefix, sizeof g_prefix, "%s", prefix ? prefix : "llmbox");
    g_level = max_level;
}

int lb_log_open_kmsg(const char *path)
{
    if (g_kmsg_fd >= 0) {
        close(g_kmsg_fd);
        g_kmsg_fd = -1;
    }
    if (!path)
        return 0;
    g_kmsg_fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
    return g_kmsg_fd >= 0 ? 0 : -1;
}

void lb_log_set_level(enum lb_log_level max_level) { g_level = max_level; }
enum lb_log_level lb_log_get_level(void) { return g_level; }
void lb_log_set_stream(void *stream) { g_stream = stream; }

void lb_log(enum lb_log_level level, const char *fmt, ...)
{
    if (level > g_level)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    size_t n = strlen(msg);
    while (n && msg[n - 1] == '\n')
        msg[--n] = 0;

    pthread_mutex_lock(&g_lock);
    FILE *out = g_stream ? g_stream : stderr;
    fprintf(out, "%s: %s: %s\n", g_prefix, level_tag(level), msg);
    fflush(out);
    if (g_kmsg_fd >= 0) {
        /* kmsg records are "<level>text"; one write() is one record. */
        char rec[1100];
        int len = snprintf(rec, sizeof rec, "<%d>%s: %s\n", (int)level, g_prefix, msg);
        if (len > 0) {
            ssize_t w = write(g_kmsg_fd, rec, (size_t)len < sizeof rec ? (size_t)len : sizeof rec - 1);
            (void)w; /* kmsg is best effort: the console line above already went out */
        }
    }
    pthread_mutex_unlock(&g_lock);
}
