#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int lb_cli_fail(int status, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    for (char *p = msg; *p; p++)  /* keep it one line */
        if (*p == '\n')
            *p = ' ';
    fprintf(stderr, "llmbox: %s\n", msg);
    return status;
}

int lb_cli_load_status(int code)
{
    return code == LB_EIO || code == LB_ENOMEM ? 1 : 2;
}

const char *lb_cli_value(int argc, char **argv, int *i)
{
    if (*i + 1 >= argc)
        return NULL;
    return argv[++*i];
}

bool lb_cli_int(const char *s, long min, long max, long *out)
{
    if (!s || !*s)
        return false;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return false;
    *out = v;
    return true;
}

bool lb_cli_float(const char *s, float *out)
{
    if (!s || !*s)
        return false;
    char *end;
    errno = 0;
    float v = strtof(s, &end);
    if (errno || *end || !isfinite(v))
        return false;
    *out = v;
    return true;
}

bool lb_cli_onoff(const char *s, int *out)
{
    if (!strcmp(s, "on") || !strcmp(s, "1")) {
        *out = 1;
        return true;
    }
    if (!strcmp(s, "off") || !strcmp(s, "0")) {
        *out = 0;
        return true;
    }
    return false;
}

int lb_cli_parse_tokens(const char *s, int32_t **out, int *n, lb_err *err)
{
    *out = NULL;
    *n = 0;
    size_t cap = strlen(s) / 2 + 1;
    int32_t *v = malloc(cap * sizeof *v);
    if (!v)
        return lb_err_set(err, LB_ENOMEM, "no memory");
    int k = 0;
    const char *p = s;
    for (;;) {
        while (*p == ' ' || *p == ',' || *p == '\t' || *p == '\n')
            p++;
        if (!*p)
            break;
        char *end;
        errno = 0;
        long t = strtol(p, &end, 10);
        if (end == p || errno || t < 0 || t > INT32_MAX || (*end && *end != ' ' && *end != ',' && *end != '\t' && *end != '\n')) {
            free(v);
            return lb_err_set(err, LB_EINVAL, "--tokens: bad token id near \"%.20s\"", p);
        }
        v[k++] = (int32_t)t;
        p = end;
    }
    if (k == 0) {
        free(v);
        return lb_err_set(err, LB_EINVAL, "--tokens: no token ids");
    }
    *out = v;
    *n = k;
    return LB_OK;
}

int lb_cli_load(const char *path, bool vocab_only, lb_model **out)
{
    lb_load_opts o = LB_LOAD_OPTS_DEFAULT;
    o.vocab_only = vocab_only;
    lb_err err = { 0 };
    int rc = lb_model_load(path, &o, out, &err);
    if (rc)
        return lb_cli_fail(lb_cli_load_status(rc), "%s", err.msg);
    return 0;
}

double lb_cli_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}
