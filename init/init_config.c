#include "init_config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum lb_cfg_key {
    K_MODEL, K_IP, K_PORT, K_PARALLEL, K_CTX, K_THREADS, K_HUGEPAGES, K_POWER, K_DEBUG, K_TEST, K_COUNT
};
static const char *const key_names[K_COUNT] = {
    "model", "ip", "port", "parallel", "ctx", "threads", "hugepages", "power", "debug", "test",
};

void lb_init_config_defaults(lb_init_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->ip_dhcp = true;
    cfg->port = 443;
    cfg->hugepages.mode = LB_HUGEPAGES_AUTO;
    cfg->hugepages.page_size = LB_HUGEPAGE_2M;
}

static int parse_int(const char *s, long lo, long hi, long *out)
{
    if (!*s)
        return -1;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

int lb_parse_ipv4(const char *s, uint32_t *addr)
{
    uint32_t a = 0;
    for (int i = 0; i < 4; i++) {
        if (!isdigit((unsigned char)*s))
            return -1;
        long v = 0;
        int digits = 0;
        while (isdigit((unsigned char)*s) && digits < 4) {
            v = v * 10 + (*s++ - '0');
            digits++;
        }
        if (v > 255 || digits > 3)
            return -1;
        a = (a << 8) | (uint32_t)v;
        if (i < 3 && *s++ != '.')
            return -1;
    }
    if (*s)
        return -1;
    *addr = a;
    return 0;
}

void lb_format_ipv4(uint32_t a, char *buf, int cap)
{
    snprintf(buf, (size_t)cap, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

int lb_parse_ipv4_cidr(const char *s, uint32_t *addr, int *prefix, uint32_t *gw)
{
    char buf[64];
    if (strlen(s) >= sizeof buf)
        return -1;
    strcpy(buf, s);
    char *comma = strchr(buf, ',');
    *gw = 0;
    if (comma) {
        *comma = 0;
        if (lb_parse_ipv4(comma + 1, gw))
            return -1;
    }
    char *slash = strchr(buf, '/');
    if (!slash)
        return -1;
    *slash = 0;
    long p;
    if (lb_parse_ipv4(buf, addr) || parse_int(slash + 1, 1, 32, &p))
        return -1;
    *prefix = (int)p;
    return 0;
}

static int find_key(const char *key)
{
    for (int i = 0; i < K_COUNT; i++)
        if (strcmp(key, key_names[i]) == 0)
            return i;
    return -1;
}

/* Applies one setting; returns NULL or a reason it was rejected. */
static const char *apply(lb_init_config *cfg, int k, const char *v)
{
    long n;
    switch (k) {
    case K_MODEL:
        if (!*v || strlen(v) >= sizeof cfg->model)
            return "empty or too long";
        strcpy(cfg->model, v);
        return NULL;
    case K_IP:
        if (strcmp(v, "dhcp") == 0) {
            cfg->ip_dhcp = true;
            return NULL;
        }
        if (lb_parse_ipv4_cidr(v, &cfg->ip_addr, &cfg->ip_prefix, &cfg->ip_gw))
            return "expected dhcp or ADDR/PREFIX[,GATEWAY]";
        cfg->ip_dhcp = false;
        return NULL;
    case K_PORT:
        if (parse_int(v, 1, 65535, &n))
            return "expected a port 1..65535";
        cfg->port = (int)n;
        return NULL;
    case K_PARALLEL:
    case K_CTX:
    case K_THREADS:
        if (parse_int(v, 1, k == K_CTX ? 1 << 20 : 1024, &n))
            return "expected a positive number";
        *(k == K_PARALLEL ? &cfg->parallel : k == K_CTX ? &cfg->ctx : &cfg->threads) = (int)n;
        return NULL;
    case K_HUGEPAGES:
        if (lb_hugepages_parse(v, &cfg->hugepages, NULL))
            return "expected auto, off, 1G, a page count N or N:1G";
        return NULL;
    case K_POWER:
        if (!*v || strlen(v) >= sizeof cfg->power)
            return "empty or too long";
        for (const char *p = v; *p; p++)
            if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
                return "unexpected character";
        strcpy(cfg->power, v);
        return NULL;
    case K_DEBUG:
    case K_TEST:
        if (parse_int(v, 0, 1, &n))
            return "expected 0 or 1";
        *(k == K_DEBUG ? &cfg->debug : &cfg->test) = (int)n;
        return NULL;
    }
    return "unknown key";
}

/* One KEY=VALUE pair from a source; honours command-line precedence. */
static int set_pair(lb_init_config *cfg, const char *source, bool is_cmdline, const char *key,
                    const char *val, lb_cfg_report_fn report, void *ud)
{
    int k = find_key(key);
    if (k < 0) {
        if (report)
            report(ud, source, key, "unknown key (ignored)");
        return 1;
    }
    if (!is_cmdline && (cfg->from_cmdline & (1u << k)))
        return 0; /* the command line wins */
    const char *why = apply(cfg, k, val);
    if (why) {
        if (report)
            report(ud, source, key, why);
        return 1;
    }
    if (is_cmdline)
        cfg->from_cmdline |= 1u << k;
    return 0;
}

int lb_init_config_parse_cmdline(lb_init_config *cfg, const char *cmdline, lb_cfg_report_fn report, void *ud)
{
    int problems = 0;
    const char *p = cmdline;
    while (*p) {
        while (*p && isspace((unsigned char)*p))
            p++;
        const char *w = p;
        while (*p && !isspace((unsigned char)*p))
            p++;
        size_t len = (size_t)(p - w);
        if (len <= 7 || strncmp(w, "llmbox.", 7) != 0)
            continue;
        char word[512];
        if (len >= sizeof word) {
            if (report)
                report(ud, "cmdline", "llmbox.*", "setting too long (ignored)");
            problems++;
            continue;
        }
        memcpy(word, w + 7, len - 7);
        word[len - 7] = 0;
        char *eq = strchr(word, '=');
        const char *val = "1"; /* a bare flag means on */
        if (eq) {
            *eq = 0;
            val = eq + 1;
        }
        problems += set_pair(cfg, "cmdline", true, word, val, report, ud);
    }
    return problems;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = 0;
    return s;
}

int lb_init_config_parse_conf(lb_init_config *cfg, const char *text, lb_cfg_report_fn report, void *ud)
{
    int problems = 0;
    const char *p = text;
    while (*p) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        char line[512];
        if (len >= sizeof line) {
            if (report)
                report(ud, "llmbox.conf", "?", "line too long (ignored)");
            problems++;
        } else {
            memcpy(line, p, len);
            line[len] = 0;
            char *hash = strchr(line, '#');
            if (hash)
                *hash = 0;
            char *s = trim(line);
            if (*s) {
                char *eq = strchr(s, '=');
                if (!eq) {
                    if (report)
                        report(ud, "llmbox.conf", s, "expected KEY=VALUE (ignored)");
                    problems++;
                } else {
                    *eq = 0;
                    char *key = trim(s), *val = trim(eq + 1);
                    if (strncmp(key, "llmbox.", 7) == 0)
                        key += 7;
                    problems += set_pair(cfg, "llmbox.conf", false, key, val, report, ud);
                }
            }
        }
        p += len;
        if (*p == '\n')
            p++;
    }
    return problems;
}
