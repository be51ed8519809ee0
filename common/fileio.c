#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len) {
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

int lb_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode, lb_err *err)
{
    int rc = LB_OK, fd = -1, dfd = -1;
    char tmp[4096], dir[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp)
        return lb_err_set(err, LB_ELIMIT, "%s: path too long", path);
    snprintf(dir, sizeof dir, "%s", path);

    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0) {
        rc = lb_err_set(err, LB_EIO, "%s: create: %s", tmp, strerror(errno));
        goto out;
    }
    if (write_all(fd, data, len) < 0 || fsync(fd) < 0) {
        rc = lb_err_set(err, LB_EIO, "%s: write: %s", tmp, strerror(errno));
        goto out;
    }
    if (close(fd) < 0) {
        fd = -1;
        rc = lb_err_set(err, LB_EIO, "%s: close: %s", tmp, strerror(errno));
        goto out;
    }
    fd = -1;
    if (rename(tmp, path) < 0) {
        rc = lb_err_set(err, LB_EIO, "%s: rename: %s", path, strerror(errno));
        goto out;
    }
    /* The rename is durable only once the directory entry is synced. */
    dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0)
        fsync(dfd);
out:
    if (fd >= 0)
        close(fd);
    if (dfd >= 0)
        close(dfd);
    if (rc != LB_OK)
        unlink(tmp);
    return rc;
}

int lb_read_file(const char *path, size_t max_len, char **out, size_t *out_len, lb_err *err)
{
    int rc = LB_OK;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return lb_err_set(err, errno == ENOENT ? LB_ENOENT : LB_EIO, "%s: %s", path, strerror(errno));
    for (;;) {
        if (len == cap) {
            size_t ncap = cap ? cap * 2 : 4096;
            if (ncap > max_len + 1)
                ncap = max_len + 1;
            if (ncap <= len) {
                rc = lb_err_set(err, LB_ELIMIT, "%s: larger than %zu bytes", path, max_len);
                goto out;
            }
            char *nb = realloc(buf, ncap + 1);
            if (!nb) {
                rc = lb_err_set(err, LB_ENOMEM, "%s: out of memory", path);
                goto out;
            }
            buf = nb;
            cap = ncap;
        }
        ssize_t r = read(fd, buf + len, cap - len);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            rc = lb_err_set(err, LB_EIO, "%s: read: %s", path, strerror(errno));
            goto out;
        }
        if (r == 0)
            break;
        len += (size_t)r;
        if (len > max_len) {
            rc = lb_err_set(err, LB_ELIMIT, "%s: larger than %zu bytes", path, max_len);
            goto out;
        }
    }
    if (!buf && !(buf = malloc(1))) {
        rc = lb_err_set(err, LB_ENOMEM, "%s: out of memory", path);
        goto out;
    }
    buf[len] = 0;
    *out = buf;
    buf = NULL;
    if (out_len)
        *out_len = len;
out:
    free(buf);
    close(fd);
    return rc;
}

int lb_read_text(const char *path, char *buf, size_t cap, lb_err *err)
{
    if (cap == 0)
        return lb_err_set(err, LB_EINVAL, "%s: zero-size buffer", path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return lb_err_set(err, errno == ENOENT ? LB_ENOENT : LB_EIO, "%s: %s", path, strerror(errno));
    ssize_t r;
    do
        r = read(fd, buf, cap - 1);
    while (r < 0 && errno == EINTR);
    int saved = errno;
    close(fd);
    if (r < 0)
        return lb_err_set(err, LB_EIO, "%s: read: %s", path, strerror(saved));
    buf[r] = 0;
    while (r > 0 && (buf[r - 1] == '\n' || buf[r - 1] == ' '))
        buf[--r] = 0;
    return LB_OK;
}

int lb_path_join(char *buf, size_t cap, const char *root, const char *rel)
{
    int n = snprintf(buf, cap, "%s%s%s", root, (rel[0] == '/' || !root[0]) ? "" : "/", rel);
    return (n < 0 || (size_t)n >= cap) ? LB_ELIMIT : LB_OK;
}
