#include "weights_cache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "log.h"

#define HUGETLBFS_MAGIC_ 0x958458f6
#define FOOTER_MAGIC "LBWCACHE"
#define FOOTER_VERSION 1u
#define COMPLETE_MARK 0x434f4d504c455445ull  /* "COMPLETE" */

/* At the end of the mapping; `complete` is written last. */
typedef struct footer {
    char magic[8];
    uint32_t version, pad;
    uint64_t key;          /* hash of path, size, mtime, data_len, variant */
    uint64_t model_size;
    int64_t mtime_sec, mtime_nsec;
    uint64_t data_len;
    uint64_t complete;
} footer;

static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

typedef struct model_id {
    char real[PATH_MAX];
    struct stat st;
    uint64_t key;
} model_id;

static int identify(const char *model_path, size_t data_len, uint32_t variant, model_id *id, lb_err *err)
{
    if (!realpath(model_path, id->real) || stat(id->real, &id->st) != 0)
        return lb_err_set(err, errno == ENOENT ? LB_ENOENT : LB_EIO, "%s: %s", model_path, strerror(errno));
    uint64_t h = 0xcbf29ce484222325ull;
    h = fnv1a(h, id->real, strlen(id->real));
    int64_t f[5] = { (int64_t)id->st.st_size, (int64_t)id->st.st_mtim.tv_sec, (int64_t)id->st.st_mtim.tv_nsec,
                     (int64_t)data_len, (int64_t)variant };
    id->key = fnv1a(h, f, sizeof f);
    return LB_OK;
}

int lb_weights_cache_name(const char *model_path, size_t data_len, uint32_t variant, char *buf, size_t cap,
                          lb_err *err)
{
    model_id id;
    int rc = identify(model_path, data_len, variant, &id, err);
    if (rc != LB_OK)
        return rc;
    if ((size_t)snprintf(buf, cap, "llmbox-%016llx.weights", (unsigned long long)id.key) >= cap)
        return lb_err_set(err, LB_ELIMIT, "weights cache: name buffer too small");
    return LB_OK;
}

static footer *footer_of(const lb_weights_cache *c)
{
    return (footer *)((char *)c->addr + c->map_len - sizeof(footer));
}

static bool footer_valid(const footer *f, const model_id *id, size_t data_len)
{
    return memcmp(f->magic, FOOTER_MAGIC, 8) == 0 && f->version == FOOTER_VERSION && f->key == id->key &&
           f->model_size == (uint64_t)id->st.st_size && f->mtime_sec == (int64_t)id->st.st_mtim.tv_sec &&
           f->mtime_nsec == (int64_t)id->st.st_mtim.tv_nsec && f->data_len == data_len &&
           f->complete == COMPLETE_MARK;
}

/* Frees the huge pages of other models' (or older versions') files. */
static void remove_stale(const char *dir, const char *keep)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    for (struct dirent *e; (e = readdir(d));) {
        size_t n = strlen(e->d_name);
        if (strncmp(e->d_name, "llmbox-", 7) != 0 || n < 8 || strcmp(e->d_name + n - 8, ".weights") != 0 ||
            strcmp(e->d_name, keep) == 0)
            continue;
        char p[1024];
        if ((size_t)snprintf(p, sizeof p, "%s/%s", dir, e->d_name) < sizeof p && unlink(p) == 0)
            LOG_INFO("weights cache: removed stale %s", p);
    }
    closedir(d);
}

int lb_weights_cache_open(const char *dir, const char *model_path, size_t data_len, uint32_t variant,
                          lb_weights_cache *c, lb_err *err)
{
    int rc = LB_OK, fd = -1;
    model_id id;
    char name[64];
    struct statfs sfs;
    struct stat st;
    memset(c, 0, sizeof *c);
    if (data_len == 0)
        return lb_err_set(err, LB_EINVAL, "weights cache: empty weights");
    if ((rc = identify(model_path, data_len, variant, &id, err)) != LB_OK)
        return rc;
    snprintf(name, sizeof name, "llmbox-%016llx.weights", (unsigned long long)id.key);
    if ((size_t)snprintf(c->path, sizeof c->path, "%s/%s", dir, name) >= sizeof c->path)
        return lb_err_set(err, LB_ELIMIT, "weights cache: %s: path too long", dir);
    if (statfs(dir, &sfs) != 0)
        return lb_err_set(err, errno == ENOENT ? LB_ENOENT : LB_EIO, "weights cache: %s: %s", dir, strerror(errno));
    c->on_hugetlbfs = (unsigned long)sfs.f_type == HUGETLBFS_MAGIC_;
    c->page_size = sfs.f_bsize > 0 ? (size_t)sfs.f_bsize : 4096;
    if (data_len > SIZE_MAX - sizeof(footer) - c->page_size)
        return lb_err_set(err, LB_ELIMIT, "weights cache: %zu bytes too large", data_len);
    c->data_len = data_len;
    c->map_len = (data_len + sizeof(footer) + c->page_size - 1) / c->page_size * c->page_size;
    remove_stale(dir, name);

    fd = open(c->path, O_RDWR | O_CLOEXEC);
    if (fd >= 0 && fstat(fd, &st) == 0 && (uint64_t)st.st_size == c->map_len) {
        c->addr = mmap(NULL, c->map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
        if (c->addr == MAP_FAILED) {
            c->addr = NULL;
        } else if (footer_valid(footer_of(c), &id, data_len)) {
            c->reused = true;
            LOG_INFO("weights cache: reusing %s (%zu MiB%s)", c->path, c->map_len >> 20,
                     c->on_hugetlbfs ? " on huge pages" : "");
            goto out;
        }
    }
    /* Missing, wrong size, half-filled or for another model version: start over. */
    if (c->addr) {
        munmap(c->addr, c->map_len);
        c->addr = NULL;
    }
    if (fd >= 0) {
        close(fd);
        fd = -1;
        LOG_INFO("weights cache: %s is stale or incomplete: rebuilding", c->path);
    }
    unlink(c->path);
    fd = open(c->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        rc = lb_err_set(err, LB_EIO, "weights cache: create %s: %s", c->path, strerror(errno));
        goto out;
    }
    /* On hugetlbfs, ftruncate sets the size; pages are taken from the pool at fault time, so
     * MAP_POPULATE makes a short pool fail here (SIGBUS later would be worse). */
    if (ftruncate(fd, (off_t)c->map_len) != 0) {
        rc = lb_err_set(err, LB_EIO, "weights cache: size %s: %s", c->path, strerror(errno));
        goto out;
    }
    c->addr = mmap(NULL, c->map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
    if (c->addr == MAP_FAILED) {
        c->addr = NULL;
        rc = lb_err_set(err, LB_ENOMEM, "weights cache: map %zu MiB of %s: %s", c->map_len >> 20, c->path,
                        strerror(errno));
        goto out;
    }
    if (c->on_hugetlbfs && mlock(c->addr, c->map_len) != 0 && errno == ENOMEM) {
        /* hugetlbfs pages are never swapped; a failed mlock just means the pool ran short. */
        rc = lb_err_set(err, LB_ENOMEM, "weights cache: not enough huge pages for %zu MiB", c->map_len >> 20);
        goto out;
    }
    footer *f = footer_of(c);
    memset(f, 0, sizeof *f);
    memcpy(f->magic, FOOTER_MAGIC, 8);
    f->version = FOOTER_VERSION;
    f->key = id.key;
    f->model_size = (uint64_t)id.st.st_size;
    f->mtime_sec = (int64_t)id.st.st_mtim.tv_sec;
    f->mtime_nsec = (int64_t)id.st.st_mtim.tv_nsec;
    f->data_len = data_len;
out:
    if (fd >= 0)
        close(fd);  /* the mapping keeps the file alive */
    if (rc != LB_OK) {
        if (c->addr)
            munmap(c->addr, c->map_len);
        c->addr = NULL;
        unlink(c->path);
    }
    return rc;
}

int lb_weights_cache_commit(lb_weights_cache *c, lb_err *err)
{
    if (!c->addr)
        return lb_err_set(err, LB_EINVAL, "weights cache: not open");
    if (c->reused)
        return LB_OK;
    __atomic_store_n(&footer_of(c)->complete, COMPLETE_MARK, __ATOMIC_RELEASE);
    /* Harmless on hugetlbfs (memory only); makes a plain-file cache durable. */
    if (!c->on_hugetlbfs && msync(c->addr, c->map_len, MS_SYNC) != 0)
        return lb_err_set(err, LB_EIO, "weights cache: sync %s: %s", c->path, strerror(errno));
    return LB_OK;
}

void lb_weights_cache_unmap(lb_weights_cache *c)
{
    if (c->addr)
        munmap(c->addr, c->map_len);
    c->addr = NULL;
}

void lb_weights_cache_discard(lb_weights_cache *c)
{
    lb_weights_cache_unmap(c);
    if (c->path[0])
        unlink(c->path);
}
