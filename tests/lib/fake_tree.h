/* Builds fake /sys and /proc trees under a test's temporary directory (header-only). */
#ifndef LB_FAKE_TREE_H
#define LB_FAKE_TREE_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* mkdir -p of the directory part of root/rel (and of rel itself when dir_too). */
static inline void ft_mkdirs(const char *path, int dir_too)
{
    char p[1024];
    snprintf(p, sizeof p, "%s", path);
    size_t n = strlen(p);
    for (size_t i = 1; i < n; i++)
        if (p[i] == '/') {
            p[i] = 0;
            mkdir(p, 0755);
            p[i] = '/';
        }
    if (dir_too)
        mkdir(p, 0755);
}

/* Writes root/rel with printf-formatted content plus a newline (like sysfs shows it). */
static inline void ft_put(const char *root, const char *rel, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static inline void ft_put(const char *root, const char *rel, const char *fmt, ...)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    ft_mkdirs(path, 0);
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "ft_put %s: %s\n", path, strerror(errno));
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    fputc('\n', f);
    fclose(f);
}

static inline void ft_dir(const char *root, const char *rel)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    ft_mkdirs(path, 1);
}

/* Contents of root/rel without the trailing newline ("<missing>" when absent). */
static inline const char *ft_get(const char *root, const char *rel)
{
    static char bufs[8][256];
    static int k;
    char *b = bufs[k++ % 8];
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(b, 256, "<missing>");
        return b;
    }
    size_t n = fread(b, 1, 255, f);
    fclose(f);
    b[n] = 0;
    while (n && (b[n - 1] == '\n' || b[n - 1] == ' '))
        b[--n] = 0;
    return b;
}

/* A fresh subdirectory of the test's temporary directory. */
static inline const char *ft_root(const char *tmp, const char *name)
{
    static char bufs[8][512];
    static int k;
    char *b = bufs[k++ % 8];
    snprintf(b, 512, "%s/%s", tmp, name);
    ft_mkdirs(b, 1);
    return b;
}

#endif
