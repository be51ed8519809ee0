#include "sysfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "log.h"

static int plain_read(void *user, const char *path, char *buf, size_t cap)
{
    (void)user;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    ssize_t r;
    do
        r = read(fd, buf, cap - 1);
    while (r < 0 && errno == EINTR);
    int e = errno;
    close(fd);
    if (r < 0)
        return -e;
    buf[r] = 0;
    return 0;
}

/* One write() call: sysfs attributes take the whole value in one go. O_TRUNC keeps fake
 * trees (regular files) honest and is ignored by sysfs. */
static int plain_write(void *user, const char *path, const char *value)
{
    (void)user;
    int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    size_t len = strlen(value);
    ssize_t w;
    do
        w = write(fd, value, len);
    while (w < 0 && errno == EINTR);
    int e = errno;
    if (close(fd) < 0 && w >= 0)
        return -errno;
    if (w < 0)
        return -e;
    return (size_t)w == len ? 0 : -EIO;
}

static const lb_sysfs_ops g_plain_ops = { plain_read, plain_write, NULL };

int lb_sysfs_init(lb_sysfs *fs, const char *sys_root, const char *proc_root, lb_err *err)
{
    memset(fs, 0, sizeof *fs);
    const char *s = sys_root && *sys_root ? sys_root : "/sys";
    const char *p = proc_root && *proc_root ? proc_root : "/proc";
    if (strlen(s) >= sizeof fs->sys_root || strlen(p) >= sizeof fs->proc_root)
        return lb_err_set(err, LB_ELIMIT, "sysfs/proc root path too long");
    snprintf(fs->sys_root, sizeof fs->sys_root, "%s", s);
    snprintf(fs->proc_root, sizeof fs->proc_root, "%s", p);
    return LB_OK;
}

void lb_sysfs_free(lb_sysfs *fs)
{
    for (size_t i = 0; i < fs->nwarned; i++)
        free(fs->warned[i]);
    free(fs->warned);
    fs->warned = NULL;
    fs->nwarned = fs->capwarned = 0;
}

int lb_sysfs_abs(const lb_sysfs *fs, char *buf, size_t cap, const char *rel)
{
    return lb_path_join(buf, cap, fs->sys_root, rel);
}

int lb_procfs_abs(const lb_sysfs *fs, char *buf, size_t cap, const char *rel)
{
    return lb_path_join(buf, cap, fs->proc_root, rel);
}

static const lb_sysfs_ops *ops_of(const lb_sysfs *fs) { return fs->ops ? fs->ops : &g_plain_ops; }

static int code_of(int neg_errno) { return neg_errno == -ENOENT ? LB_ENOENT : LB_EIO; }

int lb_fs_read_abs(lb_sysfs *fs, const char *path, char *buf, size_t cap, lb_err *err)
{
    if (cap < 2)
        return lb_err_set(err, LB_EINVAL, "%s: buffer too small", path);
    const lb_sysfs_ops *ops = ops_of(fs);
    int r = ops->read(ops->user, path, buf, cap);
    if (r < 0)
        return lb_err_set(err, code_of(r), "%s: %s", path, strerror(-r));
    size_t n = strlen(buf);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
        buf[--n] = 0;
    return LB_OK;
}

int lb_fs_write_abs(lb_sysfs *fs, const char *path, const char *value, lb_err *err)
{
    const lb_sysfs_ops *ops = ops_of(fs);
    int r = ops->write(ops->user, path, value);
    if (r < 0)
        return lb_err_set(err, code_of(r), "%s: writing \"%s\": %s", path, value, strerror(-r));
    return LB_OK;
}

int lb_sysfs_read(lb_sysfs *fs, const char *rel, char *buf, size_t cap, lb_err *err)
{
    char path[512];
    if (lb_sysfs_abs(fs, path, sizeof path, rel) != LB_OK)
        return lb_err_set(err, LB_ELIMIT, "%s: path too long", rel);
    return lb_fs_read_abs(fs, path, buf, cap, err);
}

static int parse_long(const char *s, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end)
        return LB_EFORMAT;
    *out = v;
    return LB_OK;
}

int lb_sysfs_read_long(lb_sysfs *fs, const char *rel, long *out, lb_err *err)
{
    char buf[64];
    int rc = lb_sysfs_read(fs, rel, buf, sizeof buf, err);
    if (rc != LB_OK)
        return rc;
    if (parse_long(buf, out) != LB_OK)
        return lb_err_set(err, LB_EFORMAT, "%s: not a number: \"%s\"", rel, buf);
    return LB_OK;
}

int lb_sysfs_read_u64(lb_sysfs *fs, const char *rel, uint64_t *out, lb_err *err)
{
    char buf[64];
    int rc = lb_sysfs_read(fs, rel, buf, sizeof buf, err);
    if (rc != LB_OK)
        return rc;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(buf, &end, 10);
    if (errno || end == buf || *end || buf[0] == '-')
        return lb_err_set(err, LB_EFORMAT, "%s: not a number: \"%s\"", rel, buf);
    *out = v;
    return LB_OK;
}

bool lb_sysfs_exists(const lb_sysfs *fs, const char *rel)
{
    char path[512];
    struct stat st;
    return lb_sysfs_abs(fs, path, sizeof path, rel) == LB_OK && stat(path, &st) == 0;
}

/* Returns true the first time a path is seen (and remembers it). */
static bool first_time(lb_sysfs *fs, const char *path)
{
    for (size_t i = 0; i < fs->nwarned; i++)
        if (strcmp(fs->warned[i], path) == 0)
            return false;
    if (fs->nwarned == fs->capwarned) {
        size_t ncap = fs->capwarned ? fs->capwarned * 2 : 16;
        char **n = realloc(fs->warned, ncap * sizeof *n);
        if (!n)
            return true;  /* cannot remember: still report */
        fs->warned = n;
        fs->capwarned = ncap;
    }
    char *copy = strdup(path);
    if (copy)
        fs->warned[fs->nwarned++] = copy;
    return true;
}

void lb_sysfs_warn_once(lb_sysfs *fs, const char *rel, const char *fmt, ...)
{
    if (!first_time(fs, rel))
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fs->warnings++;
    LOG_WARN("%s (skipped from now on)", msg);
}

int lb_sysfs_try_write(lb_sysfs *fs, const char *rel, const char *value, const char *what)
{
    char path[512];
    lb_err e = { 0 };
    int rc;
    if (lb_sysfs_abs(fs, path, sizeof path, rel) != LB_OK)
        rc = lb_err_set(&e, LB_ELIMIT, "%s: path too long", rel);
    else
        rc = lb_fs_write_abs(fs, path, value, &e);
    if (rc != LB_OK)
        lb_sysfs_warn_once(fs, rel, "power: cannot set %s: %s", what, e.msg);
    return rc;
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

int lb_sysfs_list_indices(const lb_sysfs *fs, const char *rel_dir, const char *prefix, int *out, int max)
{
    char path[512];
    if (lb_sysfs_abs(fs, path, sizeof path, rel_dir) != LB_OK)
        return 0;
    DIR *d = opendir(path);
    if (!d)
        return 0;
    size_t plen = strlen(prefix);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        const char *s = e->d_name;
        if (strncmp(s, prefix, plen) != 0)
            continue;
        s += plen;
        if (!*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 6)
            continue;
        if (n < max)
            out[n] = atoi(s);
        n++;
    }
    closedir(d);
    qsort(out, (size_t)(n < max ? n : max), sizeof *out, cmp_int);
    return n;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int lb_sysfs_list_names(const lb_sysfs *fs, const char *rel_dir,
                        int (*fn)(void *user, const char *name), void *user)
{
    char path[512];
    if (lb_sysfs_abs(fs, path, sizeof path, rel_dir) != LB_OK)
        return 0;
    DIR *d = opendir(path);
    if (!d)
        return 0;
    char **names = NULL;
    size_t n = 0, cap = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 32;
            char **nn = realloc(names, ncap * sizeof *nn);
            if (!nn)
                break;
            names = nn;
            cap = ncap;
        }
        if (!(names[n] = strdup(e->d_name)))
            break;
        n++;
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp_str);
    int visited = 0;
    bool stop = false;
    for (size_t i = 0; i < n; i++) {
        if (!stop) {
            visited++;
            stop = fn(user, names[i]) != 0;
        }
        free(names[i]);
    }
    free(names);
    return visited;
}
