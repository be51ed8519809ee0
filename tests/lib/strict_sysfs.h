/* An lb_sysfs_ops layer over a fake tree that refuses what the kernel refuses, so tests
 * catch wrong write orders: scaling_min_freq above scaling_max_freq (and the reverse),
 * an EPP other than "performance" under the performance governor (intel_pstate), and
 * any path containing one of the `readonly` substrings (EACCES, as a read-only file would
 * even for root). Header-only; one static instance per test file. */
#ifndef LB_STRICT_SYSFS_H
#define LB_STRICT_SYSFS_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sysfs.h"

typedef struct strict_fs {
    const char *readonly[4];
    int writes, refused;
    long grant_cap;  /* >0: nr_hugepages writes are capped here (a fragmented kernel) */
} strict_fs;

static int strict_plain_read(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -errno;
    ssize_t r = read(fd, buf, cap - 1);
    int e = errno;
    close(fd);
    if (r < 0)
        return -e;
    buf[r] = 0;
    return 0;
}

static int strict_read(void *user, const char *path, char *buf, size_t cap)
{
    (void)user;
    return strict_plain_read(path, buf, cap);
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* Value of a sibling file of path (same directory), or "" */
static const char *sibling(const char *path, const char *name, char *buf, size_t cap)
{
    char p[1024];
    snprintf(p, sizeof p, "%s", path);
    char *slash = strrchr(p, '/');
    if (!slash)
        return "";
    snprintf(slash + 1, sizeof p - (size_t)(slash + 1 - p), "%s", name);
    if (strict_plain_read(p, buf, cap) != 0)
        return "";
    size_t n = strlen(buf);
    while (n && buf[n - 1] == '\n')
        buf[--n] = 0;
    return buf;
}

static int strict_write(void *user, const char *path, const char *value)
{
    strict_fs *s = user;
    char buf[128];
    s->writes++;
    for (int i = 0; i < 4 && s->readonly[i]; i++)
        if (strstr(path, s->readonly[i]))
            goto refuse_acces;
    if (ends_with(path, "/scaling_min_freq") && atol(value) > atol(sibling(path, "scaling_max_freq", buf, sizeof buf)))
        goto refuse_inval;
    if (ends_with(path, "/scaling_max_freq") && atol(value) < atol(sibling(path, "scaling_min_freq", buf, sizeof buf)))
        goto refuse_inval;
    if (ends_with(path, "/energy_performance_preference") &&
        strcmp(sibling(path, "scaling_governor", buf, sizeof buf), "performance") == 0 &&
        strcmp(value, "performance") != 0) {
        s->refused++;
        return -EBUSY;
    }
    char v[64];
    snprintf(v, sizeof v, "%s", value);
    if (s->grant_cap > 0 && ends_with(path, "/nr_hugepages") && atol(value) > s->grant_cap)
        snprintf(v, sizeof v, "%ld", s->grant_cap);
    if (access(path, F_OK) != 0)
        return -ENOENT;  /* sysfs files cannot be created by writing */
    FILE *f = fopen(path, "w");
    if (!f)
        return -errno;
    fprintf(f, "%s\n", v);
    fclose(f);
    return 0;
refuse_acces:
    s->refused++;
    return -EACCES;
refuse_inval:
    s->refused++;
    return -EINVAL;
}

static strict_fs g_strict;
static const lb_sysfs_ops g_strict_ops = { strict_read, strict_write, &g_strict };

#endif
