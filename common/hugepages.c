#include "hugepages.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "sysfs.h"

int lb_hugepages_parse(const char *s, lb_hugepages_setting *out, lb_err *err)
{
    lb_hugepages_setting r = { LB_HUGEPAGES_AUTO, 0, LB_HUGEPAGE_2M };
    if (!s || !*s)
        return lb_err_set(err, LB_EINVAL, "hugepages: empty setting");
    if (strcmp(s, "auto") == 0 || strcmp(s, "2M") == 0) {
        *out = r;
        return LB_OK;
    }
    if (strcmp(s, "1G") == 0) {
        r.page_size = LB_HUGEPAGE_1G;
        *out = r;
        return LB_OK;
    }
    if (strcmp(s, "off") == 0) {
        r.mode = LB_HUGEPAGES_OFF;
        *out = r;
        return LB_OK;
    }
    char *end;
    errno = 0;
    long n = strtol(s, &end, 10);
    if (errno || end == s || n < 0 || n > 1000000)
        goto bad;
    if (*end == ':') {
        if (strcmp(end + 1, "1G") == 0)
            r.page_size = LB_HUGEPAGE_1G;
        else if (strcmp(end + 1, "2M") != 0)
            goto bad;
    } else if (*end) {
        goto bad;
    }
    r.mode = n ? LB_HUGEPAGES_COUNT : LB_HUGEPAGES_OFF;
    r.count = n;
    *out = r;
    return LB_OK;
bad:
    return lb_err_set(err, LB_EINVAL, "hugepages=\"%s\": expected auto, off, 1G, 2M, N or N:1G", s);
}

long lb_hugepages_pages_for(uint64_t bytes, size_t page_size)
{
    if (!page_size)
        return 0;
    return (long)((bytes + page_size - 1) / page_size);
}

/* Per-size pool file in sysfs; for the default size also /proc/sys/vm/nr_hugepages. */
static int pool_file(lb_sysfs *fs, size_t page_size, const char *what, char *path, size_t cap)
{
    char rel[128];
    snprintf(rel, sizeof rel, "kernel/mm/hugepages/hugepages-%zukB/%s", page_size / 1024, what);
    if (lb_sysfs_abs(fs, path, cap, rel) != LB_OK)
        return LB_ELIMIT;
    struct stat st;
    if (stat(path, &st) == 0)
        return LB_OK;
    if (page_size == LB_HUGEPAGE_2M && strcmp(what, "nr_hugepages") == 0) {
        /* No per-size directory (old kernel or a minimal fake tree): the proc knob is the
         * default size, 2 MiB on x86. */
        if (lb_procfs_abs(fs, path, cap, "sys/vm/nr_hugepages") == LB_OK && stat(path, &st) == 0)
            return LB_OK;
    }
    return LB_ENOTSUP;
}

static int read_count(lb_sysfs *fs, const char *path, long *out, lb_err *err)
{
    char buf[32], *end;
    int rc = lb_fs_read_abs(fs, path, buf, sizeof buf, err);
    if (rc != LB_OK)
        return rc;
    errno = 0;
    long v = strtol(buf, &end, 10);
    if (errno || end == buf || *end || v < 0)
        return lb_err_set(err, LB_EFORMAT, "%s: not a page count: \"%s\"", path, buf);
    *out = v;
    return LB_OK;
}

int lb_hugepages_reserve_fs(lb_sysfs *fs, long wanted, size_t page_size, long *granted, lb_err *err)
{
    char path[512], val[32];
    long before = 0;
    int rc;
    *granted = 0;
    if (page_size != LB_HUGEPAGE_2M && page_size != LB_HUGEPAGE_1G)
        return lb_err_set(err, LB_EINVAL, "hugepages: page size %zu not supported", page_size);
    if (pool_file(fs, page_size, "nr_hugepages", path, sizeof path) != LB_OK)
        return lb_err_set(err, LB_ENOTSUP, "hugepages: %zu MiB pages not supported by this kernel/CPU",
                          page_size >> 20);
    if ((rc = read_count(fs, path, &before, err)) != LB_OK)
        return rc;
    if (before >= wanted) {
        *granted = before;
        LOG_INFO("hugepages: pool already holds %ld x %zu MiB (need %ld)", before, page_size >> 20, wanted);
        return LB_OK;
    }
    snprintf(val, sizeof val, "%ld", wanted);
    if ((rc = lb_fs_write_abs(fs, path, val, err)) != LB_OK)
        return lb_err_wrap(err, rc, "hugepages: reserving %ld pages", wanted);
    /* The kernel grants what it can find contiguous; the file tells how many that was. */
    if ((rc = read_count(fs, path, granted, err)) != LB_OK)
        return rc;
    if (*granted < wanted)
        LOG_WARN("hugepages: kernel granted %ld of %ld x %zu MiB pages (memory fragmented or short); "
                 "the rest of the weights falls back to normal pages", *granted, wanted, page_size >> 20);
    else
        LOG_INFO("hugepages: reserved %ld x %zu MiB pages (%ld MiB)", *granted, page_size >> 20,
                 (long)((uint64_t)*granted * page_size >> 20));
    return LB_OK;
}

int lb_hugepages_reserve_pages(const char *sys_root, const char *proc_root, long wanted, size_t page_size,
                               long *granted, lb_err *err)
{
    lb_sysfs fs;
    int rc = lb_sysfs_init(&fs, sys_root, proc_root, err);
    if (rc == LB_OK)
        rc = lb_hugepages_reserve_fs(&fs, wanted, page_size, granted, err);
    lb_sysfs_free(&fs);
    return rc;
}

int lb_hugepages_reserve(const char *sys_root, const char *proc_root, uint64_t bytes, size_t page_size,
                         long *granted, lb_err *err)
{
    return lb_hugepages_reserve_pages(sys_root, proc_root, lb_hugepages_pages_for(bytes, page_size), page_size,
                                      granted, err);
}

int lb_hugepages_stats(const char *sys_root, const char *proc_root, size_t page_size, long *total, long *free_pages,
                       lb_err *err)
{
    lb_sysfs fs;
    char path[512];
    int rc = lb_sysfs_init(&fs, sys_root, proc_root, err);
    if (rc != LB_OK)
        return rc;
    *total = *free_pages = 0;
    if (pool_file(&fs, page_size, "nr_hugepages", path, sizeof path) != LB_OK) {
        rc = lb_err_set(err, LB_ENOTSUP, "hugepages: %zu MiB pages not supported", page_size >> 20);
        goto out;
    }
    if ((rc = read_count(&fs, path, total, err)) != LB_OK)
        goto out;
    if (pool_file(&fs, page_size, "free_hugepages", path, sizeof path) == LB_OK)
        rc = read_count(&fs, path, free_pages, err);
out:
    lb_sysfs_free(&fs);
    return rc;
}

int lb_hugepages_model_bytes(const char *model_path, uint64_t *bytes, lb_err *err)
{
    struct stat st;
    if (stat(model_path, &st) != 0)
        return lb_err_set(err, errno == ENOENT ? LB_ENOENT : LB_EIO, "%s: %s", model_path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return lb_err_set(err, LB_EINVAL, "%s: not a regular file", model_path);
    *bytes = (uint64_t)st.st_size;
    return LB_OK;
}
