/* Explicit hugepage reservation (the kernel's hugetlb pool), sized from a model file.
 * Used by init at boot (llmbox.hugepages=) and by llmboxd/llmbox before loading weights. */
#ifndef LB_HUGEPAGES_H
#define LB_HUGEPAGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "sysfs.h"

#define LB_HUGEPAGE_2M (2u * 1024 * 1024)
#define LB_HUGEPAGE_1G (1024u * 1024 * 1024)

typedef enum lb_hugepages_mode {
    LB_HUGEPAGES_OFF = 0,
    LB_HUGEPAGES_AUTO,     /* size the pool from the model file */
    LB_HUGEPAGES_COUNT,    /* exactly `count` pages */
} lb_hugepages_mode;

typedef struct lb_hugepages_setting {
    lb_hugepages_mode mode;
    long count;            /* LB_HUGEPAGES_COUNT */
    size_t page_size;      /* LB_HUGEPAGE_2M or LB_HUGEPAGE_1G */
} lb_hugepages_setting;

/* Parses llmbox.hugepages=: "auto", "off" (or "0"), "N" (2 MiB pages), "2M", "1G" (auto
 * with that page size), "N:1G" / "N:2M". */
int lb_hugepages_parse(const char *s, lb_hugepages_setting *out, lb_err *err);

/* Pages of page_size needed to hold bytes (rounded up). */
long lb_hugepages_pages_for(uint64_t bytes, size_t page_size);

/* Grows the hugetlb pool of page_size so it holds at least `bytes` (never shrinks it: a
 * restarted service may be using pages already), then reads back what the kernel granted.
 * Roots NULL = /sys and /proc. Partial grants are reported (LOG_WARN) and return LB_OK
 * with *granted < wanted; LB_ENOTSUP when the page size is not supported. */
int lb_hugepages_reserve(const char *sys_root, const char *proc_root, uint64_t bytes, size_t page_size,
                         long *granted, lb_err *err);
/* The same for a page count (llmbox.hugepages=N). */
int lb_hugepages_reserve_pages(const char *sys_root, const char *proc_root, long pages, size_t page_size,
                               long *granted, lb_err *err);

/* The same through a sysfs context (tests inject the kernel's partial grants). */
int lb_hugepages_reserve_fs(lb_sysfs *fs, long pages, size_t page_size, long *granted, lb_err *err);

/* Pool size and free pages of page_size now. */
int lb_hugepages_stats(const char *sys_root, const char *proc_root, size_t page_size, long *total, long *free_pages,
                       lb_err *err);

/* Size of the model file, for auto sizing. */
int lb_hugepages_model_bytes(const char *model_path, uint64_t *bytes, lb_err *err);

#endif
