/* Model weights kept in a file on hugetlbfs (/dev/hugepages or similar), so a restarted
 * llmboxd maps the same huge pages again instead of rereading and repacking the model.
 * The file is named from the model's path, size and mtime plus the weights size and the
 * variant (how the engine laid the weights out, e.g. repacked or not); a footer
 * written last (after the caller filled the data) marks it complete, and is checked before
 * any reuse. Works on any filesystem (tests use a plain directory); on_hugetlbfs says
 * whether the pages are really huge. */
#ifndef LB_WEIGHTS_CACHE_H
#define LB_WEIGHTS_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

typedef struct lb_weights_cache {
    void *addr;           /* data_len usable bytes at addr */
    size_t data_len;
    size_t map_len;       /* data + footer, rounded to page_size */
    size_t page_size;     /* the filesystem's block size (huge page size on hugetlbfs) */
    bool reused;          /* the data is already there: do not fill it again */
    bool on_hugetlbfs;
    char path[512];
} lb_weights_cache;

/* Opens (reuses when valid) or creates the cache file for model_path in dir with room for
 * data_len bytes. When !c->reused the caller fills c->addr then calls commit. A stale or
 * invalid file is replaced. Other llmbox weight files in dir are removed so their pages
 * return to the pool. */
int lb_weights_cache_open(const char *dir, const char *model_path, size_t data_len, uint32_t variant,
                          lb_weights_cache *c, lb_err *err);
/* Marks the filled data complete (written last, so a crash mid-fill is never reused). */
int lb_weights_cache_commit(lb_weights_cache *c, lb_err *err);
/* Unmaps; the file stays for the next start. */
void lb_weights_cache_unmap(lb_weights_cache *c);
/* Unmaps and deletes the file (a failed load must not leave a half-filled file). */
void lb_weights_cache_discard(lb_weights_cache *c);

/* The file name (no directory) for a model: "llmbox-<hash>.weights". */
int lb_weights_cache_name(const char *model_path, size_t data_len, uint32_t variant, char *buf, size_t cap,
                          lb_err *err);

#endif
