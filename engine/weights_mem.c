#include "weights_mem.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "log.h"

#define HUGE_2M ((size_t)2 << 20)

static size_t round_up(size_t n, size_t a) { return (n + a - 1) / a * a; }

int lb_weights_alloc(size_t len, const lb_load_opts *opts, lb_weights_mem *out, lb_err *err)
{
    memset(out, 0, sizeof *out);
    out->len = len;
    if (len == 0)
        len = 1;
    int want_huge = opts ? opts->hugepages : -1;
    bool lock = opts && opts->mlock;
    if (want_huge != 0) {
        size_t n = round_up(len, HUGE_2M);
        void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_POPULATE, -1, 0);
        if (p != MAP_FAILED) {
            out->ptr = p;
            out->map_len = n;
            out->hugepage_bytes = n;
            snprintf(out->kind, sizeof out->kind, "hugetlb");
            return LB_OK;
        }
        if (want_huge == 1)
            return lb_err_set(err, LB_ENOMEM, "weights: %zu bytes of hugepages required but MAP_HUGETLB failed: %s",
                              n, strerror(errno));
        LOG_DEBUG("weights: no explicit hugepages (%s), using THP", strerror(errno));
    }
    size_t n = round_up(len, HUGE_2M);
    void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return lb_err_set(err, LB_ENOMEM, "weights: mmap of %zu bytes: %s", n, strerror(errno));
    out->ptr = p;
    out->map_len = n;
    bool thp = want_huge != 0 && madvise(p, n, MADV_HUGEPAGE) == 0;
    bool locked = false;
    if (lock) {
        locked = mlock(p, n) == 0;
        if (!locked)
            LOG_WARN("weights: mlock of %zu bytes failed: %s", n, strerror(errno));
    }
    snprintf(out->kind, sizeof out->kind, "%s%s", thp ? "thp" : "heap", locked ? "+mlock" : "");
    return LB_OK;
}

int lb_weights_alloc_for(const char *model_path, size_t len, uint32_t variant, const lb_load_opts *opts,
                         lb_weights_mem *out, lb_err *err)
{
    if (opts && opts->hugetlb_dir && opts->hugepages != 0 && len > 0) {
        lb_err e = { 0 };
        memset(out, 0, sizeof *out);
        if (lb_weights_cache_open(opts->hugetlb_dir, model_path, len, variant, &out->cache, &e) == LB_OK) {
            out->cached = true;
            out->reused = out->cache.reused;
            out->ptr = out->cache.addr;
            out->len = len;
            out->map_len = out->cache.map_len;
            out->hugepage_bytes = out->cache.on_hugetlbfs ? out->cache.map_len : 0;
            snprintf(out->kind, sizeof out->kind, "%s", out->cache.on_hugetlbfs ? "hugetlbfs" : "file");
            return LB_OK;
        }
        if (opts->hugepages == 1)
            return lb_err_set(err, LB_ENOMEM, "weights: %s", e.msg);
        /* Anonymous memory then, locked so it stays resident like hugetlbfs pages would. */
        LOG_WARN("weights: no hugetlbfs file (%s); falling back to transparent hugepages + mlock", e.msg);
        lb_load_opts fallback = *opts;
        fallback.mlock = true;
        return lb_weights_alloc(len, &fallback, out, err);
    }
    return lb_weights_alloc(len, opts, out, err);
}

int lb_weights_commit(lb_weights_mem *m, lb_err *err)
{
    return m->cached ? lb_weights_cache_commit(&m->cache, err) : LB_OK;
}

void lb_weights_free(lb_weights_mem *m)
{
    if (m->cached)
        lb_weights_cache_unmap(&m->cache);  /* the file stays for the next start */
    else if (m->ptr)
        munmap(m->ptr, m->map_len);
    memset(m, 0, sizeof *m);
}
