/* Minimal hugepage reservation for PID 1 (sized from the model file). A fuller shared module
 * (1 GiB pages, hugetlbfs placement, THP fallback) belongs to the power work; this is the
 * small function it can replace. */
#ifndef LB_INIT_HUGEPAGES_H
#define LB_INIT_HUGEPAGES_H

#include <stdint.h>

#include "err.h"

#define LB_HUGEPAGE_BYTES (2u << 20)

/* Pages for a model of `bytes` (rounded up, plus a little for alignment). */
long lb_hugepages_for_bytes(uint64_t bytes);

/* Writes root/proc/sys/vm/nr_hugepages = want, capped at half of MemTotal from
 * root/proc/meminfo; reads back what the kernel actually reserved into *got. */
int lb_hugepages_reserve(const char *root, long want, long *got, lb_err *err);

#endif
