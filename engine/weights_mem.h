/* Memory for model weights: explicit hugepages when available, else anonymous memory with
 * transparent hugepages (optionally locked). One place so persistence (hugetlbfs files that
 * survive a service restart) can be added here without touching the loader. */
#ifndef LB_WEIGHTS_MEM_H
#define LB_WEIGHTS_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "err.h"
#include "weights_cache.h"

typedef struct lb_weights_mem {
    void *ptr;
    size_t len;            /* requested bytes */
    size_t map_len;        /* mapped bytes (rounded to the page size used) */
    char kind[32];         /* "hugetlb", "thp+mlock", "thp", "heap", ... (lb_model_info.weights_memory) */
    uint64_t hugepage_bytes;
    bool reused;           /* hugetlbfs file already holds this model's weights: do not fill */
    bool cached;           /* memory is the hugetlbfs file in `cache` */
    lb_weights_cache cache;
} lb_weights_mem;

/* Allocates len bytes per opts (hugepages -1 try, 0 off, 1 require; mlock). */
int lb_weights_alloc(size_t len, const lb_load_opts *opts, lb_weights_mem *out, lb_err *err);
void lb_weights_free(lb_weights_mem *m);

/* With opts->hugetlb_dir: the weights live in a file there named after model_path (size,
 * mtime, the layout variant), so a restarted service maps them again (out->reused: skip filling). Otherwise, or
 * when that fails (reported), the same as lb_weights_alloc. */
int lb_weights_alloc_for(const char *model_path, size_t len, uint32_t variant, const lb_load_opts *opts,
                         lb_weights_mem *out, lb_err *err);
/* After filling: marks a hugetlbfs file complete (no-op otherwise). */
int lb_weights_commit(lb_weights_mem *m, lb_err *err);

#endif
