/* The early mounts PID 1 makes before anything else. */
#ifndef LB_INIT_MOUNTS_H
#define LB_INIT_MOUNTS_H

#include "err.h"
#include "init_sys.h"

/* Creates the mount points below root and mounts devtmpfs, proc, sysfs, tmpfs (/tmp, /run)
 * and hugetlbfs (/dev/hugepages). A failure of an essential mount (dev, proc, sys) is an
 * error; a missing optional one (hugetlbfs) is logged once. */
int lb_init_early_mounts(const char *root, const lb_sys_ops *ops, lb_err *err);

/* mkdir -p for a path below root (mode 0755). */
int lb_mkdirs(const char *root, const char *rel, lb_err *err);

#endif
